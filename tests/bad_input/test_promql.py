"""PromQL built from label values and parameters: a value stays a value."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import promql_parser
import pytest
import yaml
from django.core.management import call_command

from provisioning.runbook_spec import lint_runbook
from provisioning.verify import check_promql
from slo import promql
from slo.models import SLO
from slo.services import slo_import_text
from tests.bad_input.common import RUNBOOK
from tests.helpers import RUNBOOKS
from tests.slo.test_import import slo_yaml

pytestmark = pytest.mark.django_db


# --- PromQL: a label value stays a value ------------------------------------------------------

HOSTILE_VALUE = 'x"} or vector(1) or {a="'


class CapturingPrometheus:
    """A Prometheus stand-in that records every query and answers with an empty vector."""

    def __init__(self):
        self.queries: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                owner.queries += form.get("query", [])
                self.do_GET()

            def do_GET(self):  # noqa: N802
                owner.queries += parse_qs(urlsplit(self.path).query).get("query", [])
                kind = "matrix" if "query_range" in self.path else "vector"
                body = json.dumps({"status": "success", "data": {"resultType": kind, "result": []}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prometheus(settings):
    stand_in = CapturingPrometheus()
    settings.PROMETHEUS_URL = stand_in.url
    yield stand_in
    stand_in.close()


def nodes(expr):
    """Every node of a parsed PromQL expression."""
    yield expr
    for name in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(expr, name, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from nodes(child)
    for child in getattr(expr, "args", None) or []:
        yield from nodes(child)


def label_values(query: str, label: str) -> list[tuple[str, str]]:
    """(operator, value) of every matcher of `label` in `query`; the query has no vector()."""
    parsed = list(nodes(promql_parser.parse(query)))
    assert not any(isinstance(n, promql_parser.Call) and n.func.name == "vector" for n in parsed), (
        query
    )
    return [
        (str(m.op), m.value)
        for n in parsed
        if isinstance(n, promql_parser.VectorSelector)
        for m in n.matchers.matchers
        if m.name == label
    ]


def test_a_hostile_label_value_cannot_change_the_query_sent_to_prometheus(prometheus, team):
    quoted = promql.quote(HOSTILE_VALUE)
    text = slo_yaml(query=f"sum(http_requests_total{{service={quoted}}})".replace("'", "''"))
    text += "---\n" + slo_yaml(name="plain", query='sum(http_requests_total{service="orders"})')
    slo_import_text(actor=None, text=text, name="hostile.yaml")
    stored = SLO.objects.get(name="orders-availability").numerator_query
    assert promql.parse_counter(stored).matchers[0].value == HOSTILE_VALUE
    out = io.StringIO()
    call_command("slo_evaluate", "--json", stdout=out)
    assert {e["data_status"] for e in json.loads(out.getvalue())} == {"no_data"}
    assert prometheus.queries
    for query in prometheus.queries:
        for op, value in label_values(query, "service"):
            # One selector for both SLOs: a regex whose branches are the two values, escaped.
            matcher = promql.LabelMatcher("service", {"MatchOp.Re": "=~"}.get(op, "="), value)
            assert matcher.matches(HOSTILE_VALUE) and matcher.matches("orders")
            assert not matcher.matches("x")
    rules = io.StringIO()
    call_command("slo_rules", "--slo", "orders-availability", stdout=rules)
    for group in yaml.safe_load(rules.getvalue())["groups"]:
        for rule in group["rules"]:
            if "record" in rule and "increase(" in rule["expr"]:
                values = {
                    v for _, v in label_values(rule["expr"].replace(" or vector(0)", ""), "service")
                }
                if rule["record"].startswith("slo:sli_events:"):  # the total alone (the guard)
                    assert values and values <= {HOSTILE_VALUE, "orders"}
                else:
                    assert values == {HOSTILE_VALUE, "orders"}  # its bad and its total selector


def test_a_runbook_check_puts_parameters_into_promql_as_values(prometheus):
    spec = {
        "promql": 'sum(up{service="${{ parameters.service }}"})',
        "expect": {"op": ">=", "value": 1},
    }
    context = {"parameters": {"service": HOSTILE_VALUE}, "request": {}, "steps": {}}
    check = check_promql(spec, context=context, url=prometheus.url, timeout=2)
    assert check.passed is None  # no data: the hostile value matched no series
    (query,) = prometheus.queries
    assert label_values(query, "service") == [("MatchOp.Equal", HOSTILE_VALUE)]


def test_a_runbook_check_may_not_put_a_text_parameter_outside_quotes():
    document = yaml.safe_load((RUNBOOKS.parent / RUNBOOK).read_text())
    document["spec"]["verify"] = {
        "promql": "sum(cache_keys) > ${{ parameters.pattern }}",
        "expect": {"op": "==", "value": 1},
    }
    spec, errors = lint_runbook(document)
    assert spec is None
    assert [(e.path, e.message[:38]) for e in errors] == [
        ("spec.verify.promql", "put ${{ parameters.pattern }} inside q")
    ]
