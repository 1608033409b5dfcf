"""The widget that shows a guest's screen and sends it keyboard and mouse input.

It paints the session's QImage (a view over the framebuffer, no copy) and repaints only
what the guest changed: each damaged rectangle becomes an ``update(rect)``, so Qt
repaints that part of the widget and nothing else. It repaints no more often than the
screen refreshes: damage that comes sooner waits for the next refresh interval, merged
with what else changed by then, so a guest (or a fast remote server) sending hundreds of
updates a second costs decoding only, not a paint the screen would never show. Scaling
follows
:mod:`widgets.display.geometry`; on a HiDPI screen the picture is drawn in device pixels.

Input:
- Keys go when the canvas has focus, as scancodes (see :mod:`widgets.display.keys`).
  While the keyboard is grabbed, window shortcuts do not fire: Ctrl+S goes to the guest.
- A click grabs the keyboard (and, for a guest with a relative mouse, the pointer);
  the release shortcut (:attr:`DisplayCanvas.release_shortcut`, Ctrl+Alt unless the
  person chose another) gives it back. Modifiers alone release when pressed and released
  with no other key, so Ctrl+Alt+Del still reaches the guest; a shortcut with a last key
  (Ctrl+Alt+G) releases as that key goes down, and the guest never sees that key. Every
  key the guest saw go down is released when the grab or the focus goes.
- The mouse is absolute (a USB tablet in the guest) or relative (a PS/2 mouse: the
  pointer is grabbed, hidden and kept in the middle, and motions are sent as deltas).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QEvent, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from app.qt.display.session import (
    MAX_DAMAGE_RECTS,
    CursorImage,
    DisplaySession,
    coalesce_damage,
)
from widgets.display import keys
from widgets.display.geometry import Placement, Scaling, minimum_view_size, place

_BUTTONS = {
    Qt.MouseButton.LeftButton: 1,
    Qt.MouseButton.MiddleButton: 2,
    Qt.MouseButton.RightButton: 4,
}
_WHEEL_STEP = 120
_BACKGROUND = QColor(0, 0, 0)
#: Refresh rates believed from a screen; outside them (0 from a platform that does not
#: know), 60 Hz.
_REFRESH_HZ = (24.0, 360.0)
_DEFAULT_HZ = 60.0


class DisplayCanvas(QWidget):
    """Paints a :class:`DisplaySession` and feeds it input."""

    #: bool: keyboard (and pointer) grabbed
    grabChanged = Signal(bool)
    #: list[str]: local files dropped on the display (taken only while
    #: :meth:`set_accepts_files` is on)
    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("displayCanvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.setAccessibleName("Guest display")
        self._session: DisplaySession | None = None
        self._scaling = Scaling.FIT
        self._placement = place(0, 0, 0, 0, 1.0, self._scaling)
        self._grabbed = False
        self._buttons = 0
        self._grab_click: Qt.MouseButton | None = None
        self._pointer_home: QPoint | None = None
        self._wheel = [0, 0]
        #: Keys the guest saw go down: scancode (or ("sym", keysym)) → (keysym, scancode)
        self._down: dict[object, tuple[int, int | None]] = {}
        self._shift_added: set[object] = set()
        self._release_armed = False
        self.release_shortcut: keys.ReleaseShortcut = keys.DEFAULT_RELEASE
        #: Keys kept from the guest until they come up (a release shortcut's last key).
        self._swallowed: set[object] = set()
        self._cursor = CursorImage(None)
        self._has_cursor_shape = False
        self._platform = QGuiApplication.platformName()
        #: Damage waiting for the next refresh interval (guest coordinates).
        self._pending: list[tuple[int, int, int, int]] = []
        self._since_paint = QElapsedTimer()
        self._paint_timer = QTimer(self)
        self._paint_timer.setSingleShot(True)
        self._paint_timer.timeout.connect(self._repaint_pending)

    # -- session -------------------------------------------------------------------------
    @property
    def session(self) -> DisplaySession | None:
        return self._session

    def set_session(self, session: DisplaySession | None) -> None:
        if session is self._session:
            return
        old = self._session
        if old is not None:
            for signal, slot in self._connections(old):
                signal.disconnect(slot)
        self.set_grabbed(False)
        self._down.clear()
        self._shift_added.clear()
        self._swallowed.clear()
        self._buttons = 0
        self._session = session
        self._has_cursor_shape = False
        if session is not None:
            for signal, slot in self._connections(session):
                signal.connect(slot)
        self._apply_cursor()
        self._relayout()

    def _connections(self, s: DisplaySession) -> list:
        return [
            (s.damaged, self._damaged),
            (s.resized, self._resized),
            (s.ready, self._relayout),
            (s.cursorChanged, self._cursor_changed),
            (s.pointerModeChanged, self._pointer_mode_changed),
        ]

    # -- scaling ---------------------------------------------------------------------------
    @property
    def scaling(self) -> Scaling:
        return self._scaling

    def set_scaling(self, mode: Scaling) -> None:
        if mode is not self._scaling:
            self._scaling = mode
            self._relayout()

    @property
    def placement(self) -> Placement:
        return self._placement

    def _fb_size(self) -> tuple[int, int]:
        s = self._session
        if s is None or s.image().isNull():
            return 0, 0
        return s.width, s.height

    def _relayout(self) -> None:
        w, h = self._fb_size()
        dpr = self.devicePixelRatioF()
        self.setMinimumSize(*minimum_view_size(w, h, dpr, self._scaling))
        self._placement = place(w, h, self.width(), self.height(), dpr, self._scaling)
        self._apply_cursor()
        self._pending.clear()  # all of it is repainted now
        self._paint_timer.stop()
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def _resized(self, _w: int, _h: int) -> None:
        self._relayout()

    def _smooth(self) -> bool:
        return not math.isclose(self._placement.scale * self.devicePixelRatioF(), 1.0)

    def _damaged(self, rects: list[tuple[int, int, int, int]]) -> None:
        if not self.isVisible():
            return
        self._pending += rects
        if len(self._pending) > MAX_DAMAGE_RECTS:  # more than one batch may bring
            self._pending = coalesce_damage(self._pending)
        if self._paint_timer.isActive():
            return  # the next refresh takes it
        interval = self.refresh_interval_ms()
        if not self._since_paint.isValid() or self._since_paint.elapsed() >= interval:
            self._repaint_pending()
        else:
            self._paint_timer.start(max(1, interval - self._since_paint.elapsed()))

    def refresh_interval_ms(self) -> int:
        """The least time between two repaints of the guest's damage: the screen's
        refresh interval."""
        screen = self.screen()
        hz = screen.refreshRate() if screen is not None else 0.0
        if not _REFRESH_HZ[0] <= hz <= _REFRESH_HZ[1]:
            hz = _DEFAULT_HZ
        return max(1, math.floor(1000 / hz))

    def _repaint_pending(self) -> None:
        if not self._pending:
            return
        self._since_paint.start()
        pl = self._placement
        margin = 1 if self._smooth() else 0
        rects, self._pending = coalesce_damage(self._pending), []
        for x, y, w, h in rects:
            self.update(QRect(*pl.widget_rect(x, y, w, h, margin)))

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        s = self._session
        image = s.image() if s is not None else None
        region = event.region()
        if image is None or image.isNull():
            for r in region:
                painter.fillRect(r, _BACKGROUND)
            return
        pl = self._placement
        smooth = self._smooth()
        if smooth:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        inner = QRect(math.ceil(pl.x), math.ceil(pl.y), math.floor(pl.width), math.floor(pl.height))
        margin = 2 if smooth else 0
        for r in region:
            if not inner.contains(r):
                painter.fillRect(r, _BACKGROUND)
            gx, gy, gw, gh = pl.guest_rect(r.x(), r.y(), r.width(), r.height(), margin)
            if not gw or not gh:
                continue
            if smooth:
                painter.setClipRect(r)
                painter.drawImage(
                    QRectF(*pl.to_widget(gx, gy, gw, gh)), image, QRectF(gx, gy, gw, gh)
                )
            else:
                tx, ty, _, _ = pl.to_widget(gx, gy, gw, gh)
                painter.drawImage(QPointF(tx, ty), image, QRect(gx, gy, gw, gh))

    # -- dropped files -------------------------------------------------------------------
    def set_accepts_files(self, on: bool) -> None:
        """Take files dropped on the display (while the session can send them on)."""
        self.setAcceptDrops(on)

    @staticmethod
    def _dropped_files(event: QDropEvent) -> list[str]:
        """The local files a drag carries; empty if it carries anything else as well."""
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        urls = mime.urls()
        if not urls or not all(u.isLocalFile() for u in urls):
            return []
        return [u.toLocalFile() for u in urls]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.acceptDrops() and self._dropped_files(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)  # type: ignore[arg-type]

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_files(event) if self.acceptDrops() else []
        if not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.filesDropped.emit(paths)

    # -- keyboard ------------------------------------------------------------------------
    @property
    def grabbed(self) -> bool:
        return self._grabbed

    def set_grabbed(self, on: bool) -> None:
        if on == self._grabbed:
            return
        if on and (self._session is None or not self.isVisible()):
            return
        self._grabbed = on
        if on:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.grabKeyboard()
            if not self._absolute():
                self._grab_pointer()
        else:
            self.releaseKeyboard()
            self._release_pointer()
            self._release_all()
            self._release_armed = False
        self._apply_cursor()
        self.grabChanged.emit(on)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # never given to changeEvent()
            self._relayout()
        # Grabbed, every key goes to the guest, not to the window's shortcuts. Without the
        # grab, the quit keys typed into the display still do: they quit the guest's
        # application, not Nido.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self._live()
            and (self._grabbed or keys.is_quit_key(QKeySequence(event.keyCombination())))
        ):
            event.accept()
            return True
        return super().event(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        # Tab belongs to the guest while it has a display.
        if self._live():
            return False
        return super().focusNextPrevChild(forward)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if event.reason() not in (
            Qt.FocusReason.PopupFocusReason,
            Qt.FocusReason.MenuBarFocusReason,
        ):
            self.set_grabbed(False)
        self._release_all()
        self._swallowed.clear()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._live():
            super().keyPressEvent(event)
            return
        stroke = self._stroke(event)
        kid = self._key_id(stroke)
        if kid in self._swallowed:
            event.accept()
            return
        if (
            self._grabbed
            and self.release_shortcut.is_key(stroke.keysym)
            and self.release_shortcut.holds(set(self._down))
        ):
            self._swallowed.add(kid)
            self.set_grabbed(False)
            event.accept()
            return
        if event.isAutoRepeat() and kid in self._down:
            self._session.key(True, stroke.keysym, stroke.scancode)  # typematic repeat
            return
        if stroke.needs_shift and self._session.takes_scancodes and not self._shift_down():
            self._session.key(True, keys.SHIFT_KEYSYM, keys.SHIFT_SCANCODE)
            self._shift_added.add(kid)
        self._down[kid] = (stroke.keysym, stroke.scancode)
        self._session.key(True, stroke.keysym, stroke.scancode)
        if self._grabbed:
            self._release_armed = self._is_release_combo()
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._live():
            super().keyReleaseEvent(event)
            return
        if event.isAutoRepeat():
            event.accept()
            return
        stroke = self._stroke(event)
        kid = self._key_id(stroke)
        if kid in self._swallowed:
            self._swallowed.discard(kid)
            event.accept()
            return
        sent = self._down.pop(kid, None)
        if sent is not None:
            self._session.key(False, *sent)
        if kid in self._shift_added:
            self._shift_added.discard(kid)
            self._session.key(False, keys.SHIFT_KEYSYM, keys.SHIFT_SCANCODE)
        if self._release_armed and stroke.scancode in self.release_shortcut.scancodes:
            self._release_armed = False
            self.set_grabbed(False)
        event.accept()

    def send_keys(self, combination: list[tuple[int, int]]) -> None:
        """Press the keys of a combination in order, then release them in reverse."""
        s = self._session
        if s is None:
            return
        for keysym, scancode in combination:
            s.key(True, keysym, scancode)
        for keysym, scancode in reversed(combination):
            s.key(False, keysym, scancode)

    def _stroke(self, event: QKeyEvent) -> keys.KeyStroke:
        return keys.translate(
            event.key(),
            event.text(),
            event.modifiers(),
            event.nativeScanCode(),
            event.nativeVirtualKey(),
            self._platform,
        )

    @staticmethod
    def _key_id(stroke: keys.KeyStroke) -> object:
        return stroke.scancode if stroke.scancode else ("sym", stroke.keysym)

    def _shift_down(self) -> bool:
        return any(k in keys.SHIFT_SCANCODES for k in self._down)

    def _is_release_combo(self) -> bool:
        """Exactly the modifiers of a modifiers-alone release shortcut are down."""
        shortcut = self.release_shortcut
        return not shortcut.key and shortcut.holds(set(self._down))

    def _release_all(self) -> None:
        s = self._session
        down, self._down = self._down, {}
        added, self._shift_added = self._shift_added, set()
        if s is None:
            return
        for keysym, scancode in reversed(list(down.values())):
            s.key(False, keysym, scancode)
        if added:
            s.key(False, keys.SHIFT_KEYSYM, keys.SHIFT_SCANCODE)

    def _live(self) -> bool:
        return self._session is not None and self._session.is_open

    # -- mouse ---------------------------------------------------------------------------
    def _absolute(self) -> bool:
        return self._session is None or self._session.absolute_pointer

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._live():
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if not self._grabbed:
            self.set_grabbed(True)
            if not self._absolute():
                self._grab_click = event.button()
                return  # this click only grabs the mouse
        self._buttons |= _BUTTONS.get(event.button(), 0)
        self._send_pointer(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._live():
            return
        if event.button() == self._grab_click:
            self._grab_click = None
            return
        self._buttons &= ~_BUTTONS.get(event.button(), 0)
        self._send_pointer(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._live():
            return
        if self._absolute():
            if self._buttons or self._placement.contains(
                event.position().x(), event.position().y()
            ):
                self._send_pointer(event.position())
        elif self._grabbed:
            centre = QPointF(self.rect().center())
            delta = event.position() - centre
            if delta.x() or delta.y():
                scale = self._placement.scale or 1.0
                dx, dy = round(delta.x() / scale), round(delta.y() / scale)
                self._session.relative_pointer(dx, dy, self._buttons)
                self._recentre()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self._live():
            return
        delta = event.angleDelta()
        self._wheel[0] += delta.x()
        self._wheel[1] += delta.y()
        for axis, (neg, pos) in ((1, (16, 8)), (0, (64, 32))):
            while abs(self._wheel[axis]) >= _WHEEL_STEP:
                step = 1 if self._wheel[axis] > 0 else -1
                self._wheel[axis] -= step * _WHEEL_STEP
                bit = pos if step > 0 else neg
                self._send_pointer(event.position(), self._buttons | bit)
                self._send_pointer(event.position(), self._buttons)
        event.accept()

    def _send_pointer(self, pos: QPointF, buttons: int | None = None) -> None:
        s = self._session
        if s is None:
            return
        buttons = self._buttons if buttons is None else buttons
        if s.absolute_pointer:
            x, y = self._placement.to_guest(pos.x(), pos.y())
            s.pointer(x, y, buttons)
        else:
            s.relative_pointer(0, 0, buttons)

    def _grab_pointer(self) -> None:
        if self._pointer_home is None:
            self._pointer_home = QCursor.pos()
        self.grabMouse()
        self._recentre()

    def _release_pointer(self) -> None:
        self.releaseMouse()
        home, self._pointer_home = self._pointer_home, None
        if home is not None:
            QCursor.setPos(home)  # the pointer comes back where the grab began

    def _recentre(self) -> None:
        QCursor.setPos(self.mapToGlobal(self.rect().center()))

    def _pointer_mode_changed(self, absolute: bool) -> None:
        if self._grabbed:
            if absolute:
                self._release_pointer()
            else:
                self._grab_pointer()
        self._apply_cursor()

    # -- cursor --------------------------------------------------------------------------
    @property
    def guest_cursor(self) -> CursorImage | None:
        """The pointer shape the guest last set, at the guest's size; None before it set
        one (the console then shows the desktop's own pointer)."""
        return self._cursor if self._has_cursor_shape else None

    def _cursor_changed(self, cursor: CursorImage) -> None:
        self._cursor = cursor
        self._has_cursor_shape = True
        self._apply_cursor()

    def _apply_cursor(self) -> None:
        if self._session is None:
            self.unsetCursor()
        elif not self._absolute() and self._grabbed:
            self.setCursor(Qt.CursorShape.BlankCursor)
        elif not self._has_cursor_shape:
            self.unsetCursor()
        elif self._cursor.image is None:
            self.setCursor(Qt.CursorShape.BlankCursor)
        else:
            self.setCursor(self._scaled_cursor(self._cursor))

    def _scaled_cursor(self, c: CursorImage) -> QCursor:
        dpr = self.devicePixelRatioF()
        factor = self._placement.scale * dpr  # device pixels per guest pixel
        img = c.image
        assert img is not None
        if not math.isclose(factor, 1.0):
            img = img.scaled(
                max(1, round(img.width() * factor)),
                max(1, round(img.height() * factor)),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        pixmap = QPixmap.fromImage(img)
        pixmap.setDevicePixelRatio(dpr)
        scale = self._placement.scale
        return QCursor(pixmap, round(c.hotspot_x * scale), round(c.hotspot_y * scale))
