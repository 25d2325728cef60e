"""FOCUS CSV files for the tests: rows as dicts over the FOCUS 1.2 mandatory columns."""

from __future__ import annotations

import csv
import io
import json

FOCUS_12 = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "ResourceName",
    "Tags",
]


def charge(
    day: int,
    cost: str,
    *,
    resource: str = "",
    tags: dict | None = None,
    account: str = "acct-1",
    month: int = 1,
    **overrides,
) -> dict:
    """One day's usage charge in 2026-<month> (the billing period is that month)."""
    row = {
        "BilledCost": cost,
        "BillingAccountId": account,
        "BillingAccountName": "Main account",
        "BillingCurrency": "EUR",
        "BillingPeriodStart": f"2026-{month:02d}-01T00:00:00Z",
        "BillingPeriodEnd": f"2026-{month + 1:02d}-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": "compute",
        "ChargePeriodStart": f"2026-{month:02d}-{day:02d}T00:00:00Z",
        "ChargePeriodEnd": f"2026-{month:02d}-{day + 1:02d}T00:00:00Z",
        "ContractedCost": cost,
        "EffectiveCost": cost,
        "InvoiceIssuerName": "Example Cloud",
        "ListCost": cost,
        "PricingQuantity": "24",
        "PricingUnit": "Hours",
        "ProviderName": "Example Cloud",
        "PublisherName": "Example Cloud",
        "ServiceCategory": "Compute",
        "ServiceName": "Virtual Machines",
        "ResourceId": resource,
        "ResourceName": resource,
        "Tags": json.dumps(tags) if tags is not None else "",
    }
    row.update(overrides)
    return row


def focus_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = columns or FOCUS_12
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
