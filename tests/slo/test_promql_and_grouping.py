"""Counter queries read with promql-parser, and the grouping that answers many SLOs with one
query per metric and window: grouped sums equal each selector's own sum."""

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slo import engine, expressions, maths, promql, windows
from slo.definitions import RatioIndicator, SLODefinition, Window
from slo.expressions import Counters
from slo.promql import LabelMatcher, Selector
from slo.sources.base import CounterGroup

SEL = 'http_requests_total{service="api",code=~"5.."}'


@pytest.mark.parametrize(
    "query",
    [
        SEL,
        f"sum({SEL})",
        f"sum ({SEL})",
        f"(sum({SEL}))",
        f"sum by () ({SEL})",
        'sum(rate(http_requests_total{service="api",code=~"5.."}[{{.window}}]))',
        'increase(http_requests_total{service="api",code=~"5.."}[{{ .window }}])',
        '{__name__="http_requests_total",service="api",code=~"5.."}',
    ],
)
def test_counter_queries_written_every_usual_way_give_one_selector(query):
    assert str(promql.parse_counter(query)) == SEL


def test_the_selector_is_written_back_with_safe_quoting():
    selector = promql.parse_counter(r'x_total{path="a\"b\\c",le!~""}')
    assert str(selector) == r'x_total{path="a\"b\\c",le!~""}'
    assert promql.parse_counter(str(selector)) == selector


def test_matchers_follow_prometheus_rules():
    regex = LabelMatcher("code", "=~", "5..")
    assert regex.matches("500") and not regex.matches("5000")  # anchored at both ends
    assert LabelMatcher("env", "=", "").matches("")  # a missing label has the value ""
    assert LabelMatcher("env", "!~", "prod|stage").matches("dev")


def test_a_union_matcher_selects_what_either_selects():
    union = promql.union_matcher(
        "service", [LabelMatcher("service", "=", "a.b"), LabelMatcher("service", "=~", "c+")]
    )
    assert union == LabelMatcher("service", "=~", r"a\.b|(?:c+)")
    assert union.matches("a.b") and union.matches("ccc") and not union.matches("axb")


def test_a_group_pushes_shared_matchers_into_the_query():
    selectors = [
        promql.parse_counter('x_total{job="web",service="a"}'),
        promql.parse_counter('x_total{job="web",service="b",code="500"}'),
    ]
    groups = set(engine.plan_groups(selectors).values())
    assert groups == {
        CounterGroup(
            "x_total",
            (LabelMatcher("job", "=", "web"), LabelMatcher("service", "=~", "a|b")),
            ("code", "service"),
        )
    }


# -- grouped evaluation against an in-memory source ---------------------------------------------

LABELS = {"service": ["a", "b", "c"], "code": ["200", "500", "503"], "instance": ["x", "y"]}
SERIES = [dict(zip(LABELS, values, strict=True)) for values in itertools.product(*LABELS.values())]
AT = datetime(2026, 1, 1, tzinfo=UTC)


class MemorySource:
    """Counters kept in memory; increases per series by maths.extrapolated_increase, summed by
    the group's labels the way `sum by (...) (increase(...))` sums them."""

    def __init__(self, series: list[tuple[dict, np.ndarray, np.ndarray]]):
        self.series = series
        self.queries = 0

    def increases(self, group, windows, at):
        self.queries += len(windows)
        end = round(at.timestamp() * 1000)
        result = {}
        for window in windows:
            sums: dict = {}
            for labels, stamps, values in self.series:
                if not Selector(group.metric, group.pushed).matches(labels):
                    continue
                inside = stamps >= end - window * 1000
                value = maths.extrapolated_increase(
                    stamps[inside], values[inside], end - window * 1000, end
                )
                if value is not None:
                    key = group.key_of(labels)
                    sums[key] = sums.get(key, 0.0) + value
            result[window] = sums
        return result


def memory_source(seed: int) -> MemorySource:
    rng = np.random.default_rng(seed)
    end = round(AT.timestamp() * 1000)
    series = []
    for labels in SERIES:
        if rng.random() < 0.2:
            continue  # some series never existed
        stamps = np.arange(end - 4 * 86400_000, end + 1, 60_000)
        values = np.cumsum(rng.integers(0, 20, len(stamps))).astype(float)
        series.append((labels, stamps, values))
    return MemorySource(series)


