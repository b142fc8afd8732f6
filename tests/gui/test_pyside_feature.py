"""The lighter PySide6 import hook keeps PySide6's answer and drops the sources it used to keep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter, as the desktop starts: the hook, then the desktop's modules. Reports how
# many source files linecache holds, and PySide6's verdict for a module with and without Qt.
_PROBE = r"""
import json, linecache, sys
light = sys.argv[1] == "light"
if light:
    from ui.pyside_feature import read_sources_lightly
    assert read_sources_lightly() and read_sources_lightly()  # once, and again harmlessly
else:
    import PySide6.QtCore
import ui.application, app.bootstrap
feature = sys.modules["shibokensupport.feature"]
loaded = [f for f, entry in linecache.cache.items() if len(entry) > 1]  # not lazy stubs
print(json.dumps({"sources_kept": len(loaded),
                  "ui.main_window": feature.pyside_feature_dict.get("ui.main_window"),
                  "app.domain.call": feature.pyside_feature_dict.get("app.domain.call"),
                  "sys": feature._mod_uses_pyside(sys)}))
"""


def probe(mode: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"QT_QPA_PLATFORM": "offscreen",
                                                      "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_same_answers_without_keeping_every_source_in_memory() -> None:
    stock, light = probe("stock"), probe("light")
    # PySide6's verdicts: a module using Qt may switch features (0), others are ignored (-1).
    for result in (stock, light):
        assert result["ui.main_window"] == 0
        assert result["app.domain.call"] == -1
        assert result["sys"] is False
    assert isinstance(stock["sources_kept"], int) and stock["sources_kept"] > 50
    assert light["sources_kept"] == 0
