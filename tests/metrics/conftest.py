"""Fixtures of the platform-metrics tests: catalog requests filed through the real services, then
moved to hand-chosen times, so that every metric can be checked against values worked out by
hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from catalog.models import Approval, Request, RequestTransition
from catalog.services import request_approve, request_mark_ready, request_reject, request_submit
from core import request_counts
from tests.catalog.conftest import gadget, widget  # noqa: F401 (fixtures used here)

DAY = datetime(2026, 1, 7, tzinfo=UTC)  # the period most tests measure: Wednesday 7 January
AFTER = DAY + timedelta(days=1, minutes=5)  # "now" for a period that is over
_names = count(1)


def moment(hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


@pytest.fixture(autouse=True)
def _no_api_counts_in_memory():
    """API requests other tests made are counted in memory; start from none."""
    request_counts.reset()
    yield
    request_counts.reset()


def retime(request: Request, times: dict[str, datetime]) -> Request:
    """Move the request's transitions (by the state they entered), its filing and its approvals
    (to the end of its wait) to `times`."""
    for state, at in times.items():
        RequestTransition.objects.filter(request=request, to_state=state).update(created_at=at)
    if "submitted" in times:
        Request.objects.filter(pk=request.pk).update(created_at=times["submitted"])
    decided = times.get("approved") or times.get("rejected")
    if decided:
        Approval.objects.filter(request=request).update(created_at=decided)
    return Request.objects.get(pk=request.pk)


@pytest.fixture
def file_request(bob, team, monkeypatch):
    """File a request through the catalog's services and move it along; then retime it.

    `ready_after` (seconds after filing, or after approval when it waited) makes it ready;
    `wait` (seconds pending) has `approver` approve it, or reject it when `reject` is set. The
    provisioning engine is kept from running the request (Celery is eager in the tests): the
    fixture says when it is ready."""
    from provisioning import tasks

    monkeypatch.setattr(tasks.provision_request, "delay", lambda *args, **kwargs: None)

    def make(
        template: str = "widget",
        *,
        at: datetime,
        requester=None,
        team_=None,
        ready_after: float | None = None,
        wait: float | None = None,
        approver=None,
        reject: bool = False,
        name: str | None = None,
    ) -> Request:
        request = request_submit(
            actor=requester or bob,
            template=template,
            team=team_ or team,
            parameters={"name": name or f"payments-r{next(_names)}"},
        )
        times = {"submitted": at}
        approved_at = at
        if request.state == "pending_approval":
            times["pending_approval"] = at
            approved_at = at + timedelta(seconds=wait or 0)
            if reject:
                request = request_reject(request=request, actor=approver, comment="no")
                times["rejected"] = approved_at
                return retime(request, times)
            request = request_approve(request=request, actor=approver)
        if request.state == "denied":
            times["denied"] = at
            return retime(request, times)
        times.update(approved=approved_at, provisioning=approved_at)
        if ready_after is not None:
            request = request_mark_ready(request=Request.objects.get(pk=request.pk), outputs={})
            times["ready"] = approved_at + timedelta(seconds=ready_after)
        return retime(request, times)

    return make


@pytest.fixture
def scenario(request, file_request, carol, charlie, other_team):
    """One day of requests (7 January 2026), hand-timed:

    payments  widget  R1  filed 00:00,        ready +30 s           (approved at once)
    payments  widget  R2  filed 00:00,        ready +90 s           (approved at once)
    payments  gadget  R3  filed 01:00, pending 20 min, ready +60 s  (1,260 s, 60 s without wait)
    search    widget  R4  filed 02:00,        ready +45 s           (approved at once)
    payments  gadget  R6  filed 03:00, pending 40 min, rejected
    payments  widget  R5  filed 8 January 00:00:05, ready +10 s     (another day)
    """
    for template in ("widget", "gadget"):
        request.getfixturevalue(template)
    return {
        "R1": file_request("widget", at=moment(), ready_after=30),
        "R2": file_request("widget", at=moment(), ready_after=90),
        "R3": file_request("gadget", at=moment(1), wait=1200, approver=carol, ready_after=60),
        "R4": file_request(
            "widget",
            at=moment(2),
            requester=charlie,
            team_=other_team,
            ready_after=45,
            name="search-r4",
        ),
        "R6": file_request("gadget", at=moment(3), wait=2400, approver=carol, reject=True),
        "R5": file_request("widget", at=moment(24, seconds=5), ready_after=10),
    }
