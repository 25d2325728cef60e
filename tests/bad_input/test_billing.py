"""FOCUS CSV: billing_import and the upload API."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrics.services import billing_import
from tests.bad_input.common import (
    changes_nothing,
    command_error,
)
from tests.metrics.focus_files import charge, focus_csv

pytestmark = pytest.mark.django_db


# --- FOCUS CSV: billing_import and the upload API -----------------------------------------------

GOOD_FOCUS = focus_csv([charge(1, "10.00", resource="vm-1", tags={"owner": "payments"})])
FOCUS_FILES = [
    (
        "NUL",
        focus_csv([charge(1, "1", ServiceName="VM\x00")]).encode(),
        "row 1 (line 2), column ServiceName: contains a NUL character",
    ),
    (
        "NUL in header",
        GOOD_FOCUS.replace("Tags", "Ta\x00gs", 1).encode(),
        "header, column Ta\\0gs: contains a NUL character",
    ),
    (
        "long text",
        focus_csv([charge(1, "1", ServiceName="V" * 201)]).encode(),
        "row 1 (line 2), column ServiceName: 201 characters long; at most 200",
    ),
    (
        "long resource",
        focus_csv([charge(1, "1", resource="r" * 501)]).encode(),
        "column ResourceId: 501 characters long",
    ),
    (
        "long owner tag",
        focus_csv([charge(1, "1", tags={"owner": "o" * 201})]).encode(),
        "column Tags: the owner tag is longer than 200",
    ),
    (
        "NUL in a tag",
        focus_csv([charge(1, "1", tags={"owner": "pay\x00ments"})]).encode(),
        "column Tags: a tag holds a NUL character",
    ),
    (
        "not utf-8",
        GOOD_FOCUS.replace("compute", "compute\udcff").encode(errors="surrogateescape"),
        "not UTF-8",
    ),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    (
        "huge number",
        focus_csv([charge(1, "1e400")]).encode(),
        "row 1 (line 2), column BilledCost: '1e400' is out of range",
    ),
    (
        "not a number",
        focus_csv([charge(1, "=1+1")]).encode(),
        "column BilledCost: '=1+1' is not a decimal number",
    ),
    (
        "NaN",
        focus_csv([charge(1, "NaN")]).encode(),
        "column BilledCost: 'NaN' is not a finite decimal number",
    ),
    (
        "duplicate column",
        GOOD_FOCUS.replace("BilledCost,", "BilledCost,BilledCost,", 1).encode(),
        "header, column BilledCost: appears twice",
    ),
    ("short row", (GOOD_FOCUS.rstrip("\n") + "\n1,2,3\n").encode(), "row 2 (line 3): has 3 fields"),
    ("unclosed quote", (GOOD_FOCUS + '"10.00,acct-1').encode(), "row 2 (line 3)"),
    ("empty", b"", "file is empty"),
    (
        "a bad date",
        focus_csv([charge(1, "1", ChargePeriodStart="2026-13-01")]).encode(),
        "column ChargePeriodStart: '2026-13-01' is not an ISO 8601",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"), [c[1:] for c in FOCUS_FILES], ids=[c[0] for c in FOCUS_FILES]
)
def test_billing_import_refuses_a_hostile_file_naming_row_and_column(
    tmp_path, api_as, platform_admin, content, message
):
    billing_import(actor=None, lines=io.StringIO(GOOD_FOCUS), file_name="held.csv")  # kept
    path = tmp_path / "focus.csv"
    path.write_bytes(content)
    with changes_nothing():
        refused = command_error("billing_import", path)
        upload = SimpleUploadedFile("focus.csv", content, content_type="text/csv")
        response = api_as(platform_admin).post("/api/billing/imports/", {"file": upload})
    assert f"refused {path}, nothing was imported" in refused and message in refused
    assert response.status_code == 400
    answer = " ".join(response.json()["file"])
    assert message.split(":")[0] in answer  # the same row and column, or the same reason


def test_an_uploaded_file_name_cannot_leave_its_place(api_as, platform_admin):
    upload = SimpleUploadedFile("../../etc/focus.csv", GOOD_FOCUS.encode(), "text/csv")
    response = api_as(platform_admin).post("/api/billing/imports/", {"file": upload})
    assert response.status_code == 201
    assert response.json()["file_name"] == "focus.csv"
