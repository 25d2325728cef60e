"""What a backend gets (StepContext), what it gives back (StepResult), and how it fails.

A backend implements `apply(ctx)` and `undo(ctx)`; both must be idempotent by `ctx.key`, the
key of the step that applied the change (a re-run after a lost worker creates nothing twice,
an undo of something already gone succeeds). Raise TransientError for what may pass (network,
locks, 5xx) and PermanentError for what will not (bad input, missing configuration).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from core.masking import mask, mask_text

logger = logging.getLogger("provisioning")


class StepError(Exception):
    """A step could not do its work; the message says why, for people (it is stored)."""


class TransientError(StepError):
    """It may work if tried again (retried with backoff, then treated as permanent)."""


class PermanentError(StepError):
    """Trying again will not help: the run fails (and compensates)."""


class LogBook:
    """The step's log: lines stored with the step (masked) and sent to the logger (masked)."""

    def __init__(self, step_key: str, action: str):
        self.step_key = step_key
        self.action = action
        self.lines: list[dict] = []

    def _add(self, level: int, message: str) -> None:
        text = mask_text(message)
        self.lines.append(
            {
                "at": datetime.now(tz=UTC).isoformat(timespec="milliseconds"),
                "level": logging.getLevelName(level).lower(),
                "message": text,
            }
        )
        logger.log(level, text, extra={"step": self.step_key, "action": self.action})

    def info(self, message: str) -> None:
        self._add(logging.INFO, message)

    def warning(self, message: str) -> None:
        self._add(logging.WARNING, message)

    def error(self, message: str) -> None:
        self._add(logging.ERROR, message)


@dataclass(frozen=True)
class ResourceSpec:
    """The backend object a step created, for the inventory."""

    name: str
    external_id: str
    details: dict = field(default_factory=dict)


@dataclass
class StepResult:
    output: dict = field(default_factory=dict)
    artifact: str = ""
    artifact_name: str = ""
    resource: ResourceSpec | None = None

    def safe_output(self) -> dict:
        return mask(self.output)


@dataclass
class StepContext:
    """Everything a backend may use. For an undo or delete, `key`, `input` and `output` are
    those of the step that applied the change."""

    key: str
    action: str
    operation: str
    input: dict
    output: dict
    log: LogBook
    request: dict = field(default_factory=dict)
    resource: dict = field(default_factory=dict)
    # Get (or create and store, encrypted) the secret kept for this step key.
    secret: Callable[[], str] = field(default=lambda: "")
    # When the step that applied the change first started.
    started_at: datetime | None = None

    @property
    def short_key(self) -> str:
        return self.key.replace("-", "")[:10]


class Backend(Protocol):
    def apply(self, ctx: StepContext) -> StepResult: ...

    def undo(self, ctx: StepContext) -> StepResult: ...


@dataclass(frozen=True)
class Provisioned:
    """What the drift scan knows of a resource: its name in the backend and the step that made
    it (its key and rendered input), for a backend to say what it should hold and what it does."""

    name: str
    key: str
    input: dict
    request: dict
    details: dict = field(default_factory=dict)


class DriftChecked(Protocol):
    """A backend whose objects the drift scan compares with what was provisioned. Facts are
    flat: a name (`role.connection_limit`) and a JSON value."""

    def expected(self, target: Provisioned) -> dict[str, Any]: ...

    def observe(self, target: Provisioned) -> dict[str, Any]: ...

    def restore(self, target: Provisioned, log: LogBook) -> None: ...


@dataclass(frozen=True)
class Found:
    """A backend object seen by the orphan scan."""

    backend: str
    name: str
    details: dict[str, Any] = field(default_factory=dict)
