"""The backends SSOps ships, plugged into `catalog.actions` by `register_backends()`."""

from __future__ import annotations

from catalog.actions import register_implementation
from provisioning.backends.access import AccessGrant
from provisioning.backends.kubernetes import KubernetesNamespace
from provisioning.backends.postgres import PostgresDatabase
from provisioning.backends.runbook import FlushCache, PatchDeployment
from provisioning.backends.webhook import WebhookPost

BACKENDS = {
    "postgres.database": PostgresDatabase(),
    "kubernetes.namespace": KubernetesNamespace(),
    "access.grant": AccessGrant(),
    "webhook.post": WebhookPost(),
    "runbook.flush-cache": FlushCache(),
    "runbook.restart-deployment": PatchDeployment("restart"),
    "runbook.scale-deployment": PatchDeployment("scale"),
}


def register_backends() -> None:
    for name, backend in BACKENDS.items():
        register_implementation(name, backend)
