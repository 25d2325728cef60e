"""`kubernetes.namespace`: a Namespace with its ResourceQuota, LimitRange, NetworkPolicy and
RoleBinding, rendered from the parameters and validated offline against the Kubernetes JSON
schemas (kubernetes-validate, bundled schemas, no network).

With SSOPS_KUBECONFIG the manifests go to the cluster through the official client:
server-side apply (field manager `ssops`), each first as a server-side dry run. Without a
cluster nothing is applied: the step stores the manifests as its artifact and says so.
"""

from __future__ import annotations

import json
import re

import kubernetes_validate
import yaml
from django.conf import settings

from provisioning.base import (
    Found,
    LogBook,
    PermanentError,
    Provisioned,
    ResourceSpec,
    StepContext,
    StepResult,
    TransientError,
)

MANAGED_BY = "app.kubernetes.io/managed-by"
STEP_KEY = "ssops.dev/step-key"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# API paths of what SSOps applies (no discovery needed).
PATHS = {
    "Namespace": "/api/v1/namespaces/{name}",
    "ResourceQuota": "/api/v1/namespaces/{namespace}/resourcequotas/{name}",
    "LimitRange": "/api/v1/namespaces/{namespace}/limitranges/{name}",
    "NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}",
    "RoleBinding": (
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{name}"
    ),
}
DEFAULT_CPU_MILLICORES = 2000
DEFAULT_MEMORY_MIB = 4096


def team_group(team: str) -> str:
    return f"ssops:team:{team}"