matchers = st.builds(
    lambda name, op, values: LabelMatcher(name, op, values if "~" in op else values.split("|")[0]),
    st.sampled_from(list(LABELS)),
    st.sampled_from(["=", "!=", "=~", "!~"]),
    st.sampled_from(["a", "b|c", "200", "5..", "50[03]", "x", "", "a|200"]),
)
selectors = st.builds(
    lambda ms: Selector("http_requests_total", tuple(ms)), st.lists(matchers, max_size=3)
)


def direct_increase(source: MemorySource, selector: Selector, window: int) -> float | None:
    """sum(increase(selector[window])) computed series by series, without any grouping."""
    end = round(AT.timestamp() * 1000)
    found = []
    for labels, stamps, values in source.series:
        if selector.matches(labels):
            inside = stamps >= end - window * 1000
            value = maths.extrapolated_increase(
                stamps[inside], values[inside], end - window * 1000, end
            )
            if value is not None:
                found.append(value)
    return sum(found) if found else None


def bad_over_total(
    bad: list[Selector], total: Selector, group_by: tuple[str, ...] = ()
) -> list[SLODefinition]:
    """One SLO per bad selector, over the same total, with a 1-day window."""
    return [
        SLODefinition(
            name=f"slo-{i}",
            service="api",
            team="payments",
            objective=0.99,
            window=Window(windows.rolling_duration("1d")),
            indicator=RatioIndicator(
                Counters.of(selector), Counters.of(total), numerator_is_good=False
            ),
            group_by=group_by,
        )
        for i, selector in enumerate(bad)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(selectors, min_size=1, max_size=12), st.integers(0, 3))
def test_grouped_sums_equal_each_selectors_own_sum(chosen, seed):
    source = memory_source(seed)
    total = Selector("http_requests_total")
    evaluations = engine.evaluate(bad_over_total(chosen, total), AT, lambda key: source)
    # One query per window for the whole metric, however many SLOs share it.
    assert source.queries == len(maths.BURN_WINDOWS)
    everything = direct_increase(source, total, 3600)
    for selector, evaluation in zip(chosen, evaluations, strict=True):
        bad = direct_increase(source, selector, 3600) or 0.0
        assert evaluation.burn_rates["1h"] == pytest.approx(
            bad / everything / (1 - 0.99), rel=1e-12
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(selectors, min_size=1, max_size=6),
    st.lists(st.sampled_from(["service", "code", "instance"]), max_size=2, unique=True),
    st.integers(0, 3),
)
def test_grouped_sums_equal_each_groups_own_sum(chosen, group_by, seed):
    """A grouped SLO on the exact path: per group, the same figure as the selector restricted
    to the group's values, summed directly; all SLOs still share one query per window."""
    source = memory_source(seed)
    total = Selector("http_requests_total")
    definitions = bad_over_total(chosen, total, tuple(sorted(group_by)))
    evaluations = engine.evaluate(definitions, AT, lambda key: source)
    assert source.queries == len(maths.BURN_WINDOWS)
    for selector, evaluation in zip(chosen, evaluations, strict=True):
        groups = evaluation.groups if group_by else [evaluation]
        for group in groups:
            own = tuple(LabelMatcher(k, "=", v) for k, v in (group.group or {}).items())
            everything = direct_increase(source, Selector(total.metric, own), 3600)
            bad = direct_increase(source, Selector(selector.metric, selector.matchers + own), 3600)
            if everything is None:
                assert group.burn_rates["1h"] is None
                continue
            assert group.burn_rates["1h"] == pytest.approx(
                (bad or 0.0) / everything / (1 - 0.99), rel=1e-12
            )


def test_a_difference_of_counters_is_counted_term_by_term():
    source = memory_source(1)
    found = expressions.ratio_sli(
        'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))'
        ' - sum(rate(http_requests_total{code="503"}[{{.window}}]))',
        "sum(rate(http_requests_total[{{.window}}]))",
    )
    assert found.path == "exact"
    definition = SLODefinition(
        name="five-hundreds-but-503",
        service="api",
        team="payments",
        objective=0.99,
        window=Window(windows.rolling_duration("1d")),
        indicator=RatioIndicator(found.counters["numerator"], found.counters["total"], False),
    )
    (evaluation,) = engine.evaluate([definition], AT, lambda key: source)
    metric = "http_requests_total"
    five = direct_increase(source, Selector(metric, (LabelMatcher("code", "=~", "5.."),)), 3600)
    unavailable = direct_increase(
        source, Selector(metric, (LabelMatcher("code", "=", "503"),)), 3600
    )
    everything = direct_increase(source, Selector(metric), 3600)
    assert evaluation.burn_rates["1h"] == pytest.approx(
        (five - unavailable) / everything / (1 - 0.99), rel=1e-12
    )
