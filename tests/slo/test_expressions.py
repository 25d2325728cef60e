"""How an SLI's queries are read (no Prometheus needed): which path they take, what labels
their result keeps, and the promql path's batching — one query per distinct expression and
window, however many SLOs share it."""

from datetime import UTC, datetime

import pytest

from slo import engine, expressions, windows
from slo.definitions import QueryIndicator, SLODefinition, Window
from slo.expressions import SLIError, ratio_sli, raw_sli, read

WINDOW = "{{.window}}"


@pytest.mark.parametrize(
    ("query", "grouping"),
    [
        ("sum(rate(x[{{.window}}]))", ()),
        ("sum by (route, code) (rate(x[{{.window}}]))", ("code", "route")),
        ("rate(x[{{.window}}])", None),
        ("sum_over_time((count by (node) (g < 0.75))[{{.window}}:])", ("node",)),
        ("sum_over_time((count(g < 0.75))[{{.window}}:]) or on() vector(0)", ()),
        ("histogram_quantile(0.9, sum by (le, route) (rate(h[{{.window}}])))", ("route",)),
        ("topk(3, sum by (route) (rate(x[{{.window}}])))", ("route",)),
        ("label_replace(sum(rate(x[{{.window}}])), 'a', 'b', 'c', 'd')", None),
        (
            "sum by (route) (rate(a[{{.window}}]))"
            " / on (route) sum by (route, code) (rate(b[{{.window}}]))",
            ("route",),
        ),
        ("sum without (code) (rate(x[{{.window}}]))", None),
        ("2 * sum by (route) (rate(x[{{.window}}]))", ("route",)),
    ],
)
def test_the_labels_an_expression_keeps(query, grouping):
    assert read(query).grouping == grouping


@pytest.mark.parametrize(
    ("numerator", "total", "path", "group_by"),
    [
        ('x_total{code="500"}', "x_total", "exact", ()),
        (
            'sum(rate(x_total{code="500"}[{{.window}}]))',
            "sum(rate(x_total[{{ .window }}]))",
            "exact",
            (),
        ),
        (
            f"sum by (r) (rate(c[{WINDOW}])) - sum by (r) (rate(b{{le='0.5'}}[{WINDOW}]))",
            f"sum by (r) (rate(c[{WINDOW}]))",
            "exact",
            ("r",),
        ),
        (f"clamp_min(sum(rate(e[{WINDOW}])), 0)", f"sum(rate(t[{WINDOW}]))", "promql", ()),
        (f"sum(irate(e[{WINDOW}]))", f"sum(rate(t[{WINDOW}]))", "promql", ()),
        (f"sum(rate(e[{WINDOW}])) * 60", f"sum(rate(t[{WINDOW}])) * 60", "promql", ()),
        (
            f"sum_over_time(e[{WINDOW}])",
            f"sum by (route) (rate(t[{WINDOW}]))",
            "promql",
            ("route",),
        ),
        (f"rate(e[{WINDOW}])", f"sum(rate(t[{WINDOW}]))", "exact", ()),
    ],
)
def test_the_path_each_sli_takes(numerator, total, path, group_by):
    found = ratio_sli(numerator, total)
    assert (found.path, found.group_by) == (path, group_by)


def test_the_exact_path_keeps_one_canonical_text():
    found = ratio_sli(
        "sum(rate(a_total[{{.window}}])) - sum(rate(b_total[{{.window}}]))", "a_total"
    )
    assert found.texts == {"numerator": "sum(a_total) - sum(b_total)", "total": "a_total"}
    assert ratio_sli(found.texts["numerator"], "a_total").texts == found.texts


@pytest.mark.parametrize(
    ("numerator", "total", "role", "reason"),
    [
        (
            "sum(rate(e[5m]))",
            f"sum(rate(t[{WINDOW}]))",
            "numerator",
            "needs the range [{{.window}}]",
        ),
        (f"sum(rate(e[{WINDOW}])", f"sum(rate(t[{WINDOW}]))", "numerator", "not valid PromQL"),
        (
            f"sum by (a) (rate(e[{WINDOW}]))",
            f"sum by (b) (rate(t[{WINDOW}]))",
            "total",
            "group both",
        ),
        (
            f'sum(rate(e{{a=~"("}}[{WINDOW}]))',
            f"sum(rate(t[{WINDOW}]))",
            "numerator",
            "illegal regex",
        ),
        (f"sum(rate(e[{WINDOW}])) > bool 1", "", "total", "give a PromQL query"),
        (f"scalar(sum(rate(e[{WINDOW}])))", f"sum(rate(t[{WINDOW}]))", "numerator", "vector("),
    ],
)
def test_what_cannot_be_an_sli_is_refused_by_role(numerator, total, role, reason):
    with pytest.raises(SLIError) as refused:
        ratio_sli(numerator, total)
    assert reason in refused.value.errors[role]


