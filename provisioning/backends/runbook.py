"""Built-in runbook actions (`runbook.<name>`), next to `webhook.post` for everything else.

- `runbook.flush-cache`: delete the keys matching `target` (a glob such as `sessions:*`) in
  the Redis of SSOPS_RUNBOOK_REDIS_URL; outputs how many went and how many match afterwards.
- `runbook.restart-deployment` / `runbook.scale-deployment`: patch a Deployment in
  `namespace` (a restart annotation, or `args.replicas`) through the Kubernetes API of
  SSOPS_KUBECONFIG, after a server-side dry run. `dry_run: true` stops after the dry run;
  without a cluster a dry run returns the patch it would send, and a real run fails plainly.
"""

from __future__ import annotations

import json
import uuid

import redis
from django.conf import settings
from django.utils import timezone

from provisioning.backends.kubernetes import call, cluster_client
from provisioning.base import PermanentError, StepContext, StepResult, TransientError

SCAN_BATCH = 500


def _run_id(ctx: StepContext) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ssops-runbook:{ctx.key}"))


class FlushCache:
    def apply(self, ctx: StepContext) -> StepResult:
        if not settings.RUNBOOK_REDIS_URL:
            raise PermanentError("no cache is configured: set SSOPS_RUNBOOK_REDIS_URL")
        pattern = ctx.input["target"]
        if pattern in {"*", ""}:
            raise PermanentError("refusing to flush every key: give a narrower pattern")
        client = redis.Redis.from_url(settings.RUNBOOK_REDIS_URL, socket_timeout=10)
        deleted = 0
        try:
            batch = []
            for key in client.scan_iter(match=pattern, count=SCAN_BATCH):
                batch.append(key)
                if len(batch) >= SCAN_BATCH and not ctx.input.get("dry_run"):
                    deleted += client.unlink(*batch)
                    batch = []
            if ctx.input.get("dry_run"):
                deleted = 0
                remaining = len(batch)
            else:
                if batch:
                    deleted += client.unlink(*batch)
                remaining = sum(1 for _ in client.scan_iter(match=pattern, count=SCAN_BATCH))
        except redis.RedisError as exc:
            raise TransientError(f"Redis: {type(exc).__name__}: {exc}") from None
        finally:
            client.close()
        verb = "would delete" if ctx.input.get("dry_run") else "deleted"
        ctx.log.info(f"{verb} keys matching {pattern!r}: {deleted or remaining}; {remaining} left")
        return StepResult(
            output={
                "run_id": _run_id(ctx),
                "log_ref": "",
                "deleted": deleted,
                "remaining": remaining,
            }
        )

    def undo(self, ctx: StepContext) -> StepResult:
        return StepResult()


class PatchDeployment:
    """Restart (annotation) or scale (replicas) one Deployment."""

    def __init__(self, what: str):
        self.what = what

    def patch(self, ctx: StepContext) -> dict:
        if self.what == "scale":
            replicas = (ctx.input.get("args") or {}).get("replicas")
            if (
                not isinstance(replicas, int)
                or isinstance(replicas, bool)
                or not 0 <= replicas <= 100
            ):
                raise PermanentError("args.replicas must be a whole number from 0 to 100")
            return {"spec": {"replicas": replicas}}
        now = timezone.now().isoformat()
        return {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}
                }
            }
        }

    def apply(self, ctx: StepContext) -> StepResult:
        namespace = ctx.input.get("namespace")
        if not namespace:
            raise PermanentError("a namespace is needed")
        target = ctx.input["target"]
        patch = self.patch(ctx)
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{target}"
        client = cluster_client()
        output = {"run_id": _run_id(ctx), "log_ref": "", "deployment": f"{namespace}/{target}"}
        if client is None:
            if ctx.input.get("dry_run"):
                ctx.log.warning("no cluster is configured: dry run only, the patch is the artifact")
                return StepResult(
                    output={**output, "applied": False},
                    artifact=json.dumps(patch, indent=2),
                    artifact_name="patch.json",
                )
            raise PermanentError(
                "no Kubernetes cluster is configured (SSOPS_KUBECONFIG): the deployment "
                "cannot be changed"
            )
        content = "application/strategic-merge-patch+json"
        with client:
            if call(client, "GET", path) is None:
                raise PermanentError(f"deployment {namespace}/{target} does not exist")
            call(client, "PATCH", path, body=patch, query={"dryRun": "All"}, content_type=content)
            ctx.log.info(f"server-side dry run of the {self.what} patch accepted")
            if not ctx.input.get("dry_run"):
                call(client, "PATCH", path, body=patch, content_type=content)
                ctx.log.info(f"deployment {namespace}/{target}: {self.what} applied")
        return StepResult(output={**output, "applied": not ctx.input.get("dry_run")})

    def undo(self, ctx: StepContext) -> StepResult:
        return StepResult()
