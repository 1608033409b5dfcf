"""The card over the display that says what state it is in: connecting, guest not running
(with Start), asking for a password (with the choice to remember it in the desktop
keyring, greyed out with the reason where there is none), disconnected with the reason
(with Reconnect), and reconnecting. Hidden while the display is connected."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.display.controller import DisplayState
from widgets.icons import icon

_TITLES = {
    DisplayState.CONNECTING: "Connecting…",
    DisplayState.NOT_RUNNING: "The VM is not running",
    DisplayState.PASSWORD: "Password needed",
    DisplayState.DISCONNECTED: "Display disconnected",
    DisplayState.RECONNECTING: "Reconnecting…",
    DisplayState.UNAVAILABLE: "No display",
}
#: States shown over the last picture (dimmed) rather than over a blank.
_SEE_THROUGH = {DisplayState.CONNECTING, DisplayState.RECONNECTING}


class DisplayOverlay(QWidget):
    """Covers its parent; :meth:`show_state` picks the words and buttons."""

    startRequested = Signal()
    reconnectRequested = Signal()
    #: (password, remember it in the keyring)
    passwordEntered = Signal(str, bool)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("displayOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.state: DisplayState | None = None
        self._alpha = 220
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        card = QFrame(self)
        card.setObjectName("displayOverlayCard")
        card.setStyleSheet(
            "#displayOverlayCard { background: rgba(30, 30, 30, 235); border-radius: 8px; }"
            " QLabel { color: #eee; }"
        )
        card.setMinimumWidth(320)
        card.setMaximumWidth(460)
        box = QVBoxLayout(card)
        box.setContentsMargins(20, 16, 20, 16)
        self.title = QLabel(card)
        self.title.setObjectName("displayOverlayTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        box.addWidget(self.title)
        self.detail = QLabel(card)
        self.detail.setObjectName("displayOverlayDetail")
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        box.addWidget(self.detail)
        self.password = QLineEdit(card)
        self.password.setObjectName("displayPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.returnPressed.connect(self._submit_password)
        box.addWidget(self.password)
        self.remember = QCheckBox("Remember in the keyring", card)
        self.remember.setObjectName("displayRememberPassword")
        self.remember.setStyleSheet(
            "QCheckBox { color: #eee; } QCheckBox:disabled { color: #888; }"
        )
        box.addWidget(self.remember)
        self.remember_note = QLabel(card)
        self.remember_note.setObjectName("displayRememberNote")
        self.remember_note.setTextFormat(Qt.TextFormat.PlainText)
        self.remember_note.setWordWrap(True)
        self.remember_note.setStyleSheet("QLabel { color: #999; }")
        note_font = self.remember_note.font()
        note_font.setPointSizeF(note_font.pointSizeF() * 0.9)
        self.remember_note.setFont(note_font)
        # Under the box's text, not under the box itself.
        style = self.remember.style()
        indent = style.pixelMetric(style.PixelMetric.PM_IndicatorWidth) + style.pixelMetric(
            style.PixelMetric.PM_CheckBoxLabelSpacing
        )
        self.remember_note.setContentsMargins(indent, 0, 0, 0)
        box.addWidget(self.remember_note)
        self._keyring_unavailable = ""
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button = QPushButton(icon("start"), "Start", card)
        self.start_button.setObjectName("displayStart")
        self.start_button.clicked.connect(self.startRequested)
        buttons.addWidget(self.start_button)
        self.reconnect_button = QPushButton("Reconnect", card)
        self.reconnect_button.setObjectName("displayReconnect")
        self.reconnect_button.clicked.connect(self.reconnectRequested)
        buttons.addWidget(self.reconnect_button)
        self.password_button = QPushButton("Connect", card)
        self.password_button.setObjectName("displayPasswordConnect")
        self.password_button.clicked.connect(self._submit_password)
        buttons.addWidget(self.password_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.card = card
        self.hide()

    def show_state(self, state: DisplayState, detail: str) -> None:
        self.state = state
        if state is DisplayState.CONNECTED:
            self.hide()
            return
        self.title.setText(_TITLES[state])
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.start_button.setVisible(state is DisplayState.NOT_RUNNING)
        self.reconnect_button.setVisible(state is DisplayState.DISCONNECTED)
        asking = state is DisplayState.PASSWORD
        self.password.setVisible(asking)
        self.password_button.setVisible(asking)
        self.remember.setVisible(asking)
        self.remember_note.setVisible(asking and bool(self._keyring_unavailable))
        if not asking:
            self.password.clear()
        self._alpha = 140 if state in _SEE_THROUGH else 235
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        if asking:
            self.password.setFocus()
        self.update()

    def set_keyring_unavailable(self, why: str) -> None:
        """Why a password cannot be remembered here ("" when it can): the box is then
        unticked and greyed out, with the reason under it."""
        self._keyring_unavailable = why
        self.remember.setEnabled(not why)
        if why:
            self.remember.setChecked(False)
        self.remember_note.setText(why)
        self.remember_note.setVisible(bool(why) and self.state is DisplayState.PASSWORD)

    def _submit_password(self) -> None:
        text = self.password.text()
        self.password.clear()
        self.passwordEntered.emit(text, self.remember.isEnabled() and self.remember.isChecked())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(0, 0, 0, self._alpha))
