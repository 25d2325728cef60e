"""JSON log lines that carry the request and trace ids; secrets are masked before output."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from core import context
from core.masking import mask_text

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "")
            or getattr(getattr(record, "request", None), "request_id", "")
            or context.get_request_id(),
            "trace_id": getattr(record, "trace_id", "") or context.get_trace_id(),
        }
        for key, value in vars(record).items():
            if (
                key not in _STANDARD
                and key not in entry
                and not key.startswith("_")
                and key != "request"
            ):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class MaskSecretsFilter(logging.Filter):
    """Last line of defence: mask anything that looks like a credential in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
