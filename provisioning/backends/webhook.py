"""`webhook.post`: a signed JSON POST to an integration, for templates and runbooks.

Only URLs under SSOPS_WEBHOOK_URLS are called. The body is signed like SSOps's other webhooks
(`X-SSOps-Signature: t=<unix>,v1=<hex HMAC-SHA256(SSOPS_WEBHOOK_SECRET, "<t>.<body>")>`) and
carries `Idempotency-Key: <step key>`, the same on every attempt, so a receiver can drop a
repeat. 2xx succeeds; 408, 429, 5xx and network errors are transient; other answers fail.
"""

from __future__ import annotations

import json
import time

import requests
from django.conf import settings

from catalog.services.notifications import sign
from provisioning.base import PermanentError, StepContext, StepResult, TransientError

ACTION = "webhook.post"
TIMEOUT_SECONDS = 15
KEEP_RESPONSE_CHARS = 2000


def url_allowed(url: str, allowed: list[str]) -> bool:
    return any(url == prefix or url.startswith((f"{prefix}/", f"{prefix}?")) for prefix in allowed)


class WebhookPost:
    def apply(self, ctx: StepContext) -> StepResult:
        url = ctx.input["url"]
        if not url_allowed(url, settings.WEBHOOK_URLS):
            raise PermanentError(
                f"{url} is not under SSOPS_WEBHOOK_URLS (the integrations SSOps may call); "
                "add its prefix there to allow it"
            )
        if not settings.WEBHOOK_SECRET:
            raise PermanentError("set SSOPS_WEBHOOK_SECRET (the key that signs webhook bodies)")
        body = json.dumps(ctx.input.get("body") or {}, sort_keys=True).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-SSOps-Signature": sign(settings.WEBHOOK_SECRET, timestamp, body),
            "Idempotency-Key": ctx.key,
            "X-SSOps-Request": ctx.request.get("uuid", ""),
        }
        try:
            response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise TransientError(f"POST {url}: {type(exc).__name__}") from None
        status = response.status_code
        ctx.log.info(f"POST {url}: {status}")
        if status in (408, 429) or status >= 500:
            raise TransientError(f"POST {url} answered {status}")
        if status >= 300:
            raise PermanentError(f"POST {url} answered {status}: {response.text[:200]}")
        output: dict = {"status": status}
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and len(response.text) <= KEEP_RESPONSE_CHARS:
            output["response"] = answer
        return StepResult(output=output)

    def undo(self, ctx: StepContext) -> StepResult:
        ctx.log.info("a webhook that was sent cannot be taken back; nothing to undo")
        return StepResult()
