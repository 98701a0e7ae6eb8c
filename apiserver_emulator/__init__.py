"""A standalone kube-apiserver emulator for tests, kubectl and ``make start``.

Import :class:`Emulator`; see ``emulator.py`` for the Python API and ``__main__.py`` for the
process entry. Layout: ``store`` (objects, resourceVersions, event log), ``resources`` (built-ins,
CRDs, discovery), ``rest`` (API semantics), ``app`` (HTTP), ``patch``, ``selectors``, ``schema``,
``tables``, ``faults``, ``errors``.
"""

from .emulator import Emulator
from .errors import ApiError

__all__ = ["ApiError", "Emulator"]
