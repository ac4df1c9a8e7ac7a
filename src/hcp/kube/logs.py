"""One JSON object per log line, so controller logs can be filtered by controller and key.

Context travels as stdlib `extra` fields (`log.info("...", extra={"controller":
"hostedcluster", "key": "clusters/demo"})`); the formatter emits them next to
time, level, logger and msg, plus the traceback as `exc` when there is one.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int | str = logging.INFO, stream: TextIO = sys.stderr) -> None:
    """Send every log record of the process to `stream` as JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for chatty in ("httpx", "httpx2", "httpcore", "httpcore2"):  # one line per request drowns the controllers'
        logging.getLogger(chatty).setLevel(logging.WARNING)
