"""The dashboards' markup holds to what assistive technology needs: one h1 and no skipped
heading level, a caption and column headers on every table, a label on every form control, a
text alternative and a PNG button for every chart, and no inline script."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.dashboards import data
from tests.dashboards.test_debug import add_trace

pytestmark = pytest.mark.django_db


class Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.tables = 0
        self.captions = 0
        self.column_headers: list[str | None] = []
        self.controls: list[dict] = []
        self.labels: set[str] = set()
        self.charts: list[dict] = []
        self.png_buttons: set[str] = set()
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th":
            self.column_headers.append(attrs.get("scope"))
        elif tag in ("select", "textarea") or (tag == "input" and attrs.get("type") != "hidden"):
            self.controls.append(attrs)
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.inline_scripts += 1
        if "data-chart" in attrs:
            self.charts.append(attrs)
        if "data-png" in attrs:
            self.png_buttons.add(attrs["data-png"])


def outline(client, url: str) -> Outline:
    response = client.get(url)
    assert response.status_code == 200
    parsed = Outline()
    parsed.feed(response.content.decode())
    return parsed


@pytest.fixture
def pages(team, bob, stored):
    item = data.add_requests(team, bob, 1)[0]
    add_trace(item)
    data.add_run(item)
    slo = data.add_slos(team, 1, snapshots=30)[0]
    return [
        "/dashboards/executive/",
        "/dashboards/oncall/",
        f"/dashboards/debug/{item.uuid}/",
        f"/dashboards/slos/{slo.name}/",
    ]


def test_every_dashboard_is_marked_up_for_assistive_technology(client, oncall, pages):
    client.force_login(oncall)
    for url in pages:
        page = outline(client, url)
        assert page.headings.count(1) == 1, url
        steps = [b - a for a, b in zip(page.headings, page.headings[1:], strict=False)]
        assert max(steps) <= 1, f"{url}: a heading level is skipped"
        assert page.tables and page.captions == page.tables, url
        assert all(scope in ("col", "row") for scope in page.column_headers), url
        assert all(c.get("id") in page.labels for c in page.controls), url
        assert page.charts, url
        for chart in page.charts:
            assert chart.get("role") == "img" and chart.get("aria-label"), (url, chart)
            assert chart["id"] in page.png_buttons, (url, chart["id"])
        assert page.inline_scripts == 0, url
