"""Phone events arrive on the SIP owner thread; this re-emits them as a Qt signal on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.ports.phone import Phone, PhoneEvent


class PhoneBridge(QObject):
    """Lives on the GUI thread; a signal emitted from another thread is queued to its receivers."""

    event_did_arrive = Signal(object)

    def __init__(self, phone: Phone, parent: QObject | None = None) -> None:
        super().__init__(parent)
        phone.subscribe(self._on_sip_thread)

    def _on_sip_thread(self, event: PhoneEvent) -> None:
        self.event_did_arrive.emit(event)
