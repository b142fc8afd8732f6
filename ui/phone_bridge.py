"""Phone events arrive on the SIP owner thread; this re-emits them as a Qt signal on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from app.ports.phone import Phone


class PhoneBridge(QObject):
    """Lives on the GUI thread. Every event goes through its event queue, so an event that
    arrives before the receivers are connected (the desktop starts its phone before it builds
    the window) reaches them once the event loop runs, in order."""

    event_did_arrive = Signal(object)
    _arrived = Signal(object)

    def __init__(self, phone: Phone, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrived.connect(self.event_did_arrive, Qt.ConnectionType.QueuedConnection)
        phone.subscribe(self._arrived.emit)