def render_manifests(
    *, name: str, team: str, request: str, key: str, labels: dict, cpu: int, memory: int
) -> list[dict]:
    """The five objects of a team namespace (plain data, in apply order)."""
    meta_labels = {
        **labels,
        MANAGED_BY: "ssops",
        "ssops.dev/team": team,
        "ssops.dev/request": request,
    }
    annotations = {STEP_KEY: key}
    container_cpu = max(50, min(500, cpu // 4))
    container_memory = max(64, min(512, memory // 4))

    def namespaced(kind: str, api_version: str, object_name: str, **body) -> dict:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {
                "name": object_name,
                "namespace": name,
                "labels": {MANAGED_BY: "ssops"},
                "annotations": annotations,
            },
            **body,
        }

    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": meta_labels, "annotations": annotations},
        },
        namespaced(
            "ResourceQuota",
            "v1",
            "ssops-quota",
            spec={
                "hard": {
                    "requests.cpu": f"{cpu}m",
                    "limits.cpu": f"{cpu}m",
                    "requests.memory": f"{memory}Mi",
                    "limits.memory": f"{memory}Mi",
                    "pods": "50",
                }
            },
        ),
        namespaced(
            "LimitRange",
            "v1",
            "ssops-defaults",
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": f"{container_cpu}m", "memory": f"{container_memory}Mi"},
                        "defaultRequest": {
                            "cpu": f"{max(10, container_cpu // 5)}m",
                            "memory": f"{max(16, container_memory // 4)}Mi",
                        },
                    }
                ]
            },
        ),
        namespaced(
            "NetworkPolicy",
            "networking.k8s.io/v1",
            "ssops-same-namespace-only",
            spec={
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        ),
        namespaced(
            "RoleBinding",
            "rbac.authorization.k8s.io/v1",
            "ssops-team-edit",
            roleRef={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            subjects=[
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": team_group(team)}
            ],
        ),
    ]


def validate_manifests(manifests: list[dict], version: str) -> None:
    """Names and labels as Kubernetes wants them, and every object against its schema
    (strict: unknown fields are errors). PermanentError on the first problem."""
    for manifest in manifests:
        metadata = manifest["metadata"]
        where = f"{manifest['kind']} {metadata['name']}"
        if not DNS_LABEL.match(metadata["name"]):
            raise PermanentError(f"{where}: the name must be a DNS label (a-z, 0-9, -; ≤ 63)")
        for key, value in metadata.get("labels", {}).items():
            if not LABEL_KEY.match(key) or not LABEL_VALUE.match(str(value)):
                raise PermanentError(f"{where}: label {key}={value!r} is not a valid label")
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "(top)"
            raise PermanentError(
                f"{where} is not valid Kubernetes {exc.version}: {path}: {exc.message}"
            ) from None
        except (
            kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError,
        ) as exc:
            raise PermanentError(f"{where}: {exc.message}") from None


def manifests_yaml(manifests: list[dict]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False)


def _quantities(value):
    """Quantities in one form ("2000m" and "2" are the same CPU), the rest as it is."""
    from kubernetes.utils import parse_quantity

    if isinstance(value, dict):
        return {key: _quantities(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_quantities(item) for item in value]
    if isinstance(value, str | int):
        try:
            return format(parse_quantity(value).normalize(), "f")
        except ValueError:
            return value
    return value


def _facts(objects: dict[str, dict | None]) -> dict:
    """The drift facts of the five objects (None for an object that is not there). Labels the
    cluster adds itself (kubernetes.io/…) are left out."""

    def spec(kind: str) -> dict | None:
        found = objects.get(kind)
        return None if found is None else found.get("spec") or {}

    namespace = objects.get("Namespace")
    labels = None
    if namespace is not None:
        labels = {
            key: value
            for key, value in (namespace.get("metadata", {}).get("labels") or {}).items()
            if not key.startswith("kubernetes.io/")
        }
    quota, limits = spec("ResourceQuota"), spec("LimitRange")
    return {
        "namespace.exists": namespace is not None,
        "namespace.labels": labels,
        "resourcequota.hard": None if quota is None else _quantities(quota.get("hard") or {}),
        "limitrange.limits": None if limits is None else _quantities(limits.get("limits") or []),
        "networkpolicy.spec": spec("NetworkPolicy"),
    }


# --- the cluster -----------------------------------------------------------------------------


def cluster_client():
    """An ApiClient for SSOPS_KUBECONFIG (and SSOPS_KUBE_CONTEXT), or None without a cluster."""
    if not settings.KUBECONFIG:
        return None
    from kubernetes import config

    try:
        return config.new_client_from_config(
            config_file=settings.KUBECONFIG, context=settings.KUBE_CONTEXT or None
        )
    except Exception as exc:  # the loader raises several kinds for a bad file
        raise PermanentError(f"SSOPS_KUBECONFIG cannot be used: {exc}") from None


def cluster_name() -> str:
    return settings.KUBE_CONTEXT or "default context of SSOPS_KUBECONFIG"


def call(client, method: str, path: str, *, body=None, query=None, content_type=None):
    """One API call; 5xx, 409, 429 and network errors are transient, other 4xx permanent.
    Returns the decoded JSON, or None for 404."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        method, url, headers, body, _ = client.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = client.call_api(
            method, url, header_params=headers, body=body, _request_timeout=30
        )
        data = response.read()
    except ApiException as exc:  # raised by the client before any answer (e.g. TLS)
        raise TransientError(f"Kubernetes API {method} {path}: {exc.reason}") from None
    except HTTPError as exc:
        raise TransientError(f"Kubernetes API unreachable: {exc}") from None
    status = response.status
    if status == 404:
        return None
    if status >= 300:
        message = f"Kubernetes API {method} {path}: {status} {response.reason}"
        if status in (409, 429) or status >= 500:
            raise TransientError(message)
        raise PermanentError(message)
    try:
        return json.loads(data or b"{}")
    except ValueError:
        raise PermanentError(f"Kubernetes API {method} {path}: not JSON") from None


def server_side_apply(client, manifest: dict, *, dry_run: bool) -> None:
    metadata = manifest["metadata"]
    path = PATHS[manifest["kind"]].format(
        name=metadata["name"], namespace=metadata.get("namespace", "")
    )
    query = {"fieldManager": "ssops", "force": "true"}
    if dry_run:
        query["dryRun"] = "All"
    call(
        client,
        "PATCH",
        path,
        body=manifest,
        query=query,
        content_type="application/apply-patch+yaml",
    )


class KubernetesNamespace:
    def manifests(self, ctx: StepContext) -> list[dict]:
        labels = {str(k): str(v) for k, v in (ctx.input.get("labels") or {}).items()}
        manifests = render_manifests(
            name=ctx.input["name"],
            team=ctx.request.get("team", ""),
            request=ctx.request.get("uuid", ""),
            key=ctx.key,
            labels=labels,
            cpu=ctx.input.get("cpu_millicores") or DEFAULT_CPU_MILLICORES,
            memory=ctx.input.get("memory_mib") or DEFAULT_MEMORY_MIB,
        )
        validate_manifests(manifests, settings.KUBERNETES_VERSION)
        ctx.log.info(
            f"{len(manifests)} manifests rendered and valid against the Kubernetes "
            f"{settings.KUBERNETES_VERSION} schemas"
        )
        return manifests

    def apply(self, ctx: StepContext) -> StepResult:
        manifests = self.manifests(ctx)
        name = ctx.input["name"]
        text = manifests_yaml(manifests)
        client = cluster_client()
        if client is None:
            ctx.log.warning(
                "no Kubernetes cluster is configured (SSOPS_KUBECONFIG is not set): the "
                "manifests were NOT applied; they are stored as this step's artifact"
            )
            return StepResult(
                output={"namespace": name, "cluster": "", "applied": False},
                artifact=text,
                artifact_name=f"{name}.yaml",
                resource=ResourceSpec(
                    name=name,
                    external_id=f"k8s://not-applied/{name}",
                    details={"namespace": name, "cluster": "", "applied": False},
                ),
            )
        with client:
            self._check_owner(client, name, ctx.key)
            namespace, rest = manifests[0], manifests[1:]
            server_side_apply(client, namespace, dry_run=True)
            server_side_apply(client, namespace, dry_run=False)
            ctx.log.info(f"Namespace {name} applied (server-side dry run first)")
            for manifest in rest:
                server_side_apply(client, manifest, dry_run=True)
            for manifest in rest:
                server_side_apply(client, manifest, dry_run=False)
                ctx.log.info(f"{manifest['kind']} {manifest['metadata']['name']} applied")
        cluster = cluster_name()
        return StepResult(
            output={"namespace": name, "cluster": cluster, "applied": True},
            artifact=text,
            artifact_name=f"{name}.yaml",
            resource=ResourceSpec(
                name=name,
                external_id=f"k8s://{cluster}/{name}",
                details={"namespace": name, "cluster": cluster, "applied": True},
            ),
        )

    def _check_owner(self, client, name: str, key: str) -> None:
        found = call(client, "GET", PATHS["Namespace"].format(name=name))
        if found is not None:
            owner = (found.get("metadata", {}).get("annotations") or {}).get(STEP_KEY)
            if owner != key:
                raise PermanentError(
                    f"namespace {name} already exists and was not created by this request"
                )

    def undo(self, ctx: StepContext) -> StepResult:
        name = ctx.input.get("name", "")
        if not ctx.output.get("applied"):
            ctx.log.info("nothing to delete in a cluster: the manifests were never applied")
            return StepResult()
        client = cluster_client()
        if client is None:
            raise PermanentError(
                f"namespace {name} was applied to a cluster, but SSOPS_KUBECONFIG is no "
                "longer set: SSOps cannot delete it"
            )
        with client:
            found = call(client, "GET", PATHS["Namespace"].format(name=name))
            if found is None:
                ctx.log.info(f"namespace {name} is not there (already deleted)")
                return StepResult()
            owner = (found.get("metadata", {}).get("annotations") or {}).get(STEP_KEY)
            if owner != ctx.key:
                raise PermanentError(f"namespace {name} belongs to someone else now; not deleted")
            call(client, "DELETE", PATHS["Namespace"].format(name=name))
            ctx.log.info(f"namespace {name} deleted (its objects go with it)")
        return StepResult()

    # --- drift: the namespace's labels, quota, limit range and network policy ----------------

    def _context(self, target: Provisioned, log: LogBook) -> StepContext:
        return StepContext(
            key=target.key,
            action="kubernetes.namespace",
            operation="apply",
            input=target.input,
            output={},
            log=log,
            request=target.request,
        )

    def expected(self, target: Provisioned) -> dict:
        manifests = self.manifests(self._context(target, LogBook(target.key, "drift")))
        return _facts({manifest["kind"]: manifest for manifest in manifests})

    def observe(self, target: Provisioned) -> dict:
        client = cluster_client()
        if client is None:
            raise PermanentError("no cluster is configured (SSOPS_KUBECONFIG)")
        found = {}
        with client:
            for manifest in self.manifests(self._context(target, LogBook(target.key, "drift"))):
                metadata = manifest["metadata"]
                path = PATHS[manifest["kind"]].format(
                    name=metadata["name"], namespace=metadata.get("namespace", "")
                )
                found[manifest["kind"]] = call(client, "GET", path)
        return _facts(found)

    def restore(self, target: Provisioned, log: LogBook) -> None:
        """Server-side apply the template version's manifests again (a dry run first); a
        namespace another request made is left alone."""
        client = cluster_client()
        if client is None:
            raise PermanentError("no cluster is configured (SSOPS_KUBECONFIG)")
        self.apply(self._context(target, log))

    def inventory(self) -> list[Found] | None:
        """Namespaces labelled as managed by SSOps; None without a cluster."""
        client = cluster_client()
        if client is None:
            return None
        with client:
            listed = call(
                client, "GET", "/api/v1/namespaces", query={"labelSelector": f"{MANAGED_BY}=ssops"}
            )
        found = []
        for item in (listed or {}).get("items", []):
            metadata = item.get("metadata", {})
            labels = metadata.get("labels") or {}
            found.append(
                Found(
                    backend="kubernetes.namespace",
                    name=metadata.get("name", ""),
                    details={
                        "team": labels.get("ssops.dev/team", ""),
                        "request": labels.get("ssops.dev/request", ""),
                        "step": (metadata.get("annotations") or {}).get(STEP_KEY, ""),
                    },
                )
            )
        return found
