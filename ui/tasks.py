"""One way to run background work (STYLE 7): a single worker thread, results back on the GUI thread.

A single worker serialises every database write and keeps one unit of work per task. The GUI
thread only enqueues and receives; it never waits, except in `drain` at shutdown, where waiting
for the last memo draft to reach the disk is the point.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.domain.errors import CallwiseError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[CallwiseError], None]


class TaskRunner(QObject):
    """Owned by the GUI thread; `submit` may be called from the GUI thread only."""

    _finished = Signal(object, object)  # (callback, value) delivered on the GUI thread
    task_did_fail = Signal(object)  # CallwiseError not handled by the caller
    task_did_crash = Signal(str)  # unexpected exception, already logged

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[tuple[Callable[[], Any], Done | None, Failed | None] | None] = (
            queue.Queue())
        self._thread = threading.Thread(target=self._loop, name="callwise-worker", daemon=True)
        self._finished.connect(self._deliver)
        self._thread.start()
        self._stopped = False

    def submit(self, fn: Callable[[], Any], on_done: Done | None = None,
               on_error: Failed | None = None) -> None:
        if self._stopped:
            log.warning("task submitted after shutdown: %s", fn)
            return
        self._queue.put((fn, on_done, on_error))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, on_done, on_error = item
            try:
                value = fn()
            except CallwiseError as e:
                if on_error is not None:
                    self._finished.emit(on_error, e)
                else:
                    self._finished.emit(self.task_did_fail.emit, e)
            except Exception:
                log.exception("background task failed")
                self._finished.emit(self.task_did_crash.emit, "A background task failed; "
                                    "details are in the log.")
            else:
                if on_done is not None:
                    self._finished.emit(on_done, value)

    @Slot(object, object)
    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        except Exception:
            log.exception("task callback failed")

    def drain(self, timeout_s: float = 10.0) -> None:
        """Finish every queued task, then stop the worker (at shutdown only)."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout_s)
