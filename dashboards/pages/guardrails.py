"""The guardrail sections of the dashboards: unexpected actors and drift on the on-call page,
the count of drifted resources on the executive page."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from dashboards.pages.base import Page
from dashboards.selectors import guardrails
from dashboards.tables import Table, cell, when


def oncall_sections(page: Page, *, user, now: datetime) -> None:
    actors = guardrails.recent_unexpected_actors(user=user, now=now)
    page.context["unexpected_actors"] = len(actors)
    table = page.add_table(
        Table(
            "unexpected-actors",
            "Unexpected actors in the audit trail, last 7 days, newest first (each also a "
            "ticket alert)",
            ["at", "kind", "actor", "team", "what", "audit"],
            empty="No unexpected actor in the last 7 days.",
        )
    )
    audit = reverse("audit:event-list")
    for flagged in actors:
        table.rows.append(
            [
                when(flagged.occurred_at),
                cell(flagged.rule, flagged.get_rule_display(), badge="bad"),
                cell(flagged.actor),
                cell(flagged.team.slug if flagged.team else None),
                cell(flagged.detail),
                cell(
                    flagged.object_id or None,
                    f"#{flagged.event_seq}" if flagged.event_seq else "events",
                    href=f"{audit}?object_id={flagged.object_id}" if flagged.object_id else "",
                ),
            ]
        )
    drifted = guardrails.open_drift(user=user)
    page.context["drifted"] = len(drifted)
    table = page.add_table(
        Table(
            "drift",
            "Resources that no longer match what was provisioned: open one to re-apply its "
            "template version or accept the change",
            ["since", "team", "kind", "resource", "differences", "re-apply"],
            empty="No drift: every resource checked matches what was provisioned.",
        )
    )
    for finding in drifted:
        resource = finding.resource
        table.rows.append(
            [
                when(finding.first_seen_at),
                cell(finding.team.slug if finding.team else None),
                cell(resource.kind),
                cell(
                    resource.name,
                    href=reverse("provisioning:resource-detail", args=[resource.uuid]),
                ),
                cell(
                    len(finding.differences),
                    "; ".join(d["what"] for d in finding.differences),
                ),
                cell(
                    finding.last_error or ("asked" if finding.reapply_requested_at else None),
                    badge="bad" if finding.last_error else "",
                ),
            ]
        )


def executive_count(page: Page, *, user) -> None:
    page.context["drifted"] = guardrails.open_drift_count(user=user)