def test_a_grouping_named_apart_from_the_queries_must_be_kept_by_them():
    assert raw_sli(f"sum by (site) (rate(e[{WINDOW}]))", ["site"]).group_by == ("site",)
    assert raw_sli(f"rate(e[{WINDOW}])", ["site"]).group_by == ("site",)  # raw series keep it
    with pytest.raises(SLIError) as refused:
        raw_sli(f"sum(rate(e[{WINDOW}]))", ["site"])
    assert "sum into one series" in refused.value.errors["group_by"]


class RecordingSource:
    """Answers every query with one series per route (the promql path's input), recording
    the queries; stands in for Prometheus to count what is sent, which the real one cannot."""

    def __init__(self):
        self.sent: list[str] = []

    def instant_values(self, queries, at):
        self.sent += queries
        return {q: [({"route": "/a"}, 1.0), ({"route": "/b"}, 3.0)] for q in queries}


def definition(name: str, numerator: str, total: str, group_by=()) -> SLODefinition:
    return SLODefinition(
        name=name,
        service="api",
        team="payments",
        objective=0.99,
        window=Window(windows.rolling_duration("30d")),
        indicator=QueryIndicator(numerator, total),
        group_by=group_by,
    )


def test_the_promql_path_sends_each_distinct_expression_once_per_window():
    total = f"sum by (route) (rate(t[{WINDOW}]))"
    slos = [
        definition(f"slo-{i}", f"sum by (route) (rate(e{i % 3}[{WINDOW}]))", total, ("route",))
        for i in range(30)
    ]
    source = RecordingSource()
    evaluations = engine.evaluate(slos, datetime(2026, 1, 1, tzinfo=UTC), lambda key: source)
    assert len(source.sent) == len(set(source.sent)) == (3 + 1) * 8  # 4 expressions, 8 windows
    groups = {g.name: g for ev in evaluations for g in ev.groups}
    assert groups['slo-0{route="/a"}'].sli == 0.0 and groups['slo-0{route="/b"}'].sli == 0.0
    assert evaluations[0].sli == 0.0  # every group together: 4 bad of 4


def test_several_series_of_a_ratio_per_group_are_refused_at_evaluation():
    slo = SLODefinition(
        name="raw",
        service="api",
        team="payments",
        objective=0.99,
        window=Window(windows.rolling_duration("30d")),
        indicator=QueryIndicator(ratio=f"rate(e[{WINDOW}])"),
    )
    (evaluation,) = engine.evaluate(
        [slo], datetime(2026, 1, 1, tzinfo=UTC), lambda key: RecordingSource()
    )
    assert evaluation.data_status == "unavailable"
    assert "the ratio query gives several series" in evaluation.detail


def test_a_placeholder_that_nobody_writes_stands_for_the_window():
    assert expressions.fill_window("rate(x[{{ .window }}])", "30d") == "rate(x[30d])"
    assert read("rate(x[55m33s333ms])").problem  # a fixed range is not the window


def test_an_sli_is_measured_at_any_moment_over_any_windows():
    """engine.measure: the events of each SLI by window and group, for backtests and gates."""
    slo = definition("by-route", f"sum by (route) (rate(e[{WINDOW}]))", f"sum(rate(t[{WINDOW}]))")
    slo = SLODefinition(**{**slo.__dict__, "group_by": ("route",)})
    source = RecordingSource()
    at = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    measured = engine.measure([slo], at, lambda key: source, lambda d: [600, 7 * 86400])
    assert set(measured["by-route"]) == {600, 7 * 86400}
    assert source.sent == sorted(  # each expression once per window asked for
        [f"sum by (route) (rate(e[{w}]))" for w in ("10m", "7d")]
        + [f"sum(rate(t[{w}]))" for w in ("10m", "7d")]
    )
    week = measured["by-route"][7 * 86400]
    assert week.numerator == {("/a",): 1.0, ("/b",): 3.0}
    assert week.total == {("/a",): 1.0, ("/b",): 3.0}
    assert week.ratios(("/b",), numerator_is_good=False) == (0.0, 1.0)
