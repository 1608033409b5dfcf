"""A VM's own window: its actions, a Console tab, an Overview with live graphs, and its XML.

The Console tab is the live display (widgets.display.ConsoleView). Where the VM has no
display Nido can show (no graphics device, SPICE for now, a driver without graphics
sockets), it falls back to a screenshot of the guest's screen refreshed every second,
which offers Start when the VM is off.
"""

from __future__ import annotations

import libvirt
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.inventory import VMInfo
from app.core.vmstate import Action
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.models import VMTreeModel
from app.qt.thumbnails import Grab, grab
from widgets.display import ConsoleView
from widgets.graphs import ResourceGraphs
from widgets.icons import icon
from widgets.vm_actions import VMActions

PREVIEW_MS = 1000


#: Where the settings keep the last VM window's size ("WIDTHxHEIGHT"): one size for all
#: of them, as a person sizes "a VM window" (positions are left to the window manager).
SIZE_KEY = "vm-size"
DEFAULT_SIZE = (900, 640)
SMALLEST = (480, 360)


def remembered_size(saved: str | None) -> tuple[int, int]:
    """The size a new VM window opens at: the last one's, else the default."""
    try:
        width, height = (int(n) for n in (saved or "").split("x"))
    except ValueError:
        return DEFAULT_SIZE
    if width < SMALLEST[0] or height < SMALLEST[1] or width > 16384 or height > 16384:
        return DEFAULT_SIZE
    return width, height


