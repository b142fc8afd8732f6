"""Promised callbacks on screen (COMMIT, SA-OWNERSHIP, OB-NOCALLBACK): the agent's list, the team's
assignment queue, and the dialog that promises a new one.

Views only: they emit requests ("call this one now", "take it", "check this draft") and show the
facts the controller hands back (`show_board`, `show_check`, `show_refusal`). They never touch the
store. Owned by the GUI thread; the only clock they read is the injected one, to word how late a
callback is as time passes between two loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTimeEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.clock import Clock
from app.domain.commitment import CallbackRequest, Urgency, local_words, status_words, urgency
from app.domain.enums import CallReason, queue_label
from app.domain.errors import CallwiseError
from ui.theme import Tones, chars_wide, follow, lines_high, tint, tones

if TYPE_CHECKING:  # boards and checks arrive with the records, after the window's first frame
    from app.services.callbacks import CallbackBoard, CallbackCheck, CallbackItem, SchedulingContext

# The light theme's tones under their old names; the colour on screen comes from `tones()`.
TICK_MS = 30_000  # lateness is worded to the minute

_ID_ROLE = Qt.ItemDataRole.UserRole
_CUSTOMER_ROLE = Qt.ItemDataRole.UserRole + 1


def _tree(name: str, headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setAccessibleName(name)
    tree.setObjectName(name.lower().replace(" ", "-"))
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setAlternatingRowColors(True)
    tree.setUniformRowHeights(True)
    return tree


class CallbacksPanel(QWidget):
    """The agent's open callbacks, soonest first, overdue ones in red with how late they are;
    below, the assignment queue (the agent's team, or every team for a leader)."""

    call_was_requested = Signal(str, str)  # customer id, callback id
    take_was_requested = Signal(str)  # callback id
    cancel_was_requested = Signal(str, str)  # callback id, reason
    schedule_was_requested = Signal()  # for the customer on the card
    refresh_was_requested = Signal()

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._board: CallbackBoard | None = None
        self._by_id: dict[str, CallbackItem] = {}
        title = QLabel("<b>Callbacks</b>")
        self.summary = QLabel("Loading callbacks…")
        self.summary.setObjectName("callbacksSummary")
        self.summary.setAccessibleName("Callbacks summary")
        self.summary.setWordWrap(True)

        self.mine = _tree("My callbacks", ["Status", "Due (customer's time)", "Customer",
                                           "Reason"])
        self.call_now = QPushButton("Call now")
        self.call_now.setObjectName("callNowButton")
        self.call_now.setAccessibleName("Call now: load the customer and the callback's reason")
        self.cancel_reason = QLineEdit()
        self.cancel_reason.setPlaceholderText("Why cancel (required)")
        self.cancel_reason.setAccessibleName("Reason for cancelling the callback")
        self.cancel = QPushButton("Cancel callback")
        self.cancel.setObjectName("cancelCallbackButton")
        self.cancel.setAccessibleName("Cancel the selected callback")
        self.schedule = QPushButton("Schedule a callback…  (Ctrl+L)")
        self.schedule.setObjectName("scheduleCallbackButton")
        self.schedule.setAccessibleName("Schedule a callback for this customer")
        self.schedule.setShortcut(QKeySequence("Ctrl+L"))
        self.schedule.setEnabled(False)
        mine_buttons = QHBoxLayout()
        mine_buttons.addWidget(self.call_now)
        mine_buttons.addWidget(self.cancel_reason, 1)
        mine_buttons.addWidget(self.cancel)

        self.queue_title = QLabel("<b>Assignment queue</b>")
        self.queue = _tree("Assignment queue", ["Status", "Due (customer's time)", "Customer",
                                                "Queue · promised by"])
        self.take = QPushButton("Take it")
        self.take.setObjectName("takeCallbackButton")
        self.take.setAccessibleName("Take the selected queued callback")
        queue_buttons = QHBoxLayout()
        queue_buttons.addStretch(1)
        queue_buttons.addWidget(self.take)

        self.overdue_title = QLabel("<b>Overdue — every agent</b>")
        self.overdue = _tree("Overdue callbacks of every agent",
                             ["Status", "Due (customer's time)", "Customer", "Owner · queue"])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.schedule)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.mine, 2)
        layout.addLayout(mine_buttons)
        layout.addWidget(self.queue_title)
        layout.addWidget(self.queue, 1)
        layout.addLayout(queue_buttons)
        layout.addWidget(self.overdue_title)
        layout.addWidget(self.overdue, 1)
        self.overdue_title.setVisible(False)
        self.overdue.setVisible(False)

        self.mine.itemActivated.connect(lambda _item, _col: self._call_selected())
        self.mine.currentItemChanged.connect(lambda _a, _b: self._update_buttons())
        self.queue.currentItemChanged.connect(lambda _a, _b: self._update_buttons())
        self.cancel_reason.textChanged.connect(lambda _t: self._update_buttons())
        self.call_now.clicked.connect(self._call_selected)
        self.cancel.clicked.connect(self._cancel_selected)
        self.take.clicked.connect(self._take_selected)
        self.schedule.clicked.connect(self.schedule_was_requested)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        follow(self, lambda _tones: self.tick())
        self._update_buttons()

    # -- facts in ------------------------------------------------------------------------------

    def show_board(self, board: CallbackBoard) -> None:
        self._board = board
        self._by_id = {cb.id: cb for cb in (*board.mine, *board.queue, *board.overdue_everywhere)}
        self._fill(self.mine, board.mine, self._reason_column)
        self._fill(self.queue, board.queue, self._queue_column)
        self._fill(self.overdue, board.overdue_everywhere, self._owner_column)
        self.overdue_title.setVisible(board.leader)
        self.overdue.setVisible(board.leader)
        layout = self.layout()
        if isinstance(layout, QVBoxLayout):  # a leader watches the team's lateness first
            layout.setStretchFactor(self.mine, 1 if board.leader else 2)
            layout.setStretchFactor(self.overdue, 2 if board.leader else 1)
        self.queue_title.setText("<b>Assignment queues — every team</b>" if board.leader
                                 else "<b>Your team's assignment queue</b>")
        late = len(board.overdue_everywhere)
        self.overdue_title.setText(f"<b>Overdue — every agent ({late})</b>" if late
                                   else "<b>Overdue — every agent: none</b>")
        self.tick()
        for tree in (self.mine, self.queue, self.overdue):  # the status words exist only now
            for col in range(3):
                tree.resizeColumnToContents(col)

    def set_can_schedule(self, enabled: bool) -> None:
        """A callback is promised to the customer on the card: no customer, no button."""
        self.schedule.setEnabled(enabled)

    def focus_list(self) -> None:
        self.mine.setFocus()
        first = self.mine.topLevelItem(0)
        if self.mine.currentItem() is None and first is not None:
            self.mine.setCurrentItem(first)

    def tick(self) -> None:
        """Re-word every status from the clock: a callback turns red the minute it is late."""
        now, colours = self._clock.now(), tones()
        for tree in (self.mine, self.queue, self.overdue):
            for i in range(tree.topLevelItemCount()):
                item = tree.topLevelItem(i)
                if item is not None:
                    self._paint(item, now, colours)
        self._summarise(now)

    # -- rows ----------------------------------------------------------------------------------

    @staticmethod
    def _reason_column(item: CallbackItem) -> str:
        return item.reason.label + (f" · policy {item.policy_ref}" if item.directed_by_policy
                                    else "")

    @staticmethod
    def _queue_column(item: CallbackItem) -> str:
        return f"{queue_label(item.queue or '')} · {item.promised_by}"

    @staticmethod
    def _owner_column(item: CallbackItem) -> str:
        owner = item.owner_name or item.owner_id
        return f"{owner} · {queue_label(item.queue)} queue" if item.queue else owner

    def _fill(self, tree: QTreeWidget, items: tuple[CallbackItem, ...],
              last_column: Callable[[CallbackItem], str]) -> None:
        selected = tree.currentItem()
        keep = selected.data(0, _ID_ROLE) if selected is not None else None
        tree.blockSignals(True)
        tree.clear()
        for cb in items:
            row = QTreeWidgetItem(["", cb.due_words(), cb.customer_name,
                                   last_column(cb)])
            row.setData(0, _ID_ROLE, cb.id)
            row.setData(0, _CUSTOMER_ROLE, cb.customer_id)
            tips = [f"Reason: {cb.reason.label}"]
            if cb.note:
                tips.append(f"Note: {cb.note}")
            if cb.directed_by_policy:
                tips.append(f"Directed by policy: {cb.policy_ref}")
            if cb.attempts:
                tips.append(f"Unanswered attempts since it was promised: {cb.attempts}")
            tips.append(f"Promised by {cb.promised_by}")
            for col in range(4):
                row.setToolTip(col, "\n".join(tips))
            tree.addTopLevelItem(row)
            if cb.id == keep:
                tree.setCurrentItem(row)
        tree.blockSignals(False)
        self._update_buttons()

    def _paint(self, row: QTreeWidgetItem, now: datetime, colours: Tones) -> None:
        cb = self._by_id.get(row.data(0, _ID_ROLE))
        if cb is None:
            return
        level = urgency(cb.due_at, now)
        text = status_words(cb.due_at, now)
        if cb.attempts:
            text += f" · {cb.attempts} unanswered"
        row.setText(0, text)
        colour = colours.urgency(level)
        font = QFont(row.font(0))
        font.setBold(level is not Urgency.LATER)
        for col in range(4):
            row.setFont(col, font)
            row.setForeground(col, QBrush(QColor(colour)) if colour else QBrush())
        row.setData(0, Qt.ItemDataRole.AccessibleTextRole,
                    f"{text}: {cb.customer_name}, due {row.text(1)}, {row.text(3)}")

    def _summarise(self, now: datetime) -> None:
        board = self._board
        if board is None:
            return
        mine = board.mine
        overdue = sum(1 for cb in mine if urgency(cb.due_at, now) is Urgency.OVERDUE)
        soon = sum(1 for cb in mine if urgency(cb.due_at, now) is Urgency.DUE_SOON)
        parts = [f"{len(mine)} open callback{'s' * (len(mine) != 1)}"]
        if overdue:
            parts.insert(0, f"{overdue} overdue")
        if soon:
            parts.insert(1 if overdue else 0, f"{soon} due soon")
        if board.queue:
            parts.append(f"{len(board.queue)} waiting in the queue")
        self.summary.setText(" · ".join(parts) if mine or board.queue
                             else "No open callbacks.")
        tint(self.summary, "error" if overdue else "warn" if soon else None, bold=bool(overdue))

    # -- requests out --------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        has_mine = self.mine.currentItem() is not None
        self.call_now.setEnabled(has_mine)
        self.cancel.setEnabled(has_mine and bool(self.cancel_reason.text().strip()))
        self.take.setEnabled(self.queue.currentItem() is not None)

    def _call_selected(self) -> None:
        row = self.mine.currentItem()
        if row is not None:
            self.call_was_requested.emit(row.data(0, _CUSTOMER_ROLE), row.data(0, _ID_ROLE))

    def _cancel_selected(self) -> None:
        row = self.mine.currentItem()
        reason = self.cancel_reason.text().strip()
        if row is not None and reason:
            self.cancel_was_requested.emit(row.data(0, _ID_ROLE), reason)
            self.cancel_reason.clear()

    def _take_selected(self) -> None:
        row = self.queue.currentItem()
        if row is not None:
            self.take_was_requested.emit(row.data(0, _ID_ROLE))


