"""JSON log lines, one object per line, carrying the key being reconciled.

Log pipelines index JSON fields; a line per reconcile that names its key lets an operator
follow one Service through every replica and restart with a single query.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                body[name] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info)
        return json.dumps(body, sort_keys=False)


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "botocore", "kubernetes"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
