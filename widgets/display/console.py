"""A VM's console: the live display with its toolbar and overlays, for the VM window's
Console tab, and fullscreen.

:class:`ConsoleView` puts together a :class:`~app.qt.display.DisplayController` (the
display's life: connect, follow the VM, reconnect), a :class:`DisplayCanvas` (painting and
input) and a :class:`DisplayOverlay` (one card per state), with a toolbar for scaling,
key combinations (built in, and custom ones the person records, remembered in the
settings), the host's USB devices where the session can redirect them (SPICE), the
shortcut that releases the keyboard grab (remembered too), a screenshot and fullscreen,
and the keyboard-grab state. When the VM has no display Nido can show (the controller
says UNAVAILABLE), it shows the ``fallback`` widget instead, if it was given one.
"""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMenu,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ErrorKind, NidoError
from app.core.inventory import VMInfo
from app.core.settings import MAX_CUSTOM_KEYS
from app.qt.bridge import ConnectionHub
from app.qt.display.controller import DisplayController, DisplayState, Opener
from app.qt.display.opener import open_display
from widgets.display import custom_keys, keys, send_files
from widgets.display.canvas import DisplayCanvas
from widgets.display.geometry import Scaling
from widgets.display.overlay import DisplayOverlay
from widgets.display.send_files import SendFilesBar
from widgets.display.usb_menu import UsbMenu
from widgets.error_dialog import show_error
from widgets.folders import Folders, Purpose

log = logging.getLogger(__name__)

_SCALING_LABELS = {
    Scaling.NEVER: "Never scale (1:1)",
    Scaling.FIT: "Shrink to fit",
    Scaling.ALWAYS: "Scale to window",
}
GRAB_HINT = "Click the display to grab the keyboard"
GRABBED_HINT = "Keyboard grabbed · {} releases"
#: Fullscreen toolbar: shown when the pointer touches the top edge, hidden after this.
TOOLBAR_HIDE_MS = 1500


