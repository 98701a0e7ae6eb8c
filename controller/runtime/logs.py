"""Logging of the processes: one JSON object per line (or, `--log-format text`, one readable line),
with the object in work on every line.

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


class TextFormatter(JsonFormatter):
    """`<time> <LEVEL> <logger> [<namespace>/<name>] <msg> key=value ...`, for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(super().format(record))
        head = [entry.pop("ts")[11:23], entry.pop("level").upper().ljust(5), entry.pop("logger")]
        if "namespace" in entry and "name" in entry:
            head.append(f"[{entry.pop('namespace')}/{entry.pop('name')}]")
        head.append(entry.pop("msg"))
        error = entry.pop("error", None) if record.exc_info else None
        line = " ".join(head + [f"{k}={json.dumps(v) if not isinstance(v, str) or ' ' in v else v}"
                                for k, v in entry.items()])
        return f"{line}\n{error}" if error else line


def configure_logging(level: str, log_format: str = "json") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "kubernetes", "aiohttp.access", "pyhelm3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