class ScheduleCallbackDialog(QDialog):
    """Promise a callback: a due time on the customer's clock, a reason, a note.

    Every edit asks for a check (debounced); the Schedule button follows the latest check that
    answers the draft on screen, and scheduling is checked again by the service anyway.
    """

    check_was_requested = Signal(object)  # CallbackRequest
    schedule_was_requested = Signal(object)  # CallbackRequest

    CHECK_DELAY_MS = 150

    def __init__(self, context: SchedulingContext, parent: QWidget | None = None) -> None:
        from app.policy.numbers import zone_city  # loaded with the records, before any dialog

        super().__init__(parent)
        self.context = context
        self.setWindowTitle(f"Schedule a callback — {context.customer_name}")
        self.setAccessibleName("Schedule a callback")
        self.setMinimumWidth(max(520, chars_wide(self, 72)))

        self.zone = QComboBox()
        self.zone.setAccessibleName("Customer's time zone")
        for z in context.zones:
            self.zone.addItem(zone_city(z), z)
        self.zone.setEnabled(len(context.zones) > 1)
        self.zone_note = QLabel("")
        self.zone_note.setObjectName("zoneNote")
        self.zone_note.setWordWrap(True)
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd MMM d, yyyy")
        self.date.setAccessibleName("Due date on the customer's clock")
        self.time = QTimeEdit()
        self.time.setDisplayFormat("h:mm AP")
        self.time.setAccessibleName("Due time on the customer's clock")
        when_row = QHBoxLayout()
        when_row.addWidget(self.date, 1)
        when_row.addWidget(self.time)
        self.hours = QLabel(f"Calling hours: {context.window_text}")
        self.hours.setObjectName("callingHours")
        self.hours.setWordWrap(True)

        self.reason = QComboBox()
        self.reason.setAccessibleName("Reason for the callback")
        for r in CallReason:
            self.reason.addItem(r.label, r)
        self.directed = QCheckBox("Directed by policy")
        self.directed.setAccessibleName("Directed by policy")
        self.directed.setToolTip("Activations and sales follow-ups may be promised only when a "
                                 "policy directs them; give its reference (OB-NOCALLBACK)")
        self.policy_ref = QLineEdit()
        self.policy_ref.setPlaceholderText("Policy reference")
        self.policy_ref.setAccessibleName("Reference of the policy that directs the callback")
        directed_row = QHBoxLayout()
        directed_row.addWidget(self.directed)
        directed_row.addWidget(self.policy_ref, 1)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note for whoever makes the callback")
        self.note.setPlaceholderText("What was promised, and what to have ready")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(lines_high(self.note, 3))

        self.verdict = QLabel("Checking…")
        self.verdict.setObjectName("callbackCheck")
        self.verdict.setAccessibleName("Callback check")
        self.verdict.setWordWrap(True)
        self.placement = QLabel("")
        self.placement.setObjectName("callbackPlacement")
        self.placement.setAccessibleName("Who will make the callback")
        self.placement.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.schedule_button = self.buttons.addButton(
            "Schedule", QDialogButtonBox.ButtonRole.AcceptRole)
        self.schedule_button.setObjectName("scheduleButton")
        self.schedule_button.setAccessibleName("Schedule the callback")
        self.schedule_button.setEnabled(False)
        self.schedule_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

        form = QFormLayout()
        form.addRow("Customer's &zone", self.zone)
        form.addRow("", self.zone_note)
        form.addRow("Due", when_row)
        form.addRow("", self.hours)
        form.addRow("&Reason", self.reason)
        form.addRow("", directed_row)
        form.addRow("&Note", self.note)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>Callback for {context.customer_name}</b>")
        heading.setAccessibleName("Customer")
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.verdict)
        layout.addWidget(self.placement)
        layout.addWidget(self.buttons)

        suggested = context.suggested_local()
        self.date.setDate(QDate(suggested.year, suggested.month, suggested.day))
        self.time.setTime(QTime(suggested.hour, suggested.minute))
        self._last_check: CallbackCheck | None = None
        self._busy = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.CHECK_DELAY_MS)
        self._debounce.timeout.connect(self._ask)

        self.zone.currentIndexChanged.connect(self._changed)
        self.date.dateChanged.connect(self._changed)
        self.time.timeChanged.connect(self._changed)
        self.reason.currentIndexChanged.connect(self._changed)
        self.directed.toggled.connect(self._changed)
        self.policy_ref.textChanged.connect(self._changed)
        self.note.textChanged.connect(self._changed)
        self.schedule_button.clicked.connect(self._schedule)
        self.buttons.rejected.connect(self.reject)
        if not context.zones:
            for w in (self.date, self.time, self.reason, self.directed, self.policy_ref,
                      self.note):
                w.setEnabled(False)
        self._changed()

    # -- the draft -----------------------------------------------------------------------------

    def request(self) -> CallbackRequest:
        # Qt hands StrEnum item data back as plain str: rebuild the enum.
        day, at = self.date.date(), self.time.time()
        zone = self.zone.currentData() or ""
        return CallbackRequest(
            customer_id=self.context.customer_id,
            local_due=datetime(day.year(), day.month(), day.day(), at.hour(), at.minute()),
            zone=str(zone), reason=CallReason(self.reason.currentData()),
            note=self.note.toPlainText(), directed_by_policy=self.directed.isChecked(),
            policy_ref=self.policy_ref.text(), call_id=self.context.call_id)

    def _changed(self) -> None:
        reason = CallReason(self.reason.currentData())
        liftable = reason in self.context.lifted
        self.directed.setEnabled(liftable and bool(self.context.zones))
        self.policy_ref.setEnabled(liftable and self.directed.isChecked())
        zone = self.zone.currentData()
        if zone:
            self.zone_note.setText(self._zone_words(str(zone)))
        else:
            self.zone_note.setText(f"Unknown: {self.context.zone_explanation}.")
        self.schedule_button.setEnabled(False)
        self.verdict.setText("Checking…")
        tint(self.verdict, None)
        self._debounce.start()

    def _zone_words(self, zone: str) -> str:
        local = self.context.now.astimezone(ZoneInfo(zone))
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "+" if minutes >= 0 else "−"
        hours, mins = divmod(abs(minutes), 60)
        from app.policy.numbers import zone_city

        rest = [zone_city(z) for z in self.context.zones if z != zone]
        others = f"; the customer may also be in {', '.join(rest)}" if rest else ""
        return (f"{zone} ({local.tzname()}, UTC{sign}{hours:02d}:{mins:02d} now) — "
                f"{self.context.zone_explanation}{others}")

    def _ask(self) -> None:
        self.check_was_requested.emit(self.request())

    # -- facts in ------------------------------------------------------------------------------

    def show_check(self, check: CallbackCheck) -> None:
        """Ignored unless it answers the draft on screen (an older check may arrive late)."""
        if check.request != self.request():
            return
        self._last_check = check
        if check.allowed and check.due_at is not None:
            zone = check.request.zone
            self.verdict.setText(f"✔ {local_words(check.due_at, zone)}: {check.when}. Inside the "
                                "calling hours.")
            tint(self.verdict, "ok")
            placement = check.placement
            self.placement.setText(f"{'→' if placement and placement.queued else '✔'} "
                                   f"{placement.text}." if placement else "")
            queued = bool(placement and placement.queued)
            tint(self.placement, "warn" if queued else None, bold=queued)
        else:
            self.verdict.setText("\n".join(f"✖ {p.rule}: {p.text}." for p in check.problems))
            tint(self.verdict, "error")
            self.placement.setText("")
        self.schedule_button.setEnabled(check.allowed and not self._busy)

    def show_refusal(self, error: CallwiseError) -> None:
        """The point-of-action re-check refused (time passed, the data changed meanwhile)."""
        self._busy = False
        self.verdict.setText(f"✖ {error.said()}")
        tint(self.verdict, "error")
        self.schedule_button.setEnabled(False)
        self._debounce.start()

    def scheduled(self, _item: object = None) -> None:
        self._busy = False
        self.accept()

    def _schedule(self) -> None:
        check = self._last_check
        if check is None or not check.allowed or check.request != self.request():
            return
        self._busy = True
        self.schedule_button.setEnabled(False)
        self.verdict.setText("Scheduling…")
        self.schedule_was_requested.emit(check.request)
