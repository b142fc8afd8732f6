"""Find the customer: by name, account number or any phone number typed any way."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.domain.customer import Customer


class SearchPanel(QWidget):
    search_was_requested = Signal(str)
    customer_was_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<b>Find a customer</b>")
        self.query = QLineEdit()
        self.query.setPlaceholderText("Name, account or phone number  (Ctrl+F)")
        self.query.setAccessibleName("Customer search")
        self.query.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setAccessibleName("Search results")
        self.results.setAlternatingRowColors(True)
        self.count = QLabel("")
        self.count.setAccessibleName("Result count")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.count)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(lambda: self.search_was_requested.emit(self.query.text()))
        self.query.textChanged.connect(lambda _t: self._debounce.start())
        self.query.returnPressed.connect(self._choose_first)
        self.results.itemActivated.connect(self._chosen)
        self.results.currentItemChanged.connect(lambda item, _prev: self._chosen(item))

    def show_customers(self, customers: list[Customer]) -> None:
        self.results.blockSignals(True)
        self.results.clear()
        for c in customers:
            item = QListWidgetItem(f"{c.full_name}\n{c.account_number} · {c.primary_number}")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"{c.full_name}, account {c.account_number}")
            self.results.addItem(item)
        self.results.blockSignals(False)
        n = len(customers)
        self.count.setText("No customer matches." if n == 0 else f"{n} customer{'s' * (n != 1)}")

    def _choose_first(self) -> None:
        if self.results.count():
            self.results.setCurrentRow(0)
            self.results.setFocus()

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.customer_was_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
