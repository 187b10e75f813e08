"""How `serve` logs: text lines, or one JSON object per line (`--log-format json`).

Both go to stderr, uvicorn's lines included (its loggers hand their records to ours).
A JSON line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; the line of an
API call (`--access-log`, or `--log-level debug`) adds `opId`, `platform`, `endpoint`,
`code` and `ms`; a line with a traceback adds `exception`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CALL_FIELDS = ("opId", "platform", "endpoint", "code", "ms")
"""What an API call's line carries beside its message (`extra=` of the call's log)."""


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CALL_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str, form: str) -> None:
    """Send every record at `level` or above to stderr, as `form` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per push sent otherwise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # ours says what was upgraded
