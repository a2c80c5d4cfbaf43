"""Logs as one JSON object per line (`bourse run --log-format json`), for a log collector: the
time, level, logger, message, process and, on an error, the traceback; or as plain text lines
for a person at a terminal (the default)."""

import logging
import os
from datetime import UTC, datetime

import msgspec

_encode = msgspec.json.Encoder().encode
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role  # which process of the exchange wrote it: "engine", "gateway-2", ...

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": self.role,
            "pid": os.getpid(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _encode(entry).decode()


def configure(log_format: str, role: str = "engine") -> None:
    """Send every logger's records (uvicorn's and alembic's too) to stderr in `log_format`."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(role) if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
