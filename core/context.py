"""Per-request context (request id) carried by contextvars into logs, audit rows and tasks."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from opentelemetry import trace

_request_id: ContextVar[str] = ContextVar("ssops_request_id", default="")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """Keep a caller's X-Request-ID when it is safe to log and store; otherwise make a new one."""
    if value and REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def get_request_id() -> str:
    return _request_id.get()


def get_trace_id() -> str:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return ""
    return format(span_context.trace_id, "032x")
