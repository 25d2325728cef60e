"""FOCUS billing files: CSV with the FOCUS 1.2 columns (1.3 columns accepted), Tags as JSON.
No Django imports.

`read_focus` checks the whole file before anything is stored: every mandatory column present,
every number a decimal, every date an ISO 8601 date-time, periods that end after they start,
ChargeCategory and BillingCurrency well formed, Tags a JSON object. A file with any problem is
refused whole; each problem names its row, line and column.

FOCUS 1.3 renamed ProviderName to ServiceProviderName and deprecated PublisherName (now
HostProviderName): either name of each pair is accepted. Columns SSOps does not model (1.3
additions, x_ custom columns…) are kept as they are in `extra`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

# FOCUS 1.2's mandatory columns, less the two that 1.3 renamed (see EITHER).
MANDATORY = (
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
    "ServiceCategory",
    "ServiceName",
)
EITHER = (("ProviderName", "ServiceProviderName"), ("PublisherName", "HostProviderName"))
COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
DECIMALS = frozenset(
    {
        *COSTS,
        "PricingQuantity",
        "ConsumedQuantity",
        "ListUnitPrice",
        "ContractedUnitPrice",
        "CommitmentDiscountQuantity",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    }
)
DATETIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
NOT_NULL = frozenset(
    {
        *COSTS,
        *DATETIMES,
        "BillingAccountId",
        "BillingCurrency",
        "ChargeCategory",
        "ServiceName",
        "ServiceCategory",
        "InvoiceIssuerName",
    }
)
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_CLASSES = ("", "Correction")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# What SSOps stores (DecimalField(max_digits=24, decimal_places=10)).
MAX_ABS = Decimal(10) ** 14
MODELLED = frozenset(
    {
        *MANDATORY,
        "ProviderName",
        "ServiceProviderName",
        "PublisherName",
        "ResourceId",
        "ResourceName",
        "ResourceType",
        "Tags",
    }
)
# The longest text SSOps stores per column (BillingRow's fields; the owner and cost-center tags
# too): a longer value is refused by name rather than failing in the database.
MAX_LENGTHS = {
    "BillingAccountId": 200,
    "BillingAccountName": 200,
    "ServiceName": 200,
    "ServiceCategory": 100,
    "ProviderName": 200,
    "ServiceProviderName": 200,
    "PublisherName": 200,
    "ResourceId": 500,
    "ResourceName": 500,
    "ResourceType": 200,
}
MAX_TAG_LENGTH = 200
MAX_PROBLEMS = 20
# Tag keys, compared in lower case without punctuation ("Cost-Center" = "cost_center").
OWNER_TAGS = ("ssopsteam", "owner", "team")
COST_CENTER_TAGS = ("ssopscostcenter", "costcenter")


@dataclass(frozen=True)
class Problem:
    row: int | None  # data row, from 1; None for the header
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = "header" if self.row is None else f"row {self.row} (line {self.line})"
        return (
            f"{where}, column {self.column}: {self.message}"
            if self.column
            else (f"{where}: {self.message}")
        )


class FocusRefused(ValueError):
    """The file was refused whole; `problems` says where and why."""

    def __init__(self, problems: list[Problem], more: bool = False):
        self.problems = problems
        lines = [str(p) for p in problems]
        if more:
            lines.append(f"… and more (the first {len(problems)} problems are shown)")
        super().__init__("\n".join(lines))


@dataclass
class FocusRow:
    row: int
    billing_account_id: str
    billing_account_name: str
    billing_period_start: datetime
    billing_period_end: datetime
    charge_period_start: datetime
    charge_period_end: datetime
    charge_category: str
    charge_class: str
    charge_description: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    contracted_cost: Decimal
    billing_currency: str
    service_name: str
    service_category: str
    provider_name: str
    publisher_name: str
    resource_id: str = ""
    resource_name: str = ""
    resource_type: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return tag_value(self.tags, OWNER_TAGS)

    @property
    def cost_center(self) -> str:
        return tag_value(self.tags, COST_CENTER_TAGS)


@dataclass
class FocusFile:
    rows: list[FocusRow]
    version: str  # "1.2" or "1.3"
    columns: list[str]


def tag_value(tags: dict[str, str], keys: Iterable[str]) -> str:
    plain = {re.sub(r"[^a-z0-9]", "", key.lower()): value for key, value in tags.items()}
    return next((str(plain[key]).strip() for key in keys if plain.get(key)), "")


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite decimal number")
    if abs(value) >= MAX_ABS:
        raise ValueError(f"{text!r} is out of range (at most 14 digits before the point)")
    return value


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date-time (FOCUS writes UTC with Z, e.g. 2026-01-01T00:00:00Z); an offset is
    converted to UTC, a time without one is taken as UTC, a bare date as its midnight UTC."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time (write e.g. 2026-01-01T00:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_tags(text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(tags, dict):
        raise ValueError('Tags must be a JSON object, e.g. {"owner": "payments"}')
    plain = {}
    for key, value in tags.items():
        if isinstance(value, dict | list):
            raise ValueError(f"tag {key!r} has a {type(value).__name__} value; use a string")
        plain[str(key)] = "" if value is None else str(value)
    if any("\x00" in text for item in plain.items() for text in item):
        raise ValueError("a tag holds a NUL character (\\u0000)")
    return plain


class _Reader:
    """Collects the problems of one file, at most MAX_PROBLEMS of them."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.more = False

    def add(self, row: int | None, line: int, column: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, line, column, message))
        else:
            self.more = True

    def check_header(self, columns: list[str]) -> None:
        seen = set()
        for name in columns:
            if name in seen:
                self.add(None, 1, name, "appears twice in the header")
            if "\x00" in name:
                self.add(None, 1, name.replace("\x00", "\\0"), "contains a NUL character")
            seen.add(name)
        for name in MANDATORY:
            if name not in seen:
                self.add(None, 1, name, "missing: a mandatory FOCUS 1.2 column")
        for old, new in EITHER:
            if old not in seen and new not in seen:
                self.add(None, 1, old, f"missing: a mandatory FOCUS column (or {new}, FOCUS 1.3)")

    def value(self, record: dict[str, str], row: int, line: int, name: str):
        text = (record.get(name) or "").strip()
        if not text:
            if name in NOT_NULL:
                self.add(row, line, name, "empty, but FOCUS does not allow null here")
            return None
        if "\x00" in text:
            self.add(row, line, name, "contains a NUL character")
            return None
        if len(text) > MAX_LENGTHS.get(name, len(text)):
            self.add(row, line, name, f"{len(text)} characters long; at most {MAX_LENGTHS[name]}")
            return None
        try:
            if name in DECIMALS:
                return parse_decimal(text)
            if name in DATETIMES:
                return parse_datetime(text)
            if name == "Tags":
                return parse_tags(text)
        except ValueError as exc:
            self.add(row, line, name, str(exc))
            return None
        return text

    def row(self, record: dict[str, str], row: int, line: int) -> FocusRow | None:
        before = len(self.problems) + self.more
        values = {name: self.value(record, row, line, name) for name in record}
        if values.get("ChargeCategory") and values["ChargeCategory"] not in CHARGE_CATEGORIES:
            self.add(
                row,
                line,
                "ChargeCategory",
                f"{values['ChargeCategory']!r} is not one of {', '.join(CHARGE_CATEGORIES)}",
            )
        if (values.get("ChargeClass") or "") not in CHARGE_CLASSES:
            self.add(
                row, line, "ChargeClass", f"{values['ChargeClass']!r} is not empty or Correction"
            )
        currency = values.get("BillingCurrency")
        if currency and not CURRENCY_RE.match(currency):
            self.add(row, line, "BillingCurrency", f"{currency!r} is not an ISO 4217 code (EUR)")
        for start, end in (
            ("BillingPeriodStart", "BillingPeriodEnd"),
            ("ChargePeriodStart", "ChargePeriodEnd"),
        ):
            if values.get(start) and values.get(end) and values[end] <= values[start]:
                self.add(row, line, end, f"{record[end].strip()} is not after {start}")
        provider = values.get("ServiceProviderName") or values.get("ProviderName")
        if not provider:
            self.add(row, line, "ProviderName", "empty, but FOCUS does not allow null here")
        tags = values.get("Tags") or {}
        for label, keys in (("owner", OWNER_TAGS), ("cost-center", COST_CENTER_TAGS)):
            if len(tag_value(tags, keys)) > MAX_TAG_LENGTH:
                self.add(row, line, "Tags", f"the {label} tag is longer than {MAX_TAG_LENGTH}")
        if len(self.problems) + self.more > before:
            return None
        return FocusRow(
            row=row,
            billing_account_id=values["BillingAccountId"],
            billing_account_name=values.get("BillingAccountName") or "",
            billing_period_start=values["BillingPeriodStart"],
            billing_period_end=values["BillingPeriodEnd"],
            charge_period_start=values["ChargePeriodStart"],
            charge_period_end=values["ChargePeriodEnd"],
            charge_category=values["ChargeCategory"],
            charge_class=values.get("ChargeClass") or "",
            charge_description=values.get("ChargeDescription") or "",
            billed_cost=values["BilledCost"],
            effective_cost=values["EffectiveCost"],
            list_cost=values["ListCost"],
            contracted_cost=values["ContractedCost"],
            billing_currency=currency or "",
            service_name=values["ServiceName"],
            service_category=values["ServiceCategory"],
            provider_name=provider or "",
            publisher_name=values.get("PublisherName") or "",
            resource_id=values.get("ResourceId") or "",
            resource_name=values.get("ResourceName") or "",
            resource_type=values.get("ResourceType") or "",
            tags=values.get("Tags") or {},
            extra={
                name: str(value)
                for name, value in values.items()
                if name not in MODELLED and value not in (None, "")
            },
        )


