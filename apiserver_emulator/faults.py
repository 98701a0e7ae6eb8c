"""One-shot fault injection: make the next N matching requests fail without touching state.

Tests arm faults through ``Emulator.inject_fault``; ``app.py`` consults :class:`Faults` after
routing a request and before doing anything with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    method: str               # HTTP method (GET, PUT, ...) or API verb (LIST, WATCH, CREATE, ...); "*" = any
    resource: str             # plural, e.g. "networks"; "*" = any
    name: str | None          # None = any object (and collections)
    subresource: str | None   # None = any; "" = only the main resource
    status: int
    times: int
    retry_after: int | None
    hang: float               # seconds to hang before dropping the connection; 0 = answer ``status``

    def matches(self, method: str, verb: str, resource: str, name: str | None, subresource: str | None) -> bool:
        return (self.method in ("*", method, verb)
                and self.resource in ("*", resource)
                and (self.name is None or self.name == name)
                and (self.subresource is None or self.subresource == (subresource or "")))


class Faults:
    """Armed from the test thread, consumed on the server thread, hence the lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def take(self, method: str, verb: str, resource: str, name: str | None, subresource: str | None) -> Fault | None:
        with self._lock:
            for fault in self._armed:
                if fault.matches(method, verb, resource, name, subresource):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._armed.remove(fault)
                    return fault
        return None
