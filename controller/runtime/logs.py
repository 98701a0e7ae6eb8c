"""Logging of the processes: one JSON object per line, with the object in work on every line.

`configure_logging` is called once at start by `manager.run_controller` and `admission.command`;
`WORK_ITEM` ("<namespace>/<name>") is set by the reconciler while it works on a Network, so every
line logged meanwhile names it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

WORK_ITEM = contextvars.ContextVar("work_item", default="")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the work item and `extra` fields included."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        item = WORK_ITEM.get()
        if item:
            entry["namespace"], entry["name"] = item.split("/", 1)
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "kubernetes", "aiohttp.access", "pyhelm3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
