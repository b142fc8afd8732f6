"""A 4K screen at 200 %: the desktop is drawn at full resolution, not blown up, and nothing is cut.

The scale factor is fixed when Qt starts, so the window runs in its own process (the screenshot
script's --hidpi mode, against the real demo line), as on an agent's 3840×2160 monitor.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage


def test_the_blocked_gate_on_a_4k_screen_is_sharp_and_uncut(tmp_path: Path) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "ui.screenshots", str(tmp_path), "--hidpi"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    cut = [line for line in done.stderr.splitlines() if ": cut: " in line]
    assert not cut, "\n".join(cut)
    image = QImage(str(tmp_path / "21-4k-gate-blocked.png"))
    # 1920×1080 logical pixels drawn at device pixel ratio 2: every pixel of the screen used.
    assert (image.width(), image.height()) == (3840, 2160)