def read_focus(lines: Iterable[str]) -> FocusFile:
    """Every row of a FOCUS CSV (an iterable of text lines, e.g. an open file), or FocusRefused
    naming the problems."""
    reader = csv.reader(lines)
    check = _Reader()
    try:
        header = next(reader)
    except StopIteration:
        raise FocusRefused([Problem(None, 1, "", "the file is empty")]) from None
    except csv.Error as exc:
        raise FocusRefused([Problem(None, 1, "", f"not CSV: {exc}")]) from None
    columns = [name.strip().lstrip("\ufeff") for name in header]
    check.check_header(columns)
    if check.problems:
        raise FocusRefused(check.problems, check.more)
    rows: list[FocusRow] = []
    number = 0
    try:
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue  # blank line
            number += 1
            line = reader.line_num
            if len(fields) != len(columns):
                check.add(
                    number, line, "", f"has {len(fields)} fields; the header has {len(columns)}"
                )
                continue
            parsed = check.row(dict(zip(columns, fields, strict=True)), number, line)
            if parsed is not None:
                rows.append(parsed)
    except csv.Error as exc:
        check.add(number + 1, reader.line_num, "", f"not CSV: {exc}")
    if not number and not check.problems:
        check.add(None, 1, "", "the file has a header but no rows")
    if check.problems:
        raise FocusRefused(check.problems, check.more)
    version = "1.3" if {"ServiceProviderName", "HostProviderName"} & set(columns) else "1.2"
    return FocusFile(rows, version, columns)
