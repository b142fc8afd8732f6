"""A lighter PySide6 import hook: the same question, without keeping every module's source.

PySide6 (PYSIDE-2029) asks of every module imported after it whether the module's source
mentions "PySide6", to decide whether its `__feature__` switches apply there. It asks through
`inspect.getsource`, which reads and line-splits each file into `linecache` and keeps it for the
life of the process: about 60 ms of the desktop's start-up and 24 MiB of its resident memory
(docs/benchmarks/desktop.md). Reading the bytes and searching them answers the same question.

Callwise uses no `__feature__` switch; the answer is kept identical anyway, and for anything
that is not a plain `.py` file PySide6's own function still answers.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable
from types import ModuleType

_MARK = "_callwise_light"


def read_sources_lightly() -> bool:
    """Installs the lighter check (once) and drops the sources read so far; False when this
    PySide6 has no such hook (a later version may not), in which case nothing is changed."""
    import PySide6.QtCore  # noqa: F401  (loads shibokensupport.feature)

    feature = sys.modules.get("shibokensupport.feature")
    original: Callable[[ModuleType], bool] | None = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return original(module)
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return False  # as PySide6's own check does for a module without a source file

    setattr(mod_uses_pyside, _MARK, True)
    feature._mod_uses_pyside = mod_uses_pyside  # type: ignore[attr-defined]
    linecache.clearcache()  # the sources PySide6 read for the modules imported before it
    return True
