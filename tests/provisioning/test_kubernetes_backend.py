"""The Kubernetes namespace backend: five objects rendered from the parameters and validated
offline against the bundled Kubernetes schemas; without a cluster the manifests are the run's
artifact (said plainly); with SSOPS_KUBECONFIG they are server-side applied after a dry run.

There is no cluster here: the apply path talks to a FAKE Kubernetes API server (a small HTTP
server in this file that records requests and keeps objects). It is the only mock in these
tests; what it proves is what the official client sends, not what a cluster does with it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from provisioning.backends.kubernetes import (
    KubernetesNamespace,
    render_manifests,
    validate_manifests,
)
from provisioning.base import LogBook, PermanentError, StepContext
from provisioning.models import Resource
from tests.provisioning.conftest import namespace_step

pytestmark = pytest.mark.django_db

KINDS = ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "RoleBinding"]


def manifests(**overrides):
    values = {
        "name": "payments-x",
        "team": "payments",
        "request": "4f1c0e1e-0000-4000-8000-000000000000",
        "key": "key-1",
        "labels": {"environment": "dev"},
        "cpu": 2000,
        "memory": 4096,
    }
    values.update(overrides)
    return render_manifests(**values)


def test_the_five_objects_are_valid_against_the_kubernetes_schemas():
    rendered = manifests()
    assert [m["kind"] for m in rendered] == KINDS
    validate_manifests(rendered, "1.31")  # offline: the schemas ship with kubernetes-validate
    namespace, quota, _, policy, binding = rendered
    assert namespace["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ssops"
    assert quota["spec"]["hard"]["requests.cpu"] == "2000m"
    assert quota["spec"]["hard"]["limits.memory"] == "4096Mi"
    assert policy["spec"]["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert binding["subjects"][0]["name"] == "ssops:team:payments"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": {"bad key!": "x"}}, "label bad key!='x' is not a valid label"),
        ({"name": "Not_A_Name"}, "the name must be a DNS label"),
    ],
)
def test_invalid_manifests_are_refused_before_anything_is_applied(change, message):
    with pytest.raises(PermanentError, match=message):
        validate_manifests(manifests(**change), "1.31")


def test_a_schema_violation_names_the_field():
    broken = manifests()
    broken[1]["spec"]["hard"]["requests.cpu"] = ["2000m"]
    with pytest.raises(PermanentError, match=r"ResourceQuota ssops-quota .*spec.hard.requests.cpu"):
        validate_manifests(broken, "1.31")
    unknown = manifests()
    unknown[0]["spec"] = {"finalizerz": []}
    with pytest.raises(PermanentError, match="Namespace payments-x is not valid"):
        validate_manifests(unknown, "1.31")


def test_without_a_cluster_the_manifests_are_the_artifact_and_the_page_says_so(
    provision, engine_template, client, bob
):
    engine_template(namespace_step())
    request = provision()
    step = request.runs.get().steps.get()
    assert request.state == "ready" and step.output["applied"] is False
    assert [d["kind"] for d in yaml.safe_load_all(step.artifact)] == KINDS
    assert step.artifact_name == "payments-one.yaml"
    assert any("NOT applied" in line["message"] for line in step.log)
    resource = Resource.objects.get()
    assert resource.details == {"namespace": "payments-one", "cluster": "", "applied": False}
    client.force_login(bob)
    page = client.get(f"/resources/{resource.uuid}/").content.decode()
    assert "Not applied to a cluster" in page
    request_page = client.get(f"/requests/{request.uuid}/").content.decode()
    assert "kind: ResourceQuota" in request_page and "NOT applied" in request_page


class FakeKubernetes:
    """A stand-in for the Kubernetes API (no cluster here): records every call and keeps the
    objects it was sent; GET of an unknown object answers 404."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict, dict | None]] = []
        self.objects: dict[str, dict] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status, body=None):
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length)) if length else None
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.calls.append((self.command, parts.path, query, body))
                return parts.path, query, body

            def do_GET(self):  # noqa: N802
                path, query, _ = self._record()
                if path == "/api/v1/namespaces":
                    items = [o for p, o in fake.objects.items() if p.count("/") == 4]
                    return self._answer(200, {"items": items})
                found = fake.objects.get(path)
                return self._answer(200, found) if found else self._answer(404)

            def do_PATCH(self):  # noqa: N802
                path, query, body = self._record()
                assert self.headers["Content-Type"] == "application/apply-patch+yaml"
                if query.get("dryRun") != "All":
                    fake.objects[path] = body
                self._answer(200, body)

            def do_DELETE(self):  # noqa: N802
                path, _, _ = self._record()
                fake.objects.pop(path, None)
                self._answer(200)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kubeconfig(self, path) -> str:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "ssops", "user": {"token": "not-a-real-token"}}],
                    "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "ssops"}}],
                    "current-context": "fake",
                }
            )
        )
        return str(path)


