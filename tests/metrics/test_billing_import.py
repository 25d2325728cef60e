"""`billing_import FILE`: FOCUS 1.2 CSV (1.3 columns accepted, Tags as JSON), the whole file or
nothing, errors naming row and column, and a re-imported period replacing what was held."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from audit.models import AuditEvent
from metrics.models import BillingImport, BillingRow
from tests.metrics.focus_files import FOCUS_12, charge, focus_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def import_file(tmp_path):
    def run(text: str, name: str = "focus.csv") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out = io.StringIO()
        call_command("billing_import", str(path), stdout=out)
        return out.getvalue()

    return run


JANUARY = [
    charge(1, "10.50", resource="vm-1", tags={"owner": "payments", "env": "prod"}),
    charge(2, "10.50", resource="vm-1", tags={"owner": "payments"}),
    charge(2, "4.25", resource="bucket-9", tags={"Cost-Center": "CC-SRCH"}),
]


def state() -> tuple:
    return (
        BillingImport.objects.count(),
        BillingRow.objects.count(),
        BillingRow.objects.aggregate(total=Sum("effective_cost"))["total"],
        AuditEvent.objects.filter(action="billing.imported").count(),
    )


def test_a_focus_12_file_is_imported_with_its_tags_read(import_file):
    out = import_file(focus_csv(JANUARY))
    assert "3 rows (FOCUS 1.2)" in out and "acct-1 2026-01 (3 rows)" in out
    assert "25.2500000000 EUR" in out or "25.25 EUR" in out
    record = BillingImport.objects.get()
    assert record.row_count == 3 and record.replaced_rows == 0 and len(record.sha256) == 64
    rows = list(BillingRow.objects.order_by("row"))
    assert rows[0].effective_cost == Decimal("10.50") and rows[0].owner == "payments"
    assert rows[0].tags == {"owner": "payments", "env": "prod"}
    assert rows[2].cost_center == "CC-SRCH" and rows[2].owner == ""
    assert rows[0].charge_period_start.isoformat() == "2026-01-01T00:00:00+00:00"
    event = AuditEvent.objects.get(action="billing.imported")
    assert event.payload["rows"] == 3 and event.payload["focus_version"] == "1.2"


def test_focus_13_columns_are_accepted_and_unknown_columns_kept(import_file):
    columns = [c for c in FOCUS_12 if c not in ("ProviderName", "PublisherName")]
    columns += ["ServiceProviderName", "HostProviderName", "AllocatedMethodId", "x_Project"]
    rows = [
        {
            **charge(3, "2"),
            "ServiceProviderName": "Example Cloud",
            "HostProviderName": "Example Cloud",
            "AllocatedMethodId": "even-split",
            "x_Project": "apollo",
        }
    ]
    assert "FOCUS 1.3" in import_file(focus_csv(rows, columns))
    row = BillingRow.objects.get()
    assert row.provider_name == "Example Cloud"
    assert row.extra == {
        "HostProviderName": "Example Cloud",
        "AllocatedMethodId": "even-split",
        "x_Project": "apollo",
    }


@pytest.mark.parametrize(
    ("rows", "columns", "expected"),
    [
        pytest.param(
            [charge(1, "1"), charge(2, "abc")],
            None,
            "row 2 (line 3), column EffectiveCost: 'abc' is not a decimal number",
            id="wrong-type",
        ),
        pytest.param(
            [charge(1, "1")],
            [c for c in FOCUS_12 if c != "BilledCost"],
            "header, column BilledCost: missing: a mandatory FOCUS 1.2 column",
            id="missing-mandatory-column",
        ),
        pytest.param(
            [charge(1, "1"), charge(2, "1"), charge(3, "1", ChargePeriodStart="2026-13-01")],
            None,
            "row 3 (line 4), column ChargePeriodStart: '2026-13-01' is not an ISO 8601 date-time",
            id="bad-date",
        ),
        pytest.param(
            [charge(1, "1", Tags="{owner: payments}")],
            None,
            "row 1 (line 2), column Tags: not JSON",
            id="tags-not-json",
        ),
        pytest.param(
            [charge(1, "1", ChargePeriodEnd="2026-01-01T00:00:00Z")],
            None,
            "row 1 (line 2), column ChargePeriodEnd: 2026-01-01T00:00:00Z is not after "
            "ChargePeriodStart",
            id="period-ends-before-it-starts",
        ),
        pytest.param(
            [charge(1, "1", ChargeCategory="Refund", BillingCurrency="euro")],
            None,
            "column ChargeCategory: 'Refund' is not one of Usage",
            id="bad-category",
        ),
    ],
)
def test_a_bad_file_is_refused_whole_naming_row_and_column(import_file, rows, columns, expected):
    import_file(focus_csv(JANUARY))
    before = state()
    with pytest.raises(CommandError) as refused:
        import_file(focus_csv(rows, columns), name="bad.csv")
    message = str(refused.value)
    assert "nothing was imported" in message and expected in message
    assert state() == before  # not a row more, not a row less


def test_every_problem_is_listed_and_no_good_row_of_a_bad_file_is_kept(import_file):
    rows = [charge(1, "1"), charge(2, "x"), charge(3, "2", BillingCurrency="")]
    with pytest.raises(CommandError) as refused:
        import_file(focus_csv(rows))
    message = str(refused.value)
    assert "row 2 (line 3), column BilledCost" in message
    assert "row 3 (line 4), column BillingCurrency: empty" in message
    assert not BillingRow.objects.exists() and not BillingImport.objects.exists()


def test_an_empty_or_rowless_file_is_refused(import_file):
    with pytest.raises(CommandError, match="the file is empty"):
        import_file("")
    with pytest.raises(CommandError, match="header but no rows"):
        import_file(focus_csv([]))


def test_importing_the_same_file_again_changes_nothing(import_file):
    import_file(focus_csv(JANUARY))
    rows_then = list(BillingRow.objects.values_list("row", "effective_cost", "resource_id"))
    out = import_file(focus_csv(JANUARY))
    assert "replaced 3 rows held before" in out
    assert sorted(BillingRow.objects.values_list("row", "effective_cost", "resource_id")) == sorted(
        rows_then
    )
    assert BillingRow.objects.aggregate(total=Sum("effective_cost"))["total"] == Decimal("25.25")
    assert BillingImport.objects.count() == 2  # both imports are kept as a record


def test_a_reimported_period_replaces_only_that_account_and_period(import_file):
    february = [charge(1, "8", month=2)]
    other_account = [charge(1, "100", account="acct-2")]
    import_file(focus_csv(JANUARY + february + other_account))
    corrected = [charge(1, "11", resource="vm-1", tags={"owner": "payments"})]
    out = import_file(focus_csv(corrected))
    assert "replaced 3 rows" in out
    held = {
        (r.billing_account_id, r.billing_period_start.month): r.effective_cost
        for r in BillingRow.objects.all()
    }
    assert held == {
        ("acct-1", 1): Decimal("11"),
        ("acct-1", 2): Decimal("8"),
        ("acct-2", 1): Decimal("100"),
    }


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("billing_import", str(tmp_path / "nope.csv"))