class DisplayArea(QWidget):
    """The canvas in a scroll area (scaling "never" can be larger than the view), with
    the overlay over both."""

    #: (width, height) in device pixels: the room the view has for the guest's screen.
    viewResized = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("displayArea")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("displayScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setStyleSheet("QScrollArea { background: black; }")
        self.canvas = DisplayCanvas()
        self.scroll.setWidget(self.canvas)
        layout.addWidget(self.scroll)
        self.overlay = DisplayOverlay(self)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.overlay.setGeometry(self.rect())
        self.viewResized.emit(*self.view_size())

    def event(self, event: QEvent) -> bool:
        # Moved to a screen of another scale: as many widget pixels, more or fewer device
        # ones. (QWidget hands this event to event() only, never to changeEvent().)
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self.viewResized.emit(*self.view_size())
        return super().event(event)

    def view_size(self) -> tuple[int, int]:
        dpr = self.devicePixelRatioF()
        return round(self.width() * dpr), round(self.height() * dpr)


class ConsoleView(QWidget):
    """The Console tab of a VM: live display, or ``fallback`` where there is none."""

    startRequested = Signal()
    #: bool: the fallback widget is what shows now
    fallbackShown = Signal(bool)

    def __init__(
        self,
        hub: ConnectionHub,
        vm: VMInfo,
        *,
        fallback: QWidget | None = None,
        opener: Opener = open_display,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("consoleView")
        self.vm = vm
        self.hub = hub
        #: Where this console's file dialogs start, remembered in the settings.
        self.folders = Folders(hub.settings, hub.save)
        self.controller = DisplayController(hub, vm, opener=opener, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        self.toolbar = QToolBar("Display", self)
        self.toolbar.setObjectName("displayToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._build_actions()
        layout.addWidget(self.toolbar)

        self.stack = QStackedWidget(self)
        self.area = DisplayArea()
        self.canvas = self.area.canvas
        self.overlay = self.area.overlay
        self.stack.addWidget(self.area)
        self.fallback = fallback
        if fallback is not None:
            self.stack.addWidget(fallback)
        self.away = QLabel("The display is shown fullscreen.", self.stack)
        self.away.setObjectName("displayAway")
        self.away.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.away)
        layout.addWidget(self.stack, 1)
        self.files_bar.lie_over(self.area)

        self._fullscreen: FullscreenWindow | None = None
        self.controller.stateChanged.connect(self._state_changed)
        self.controller.sessionChanged.connect(self.canvas.set_session)
        self.controller.sessionChanged.connect(self.usb_menu.set_session)
        self.controller.sessionChanged.connect(self.files_bar.set_session)
        self.files_bar.availableChanged.connect(self.canvas.set_accepts_files)
        self.canvas.filesDropped.connect(self.files_bar.send)
        # The guest's resolution follows the view where the protocol can ask (SPICE's agent,
        # VNC's SetDesktopSize).
        self.controller.sessionChanged.connect(lambda _s: self._offer_size(*self.area.view_size()))
        self.area.viewResized.connect(self._offer_size)
        self.canvas.grabChanged.connect(self._grab_changed)
        self.overlay.startRequested.connect(self.startRequested)
        self.overlay.reconnectRequested.connect(self.controller.reconnect)
        self.overlay.passwordEntered.connect(self.controller.send_password)
        self.controller.keyringChecked.connect(self.overlay.set_keyring_unavailable)
        self._fill_custom_keys()
        self._apply_release_shortcut()
        self._grab_changed(False)
        self._state_changed(self.controller.state, self.controller.detail)
        self.controller.start()

    # -- toolbar -------------------------------------------------------------------------
    def _build_actions(self) -> None:
        tb = self.toolbar
        self.scaling_menu = QMenu("Scaling", self)
        group = QActionGroup(self)
        self.scaling_actions: dict[Scaling, QAction] = {}
        for mode, label in _SCALING_LABELS.items():
            action = self.scaling_menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(mode is Scaling.FIT)
            action.triggered.connect(lambda _=False, m=mode: self.set_scaling(m))
            group.addAction(action)
            self.scaling_actions[mode] = action
        self.scaling_menu.addSeparator()
        # Where the guest can be asked (SPICE's agent, VNC on a virtio GPU); one choice for
        # every console, as a guest's desktop may rearrange itself at each new resolution.
        self.resize_guest_action = self.scaling_menu.addAction("Resize Guest with Window")
        self.resize_guest_action.setObjectName("displayResizeGuest")
        self.resize_guest_action.setCheckable(True)
        self.resize_guest_action.setChecked(self.hub.settings.resize_guest)
        self.resize_guest_action.toggled.connect(self.set_resize_guest)
        # Why it may do nothing here (a disabled line under it, shown when it applies).
        self.resize_guest_note = self.scaling_menu.addAction("")
        self.resize_guest_note.setEnabled(False)
        self.resize_guest_note.setVisible(False)
        self.scaling_menu.aboutToShow.connect(self._show_resize_guest)
        self.keys_menu = QMenu("Send Key", self)
        self.key_actions: dict[str, QAction] = {}
        for label, codes in keys.COMBINATIONS:
            action = self.keys_menu.addAction(label)
            action.triggered.connect(lambda _=False, c=codes: self.send_combination(c))
            self.key_actions[label] = action
        self._custom_separator = self.keys_menu.addSeparator()
        #: The remembered custom combinations' actions, by their text in the settings.
        self.custom_actions: dict[str, QAction] = {}
        self.custom_action = self.keys_menu.addAction("Custom…")
        self.custom_action.setObjectName("displayCustomKeys")
        self.custom_action.triggered.connect(self.ask_custom_keys)
        self.forget_custom_action = self.keys_menu.addAction("Forget Custom Combinations")
        self.forget_custom_action.triggered.connect(self.forget_custom_keys)
        self.keys_menu.aboutToShow.connect(self._fill_custom_keys)
        # The grab state in the toolbar is also the button that picks the release keys.
        self.release_menu = QMenu("Release Shortcut", self)
        header = self.release_menu.addAction("Release the grab with:")
        header.setEnabled(False)
        release_group = QActionGroup(self)
        self.release_actions: dict[str, QAction] = {}
        for shortcut in keys.RELEASE_SHORTCUTS:
            action = self.release_menu.addAction(shortcut.label)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, s=shortcut: self.set_release_shortcut(s))
            release_group.addAction(action)
            self.release_actions[shortcut.id] = action
        self.release_menu.aboutToShow.connect(self._apply_release_shortcut)
        for menu in (self.scaling_menu, self.keys_menu):
            button = QToolButton(tb)
            button.setText(menu.title())
            button.setMenu(menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            tb.addWidget(button)
        # USB redirection: shown only while the session offers it (SPICE, with usbredir).
        self.usb_menu = UsbMenu(self)
        self.usb_menu.folders = self.folders
        self.usb_button = QToolButton(tb)
        self.usb_button.setObjectName("displayUsb")
        self.usb_button.setText(self.usb_menu.title())
        self.usb_button.setMenu(self.usb_menu)
        self.usb_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.usb_tool = tb.addWidget(self.usb_button)
        self.usb_tool.setVisible(False)
        self.usb_menu.availableChanged.connect(self.usb_tool.setVisible)
        # Files into the guest: shown only while its SPICE agent takes them.
        self.files_bar = SendFilesBar(self)
        self.files_bar.folders = self.folders
        self.files_action = tb.addAction(send_files.TITLE)
        self.files_action.setObjectName("displaySendFiles")
        self.files_action.setToolTip("Send files to the guest (or drop them on the display)")
        self.files_action.triggered.connect(self.files_bar.ask)
        self.files_action.setVisible(False)
        self.files_bar.availableChanged.connect(self.files_action.setVisible)
        self.screenshot_action = tb.addAction("Screenshot…")
        self.screenshot_action.setObjectName("displayScreenshot")
        self.screenshot_action.triggered.connect(self._ask_screenshot)
        self.fullscreen_action = tb.addAction("Fullscreen")
        self.fullscreen_action.setObjectName("displayFullscreen")
        self.fullscreen_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.fullscreen_action.triggered.connect(lambda: self.set_fullscreen(True))
        self.addAction(self.fullscreen_action)  # F11 also while the toolbar is hidden
        spacer = QWidget(tb)
        spacer.setSizePolicy(
            spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred
        )
        tb.addWidget(spacer)
        self.grab_label = QToolButton(tb)
        self.grab_label.setObjectName("displayGrabState")
        self.grab_label.setMenu(self.release_menu)
        self.grab_label.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.grab_label.setAutoRaise(True)
        tb.addWidget(self.grab_label)
        self._live_actions = [
            self.screenshot_action,
            self.custom_action,
            *self.key_actions.values(),
        ]

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self) -> DisplayState:
        return self.controller.state

    @property
    def showing_fallback(self) -> bool:
        return self.fallback is not None and self.stack.currentWidget() is self.fallback

    def _state_changed(self, state: DisplayState, detail: str) -> None:
        use_fallback = self.fallback is not None and (
            state is DisplayState.UNAVAILABLE
            or (self.showing_fallback and state is DisplayState.NOT_RUNNING)
        )
        was = self.showing_fallback
        if use_fallback:
            self.set_fullscreen(False)
            self.stack.setCurrentWidget(self.fallback)
        else:
            self.stack.setCurrentWidget(self.away if self.is_fullscreen else self.area)
        self.toolbar.setVisible(not use_fallback)
        self.overlay.show_state(state, detail)
        connected = state is DisplayState.CONNECTED
        for action in [*self._live_actions, *self.custom_actions.values()]:
            action.setEnabled(connected)
        if (
            not connected
            and self._fullscreen is not None
            and state is not DisplayState.RECONNECTING
        ):
            self.set_fullscreen(False)
        if use_fallback != was:
            self.fallbackShown.emit(use_fallback)

    def _grab_changed(self, grabbed: bool) -> None:
        if grabbed:  # another console may have changed it meanwhile
            self._apply_release_shortcut()
        label = self.canvas.release_shortcut.label
        self.grab_label.setText(GRABBED_HINT.format(label) if grabbed else GRAB_HINT)
        self.grab_label.setToolTip(
            f"{label} releases the keyboard grab. Click to choose other keys for it."
        )
        self.grab_label.setStyleSheet("color: #c0392b; font-weight: bold;" if grabbed else "")
        if self._fullscreen is not None:
            self._fullscreen.grab_label.setText(self.grab_label.text())

    def _offer_size(self, width: int, height: int) -> None:
        session = self.canvas.session
        if session is not None and width > 0 and height > 0 and self.hub.settings.resize_guest:
            session.set_preferred_size(width, height)

    def _show_resize_guest(self) -> None:
        self.resize_guest_action.setChecked(self.hub.settings.resize_guest)
        session = self.canvas.session
        note = session.resize_hint if session is not None else ""
        self.resize_guest_note.setText(note)
        self.resize_guest_note.setVisible(bool(note))

    def set_resize_guest(self, on: bool) -> None:
        """Whether the guest's resolution follows the view (kept for every console)."""
        if on != self.hub.settings.resize_guest:
            self.hub.settings.resize_guest = on
            self.hub.save()
        if on:
            self._offer_size(*self.area.view_size())
        elif self.canvas.session is not None:
            self.canvas.session.clear_preferred_size()  # nor a size still on its way

    # -- commands --------------------------------------------------------------------------
    def set_scaling(self, mode: Scaling) -> None:
        self.canvas.set_scaling(mode)
        self.scaling_actions[mode].setChecked(True)

    def send_combination(self, evdev_codes: list[int]) -> None:
        self.canvas.send_keys(keys.combo(evdev_codes))

    # -- custom key combinations -----------------------------------------------------------
    def _fill_custom_keys(self) -> None:
        """The remembered combinations, between the built-in ones and "Custom…" (read
        from the settings each time, so every open console shows the same)."""
        for action in self.custom_actions.values():
            self.keys_menu.removeAction(action)
            action.deleteLater()
        self.custom_actions = {}
        connected = self.state is DisplayState.CONNECTED
        for text in self.hub.settings.custom_keys:
            try:
                label, combination = custom_keys.parse(text)
            except ValueError:
                log.info("skipping a custom key combination Nido cannot send: %r", text)
                continue
            action = QAction(label, self.keys_menu)
            action.setEnabled(connected)
            action.triggered.connect(lambda _=False, c=combination: self.canvas.send_keys(c))
            self.keys_menu.insertAction(self.custom_action, action)
            self.custom_actions[text] = action
        self.forget_custom_action.setVisible(bool(self.custom_actions))

    def ask_custom_keys(self) -> custom_keys.CustomKeyDialog:
        """Open the dialog that records a combination; it is sent (and remembered, if the
        person keeps the box ticked) when they press Send."""
        dialog = custom_keys.CustomKeyDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._custom_keys_chosen(dialog))
        dialog.open()
        return dialog

    def _custom_keys_chosen(self, dialog: custom_keys.CustomKeyDialog) -> None:
        if not dialog.combination:
            return
        self.canvas.send_keys(dialog.combination)
        if dialog.keep.isChecked() and dialog.text:
            kept = [t for t in self.hub.settings.custom_keys if t != dialog.text]
            self.hub.settings.custom_keys = [*kept, dialog.text][-MAX_CUSTOM_KEYS:]
            self.hub.save()
            self._fill_custom_keys()

    def forget_custom_keys(self) -> None:
        self.hub.settings.custom_keys = []
        self.hub.save()
        self._fill_custom_keys()

    # -- grab release ------------------------------------------------------------------------
    def set_release_shortcut(self, shortcut: keys.ReleaseShortcut) -> None:
        """Release the keyboard grab with ``shortcut`` from now on, in every console."""
        self.hub.settings.grab_release = shortcut.id
        self.hub.save()
        self._apply_release_shortcut()

    def _apply_release_shortcut(self) -> None:
        shortcut = keys.release_shortcut(self.hub.settings.grab_release)
        self.canvas.release_shortcut = shortcut
        self.release_actions[shortcut.id].setChecked(True)
        if self.canvas.grabbed:
            self.grab_label.setText(GRABBED_HINT.format(shortcut.label))
            if self._fullscreen is not None:
                self._fullscreen.grab_label.setText(self.grab_label.text())

    def screenshot(self) -> QImage:
        """A copy of the guest's screen at its own resolution (null if none)."""
        session = self.canvas.session
        if session is None or session.image().isNull():
            return QImage()
        return session.image().copy()

    def save_screenshot(self, path: str | Path) -> bool:
        image = self.screenshot()
        return not image.isNull() and image.save(str(path), "PNG")

    def _ask_screenshot(self) -> None:
        image = self.screenshot()
        if image.isNull():
            return
        folder = self.folders.start(Purpose.SCREENSHOTS)
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H.%M.%S")
        default = str(Path(folder) / f"{self.controller.vm.name} {stamp}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save Screenshot", default, "PNG image (*.png)")
        if not path:
            return
        if image.save(path, "PNG"):
            self.folders.used(Purpose.SCREENSHOTS, path)
            return
        log.warning("could not save the screenshot to %s", path)
        folder = Path(path).parent
        kind, why = ErrorKind.INTERNAL, "Check that the disk is not full."
        if not folder.is_dir():
            kind, why = ErrorKind.NOT_FOUND, f"The folder {folder} does not exist."
        elif not os.access(folder, os.W_OK):
            kind, why = ErrorKind.DENIED, f"You may not write in the folder {folder}."
        show_error(
            self,
            NidoError(
                "The screenshot could not be saved.",
                f"Nido could not write a PNG image to {path}. {why}",
                kind,
            ),
        )

    def shutdown(self) -> None:
        """Close the display (the window is closing)."""
        self.set_fullscreen(False)
        self.canvas.set_grabbed(False)
        self.controller.stop()

    # -- fullscreen ------------------------------------------------------------------------
    @property
    def is_fullscreen(self) -> bool:
        return self._fullscreen is not None

    def set_fullscreen(self, on: bool) -> None:
        if on == self.is_fullscreen:
            return
        if on:
            self.canvas.set_grabbed(False)
            window = FullscreenWindow(self)
            window.leave.connect(lambda: self.set_fullscreen(False))
            window.grab_label.setText(self.grab_label.text())
            self.stack.setCurrentWidget(self.away)
            self.stack.removeWidget(self.area)
            window.take(self.area)
            self._fullscreen = window
            # On the screen the console is on, and covering it even where no window
            # manager acts on the fullscreen state (Qt's xcb then leaves a 1x1 window).
            screen = self.screen()
            window.setScreen(screen)
            window.setGeometry(screen.geometry())
            window.showFullScreen()
            self.canvas.setFocus()
        else:
            window, self._fullscreen = self._fullscreen, None
            self.canvas.set_grabbed(False)
            window.give_back()
            self.stack.insertWidget(0, self.area)
            if not self.showing_fallback:
                self.stack.setCurrentWidget(self.area)
            window.close()
            window.deleteLater()


class FullscreenWindow(QWidget):
    """A top-level fullscreen window that borrows the display area, with a small toolbar
    that slides in when the pointer touches the top edge and hides again by itself."""

    leave = Signal()

    def __init__(self, console: ConsoleView) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("displayFullscreen")
        self.setWindowTitle(f"{console.controller.vm.display_name} — Nido")
        self.setStyleSheet("#displayFullscreen { background: black; }")
        self._console = console
        self._area: DisplayArea | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QToolBar("Fullscreen", self)
        self.bar.setObjectName("fullscreenToolbar")
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.bar.setAutoFillBackground(True)
        keys_button = QToolButton(self.bar)
        keys_button.setText("Send Key")
        keys_button.setMenu(console.keys_menu)
        keys_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.bar.addWidget(keys_button)
        # USB redirection, as in the console's toolbar: only while the session offers it.
        usb_button = QToolButton(self.bar)
        usb_button.setObjectName("fullscreenUsb")
        usb_button.setText(console.usb_menu.title())
        usb_button.setMenu(console.usb_menu)
        usb_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.usb_tool = self.bar.addWidget(usb_button)
        self.usb_tool.setVisible(console.usb_tool.isVisible())
        console.usb_menu.availableChanged.connect(self.usb_tool.setVisible)
        self.bar.addAction(console.files_action)  # shown while the console shows it
        self.bar.addAction(console.screenshot_action)
        self.leave_action = self.bar.addAction("Leave Fullscreen")
        self.leave_action.setObjectName("leaveFullscreen")
        self.leave_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.leave_action.triggered.connect(self.leave)
        self.addAction(self.leave_action)  # its shortcut works while the bar is hidden
        # As in the console's toolbar: the grab state, and the menu of release keys.
        self.grab_label = QToolButton(self.bar)
        self.grab_label.setObjectName("fullscreenGrabState")
        self.grab_label.setMenu(console.release_menu)
        self.grab_label.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.grab_label.setAutoRaise(True)
        self.bar.addWidget(self.grab_label)
        self.bar.adjustSize()
        self.bar.hide()
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(TOOLBAR_HIDE_MS)
        self._hide_timer.timeout.connect(self._hide_bar)

    def take(self, area: DisplayArea) -> None:
        self._area = area
        self.layout().addWidget(area)
        area.show()  # the console's stack hid it when it showed its "away" page
        area.canvas.installEventFilter(self)
        self.show_bar()

    def give_back(self) -> None:
        area, self._area = self._area, None
        if area is not None:
            area.canvas.removeEventFilter(self)
            self.layout().removeWidget(area)
            area.setParent(None)

    def show_bar(self) -> None:
        self.bar.adjustSize()
        self.bar.move(QPoint((self.width() - self.bar.width()) // 2, 0))
        self.bar.raise_()
        self.bar.show()
        self._hide_timer.start()

    def _hide_bar(self) -> None:
        if self.bar.underMouse():
            self._hide_timer.start()
        else:
            self.bar.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseMove and event.position().y() <= 2:
            self.show_bar()
        return False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.bar.isVisible():
            self.bar.move(QPoint((self.width() - self.bar.width()) // 2, 0))

    def keyPressEvent(self, event) -> None:
        event.ignore()