@pytest.fixture
def cluster(settings, tmp_path):
    fake = FakeKubernetes()
    settings.KUBECONFIG = fake.kubeconfig(tmp_path / "kubeconfig")
    settings.KUBE_CONTEXT = "fake"
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def context(key="key-1", name="payments-x", output=None):
    return StepContext(
        key=key,
        action="kubernetes.namespace",
        operation="apply",
        input={"name": name, "labels": {"environment": "dev"}},
        output=output or {},
        log=LogBook(key, "kubernetes.namespace"),
        request={"uuid": "4f1c0e1e-0000-4000-8000-000000000000", "team": "payments"},
    )


def test_with_a_cluster_each_object_is_dry_run_then_applied_server_side(cluster):
    result = KubernetesNamespace().apply(context())
    assert result.output == {"namespace": "payments-x", "cluster": "fake", "applied": True}
    patches = [
        (path, query.get("dryRun")) for method, path, query, _ in cluster.calls if method == "PATCH"
    ]
    namespace = "/api/v1/namespaces/payments-x"
    assert patches[:2] == [(namespace, "All"), (namespace, None)]
    rest = patches[2:]
    assert [dry for _, dry in rest] == ["All"] * 4 + [None] * 4
    assert {path for path, _ in rest} == {
        f"{namespace}/resourcequotas/ssops-quota",
        f"{namespace}/limitranges/ssops-defaults",
        "/apis/networking.k8s.io/v1/namespaces/payments-x/networkpolicies/ssops-same-namespace-only",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/payments-x/rolebindings/ssops-team-edit",
    }
    assert all(q["fieldManager"] == "ssops" for m, _, q, _ in cluster.calls if m == "PATCH")
    # Applying again (a redelivered step) finds its own namespace and applies the same objects.
    KubernetesNamespace().apply(context())
    assert len(cluster.objects) == 5


def test_a_namespace_someone_else_made_is_not_touched(cluster):
    KubernetesNamespace().apply(context(key="key-1"))
    with pytest.raises(PermanentError, match="was not created by this request"):
        KubernetesNamespace().apply(context(key="key-2"))
    with pytest.raises(PermanentError, match="belongs to someone else"):
        KubernetesNamespace().undo(context(key="key-2", output={"applied": True}))


def test_undo_deletes_the_namespace_it_applied(cluster):
    KubernetesNamespace().apply(context())
    KubernetesNamespace().undo(context(output={"applied": True}))
    assert ("DELETE", "/api/v1/namespaces/payments-x") in [(c[0], c[1]) for c in cluster.calls]
    assert "/api/v1/namespaces/payments-x" not in cluster.objects
    gone = context(output={"applied": True})
    KubernetesNamespace().undo(gone)
    assert "already deleted" in gone.log.lines[-1]["message"]


def test_the_inventory_lists_namespaces_labelled_as_managed_by_ssops(cluster):
    KubernetesNamespace().apply(context())
    found = KubernetesNamespace().inventory()
    assert [(f.name, f.details["team"], f.details["step"]) for f in found] == [
        ("payments-x", "payments", "key-1")
    ]
    query = [q for m, p, q, _ in cluster.calls if p == "/api/v1/namespaces"][0]
    assert query["labelSelector"] == "app.kubernetes.io/managed-by=ssops"