class ConsolePlaceholder(QWidget):
    """Where the live display cannot be shown: a live-ish preview or a Start button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.image = QLabel()
        self.image.setObjectName("consolePreview")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(QSize(320, 180))
        self.image.setTextFormat(Qt.TextFormat.PlainText)
        self.image.setStyleSheet("background:#111; color:#ddd; border-radius:4px;")
        layout.addWidget(self.image, 1)
        self.note = QLabel()
        self.note.setObjectName("consoleNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.note)
        self.start_button = QPushButton(icon("start"), "Start")
        self.start_button.setObjectName("consoleStart")
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignCenter)
        #: Why the live display is not shown (the display controller's words).
        self.reason = ""

    def set_reason(self, reason: str, vm: VMInfo) -> None:
        self.reason = reason
        self.show_state(vm)

    def show_state(self, vm: VMInfo) -> None:
        running = vm.status.active
        self.start_button.setVisible(not running)
        if running:
            preview = "Preview: a screenshot of the guest, refreshed every second."
            self.note.setText(f"{self.reason} {preview}" if self.reason else preview)
        else:
            self.image.setPixmap(QPixmap())
            self.image.setText(f"{vm.display_name} is {vm.status.value.lower()}.")
            self.note.setText("")

    def show_image(self, image: QImage) -> None:
        self.image.setPixmap(QPixmap.fromImage(image))


class VMWindow(QMainWindow):
    """One VM: actions, console preview, overview with graphs, and XML."""

    def __init__(self, hub: ConnectionHub, model: VMTreeModel, vm: VMInfo) -> None:
        super().__init__()
        self.setObjectName("vmWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.hub = hub
        self.model = model
        self.key = vm.key
        self.vm = vm
        self.resize(*remembered_size(hub.settings.window_geometry.get(SIZE_KEY)))

        self.actions_ = VMActions(hub, model, self, lambda: self.key)
        toolbar = QToolBar("VM", self)
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(22, 22))
        self.actions_.add_to(toolbar, skip=frozenset({Action.OPEN}))
        self.addToolBar(toolbar)
        self.actions_.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))

        self.tabs = QTabWidget()
        self.tabs.setObjectName("vmTabs")
        self.console = ConsolePlaceholder()
        self.console.start_button.clicked.connect(lambda: self.actions_.trigger(Action.START))
        self.display = ConsoleView(hub, vm, fallback=self.console)
        self.display.startRequested.connect(lambda: self.actions_.trigger(Action.START))
        self.display.fallbackShown.connect(self._fallback_shown)
        self.tabs.addTab(self.display, "Console")
        self.overview = QWidget()
        form = QFormLayout(self.overview)
        self.fields: dict[str, QLabel] = {}
        for key in ("Name", "Operating system", "State", "vCPUs", "Memory", "Host", "UUID"):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(f"{key}:", label)
        self.graphs = ResourceGraphs()
        form.addRow(self.graphs)
        self.tabs.addTab(self.overview, "Overview")
        self.xml_view = QPlainTextEdit()
        self.xml_view.setObjectName("xmlView")
        self.xml_view.setReadOnly(True)
        self.xml_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.xml_view, "XML")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setCentralWidget(self.tabs)

        self._preview_busy = False
        self._preview_digest: bytes | None = None
        self._preview_timer = QTimer(self)
        self._preview_timer.setInterval(PREVIEW_MS)
        self._preview_timer.timeout.connect(self._refresh_preview)
        hub.vmChanged.connect(self._vm_changed)
        hub.vmRemoved.connect(self._removed)
        hub.statsUpdated.connect(self._stats)
        hub.want_detail(*self.key, True)  # the graphs show disk and network rates
        self._wants_detail = True
        self._show(vm)

    # -- state -------------------------------------------------------------------------
    def _vm_changed(self, info: VMInfo) -> None:
        if info.key == self.key and info != self.vm:
            self._show(info)

    def _removed(self, conn_id: str, uuid: str) -> None:
        # Deleted here or undefined elsewhere: the window has nothing left to show. (A
        # dropped connection is not a removal: the window waits for it to come back.)
        if (conn_id, uuid) == self.key:
            self.close()

    def _show(self, vm: VMInfo) -> None:
        self.vm = vm
        self.setWindowTitle(f"{vm.display_name} — Nido")
        conn = self.hub.connection(vm.conn_id)
        host = conn.spec.label if conn else ""
        if conn and conn.accelerator:
            host += f" · {conn.accelerator.label}"
        values = {
            "Name": vm.name,
            "Operating system": vm.os_name or "Unknown",
            "State": vm.status.value,
            "vCPUs": str(vm.vcpus),
            "Memory": f"{vm.memory_kib / 1024:.0f} MiB",
            "Host": host,
            "UUID": vm.uuid,
        }
        for key, value in values.items():
            self.fields[key].setText(value)
        self.console.show_state(vm)
        self._update_preview_timer()

    def _update_preview_timer(self) -> None:
        """Grab screenshots only while someone can see them."""
        watching = (
            self.vm.status.active
            and self.isVisible()
            and not self.isMinimized()
            and self._preview_shown()
        )
        if watching and not self._preview_timer.isActive():
            self._preview_timer.start()
            self._refresh_preview()
        elif not watching:
            self._preview_timer.stop()
            self._preview_digest = None

    def _fallback_shown(self, shown: bool) -> None:
        if shown:
            self.console.set_reason(self.display.controller.detail, self.vm)
        self._update_preview_timer()

    def _preview_shown(self) -> bool:
        return self.tabs.currentWidget() is self.display and self.display.showing_fallback

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._update_preview_timer()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._update_preview_timer()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        self._update_preview_timer()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._preview_timer.stop()
        if self._wants_detail:
            self._wants_detail = False
            self.hub.want_detail(*self.key, False)
        self.display.shutdown()
        if not self.isMaximized() and not self.isFullScreen():  # the next VM window's size
            self.hub.settings.window_geometry[SIZE_KEY] = f"{self.width()}x{self.height()}"
            self.hub.save()
        super().closeEvent(event)

    # -- console preview -------------------------------------------------------------------
    def _refresh_preview(self) -> None:
        conn = self.hub.connection(self.key[0])
        virconn = conn.virconn if conn else None
        if self._preview_busy or virconn is None or not self._preview_shown():
            return
        self._preview_busy = True
        size = self.console.image.size() * self.devicePixelRatioF()
        (
            Op(grab, virconn, self.key[1], size, self._preview_digest, what="show the screen")
            .success(self._preview_ready)
            .failure(self._preview_failed)
            .owned_by(self)
            .run_on(conn.background)
        )

    def _preview_ready(self, result: Grab) -> None:
        self._preview_busy = False
        self._preview_digest = result.digest
        if self.vm.status.active and result.image is not None:  # None: unchanged
            result.image.setDevicePixelRatio(self.devicePixelRatioF())
            self.console.show_image(result.image)

    def _preview_failed(self, err) -> None:
        self._preview_busy = False
        if self.vm.status.active:
            self.console.image.setText(err.summary)

    # -- overview and XML ----------------------------------------------------------------
    def _stats(self, conn_id: str) -> None:
        if conn_id != self.key[0]:
            return
        st = self.hub.vm_stats(*self.key)
        if st is not None:
            self.graphs.update_from(st)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.xml_view:
            self._load_xml()
        self._update_preview_timer()

    def _load_xml(self) -> None:
        conn = self.hub.connection(self.key[0])
        virconn = conn.virconn if conn else None
        if virconn is None:
            return
        (
            Op(_xml_of, virconn, self.key[1], what="read the VM's XML")
            .success(self.xml_view.setPlainText)
            .owned_by(self)
            .run_on(conn.workers)
        )


def _xml_of(virconn: libvirt.virConnect, uuid: str) -> str:
    return virconn.lookupByUUIDString(uuid).XMLDesc(0)
