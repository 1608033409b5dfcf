"""Nido's main window: the VM list grouped by connection, a filter box, the VM actions in a
toolbar, the menu and a context menu, and a status bar that says what is going on. While
no connected connection has a VM, the list offers New VM… in its empty space."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from app import APP_NAME, __version__
from app.core import uris
from app.core.connection import Connection, State
from app.qt.bridge import ConnectionHub
from app.qt.models import Role, VMFilterModel, VMTreeModel, only_live_roles
from app.qt.thumbnails import ThumbnailService
from widgets.connection_dialog import ConnectionDialog
from widgets.display import keys
from widgets.folders import Folders
from widgets.icons import icon
from widgets.preferences import PreferencesDialog
from widgets.vm_actions import VMActions
from widgets.vm_list import EmptyState, VMListView, thumbnail_size

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The VM list and everything around it."""

    openVM = Signal(object)  # VMInfo
    quitRequested = Signal()

    def __init__(self, hub: ConnectionHub, model: VMTreeModel) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("nido"))
        self.resize(880, 620)
        self.hub = hub
        self.model = model
        self.quitting = False
        self._listed: set[str] = set()  # connections whose VMs have been listed

        self.proxy = VMFilterModel(self)
        self.proxy.setSourceModel(model)
        self.view = VMListView(self)
        self.view.setModel(self.proxy)
        self.setCentralWidget(self.view)

        self.vm_actions = VMActions(hub, model, self, self.selected_key)
        self.vm_actions.openRequested.connect(self.openVM)
        self.vm_actions.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))

        self.filter = QLineEdit()
        self.filter.setObjectName("filter")
        self.filter.setPlaceholderText("Filter VMs (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(260)
        self.filter.textChanged.connect(self._filter_changed)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.view.set_empty_state(EmptyState(self.new_vm_action))

        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.statusBar().addPermanentWidget(self.summary)

        self.view.selectionModel().currentChanged.connect(
            lambda *_: self.vm_actions.update_enabled()
        )
        self.view.doubleClicked.connect(self._activated)
        self.view.activated.connect(self._activated)
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.thumbnails = ThumbnailService(hub, model, self.view.visible_vm_keys, self)
        self.thumbnails.size = thumbnail_size(self.devicePixelRatioF())
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._schedule_summary)
        model.dataChanged.connect(
            lambda _tl, _br, roles=(): None if only_live_roles(roles) else self._schedule_summary()
        )
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(100)
        self._summary_timer.timeout.connect(self._update_summary)
        self._update_summary()
        self._told_accelerator: set[str] = set()
        hub.connectionChanged.connect(self._explain_accelerator)
        hub.vmsReset.connect(self._listed_vms)
        hub.connectionChanged.connect(self._update_new_vm)
        hub.connectionRemoved.connect(self._update_new_vm)
        self._update_new_vm()

    # -- construction --------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.new_vm_action = QAction(icon("new-vm"), "&New VM…", self)
        self.new_vm_action.setObjectName("action_new_vm")
        self.new_vm_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_vm_action.setToolTip("Create a VM from an install disc or a disk image (Ctrl+N)")
        self.new_vm_action.triggered.connect(self.new_vm)
        self.new_vm_action.setEnabled(False)
        self.new_vm_wizard: QWidget | None = None
        self.add_connection_action = QAction(icon("add-connection"), "&Add Connection…", self)
        self.add_connection_action.setObjectName("action_add_connection")
        self.add_connection_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        self.add_connection_action.triggered.connect(self.add_connection)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcuts(keys.quit_keys())
        # Ctrl+Q quits from a VM window too; a live display with the focus keeps it for
        # the guest (widgets.display.canvas).
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.quitRequested)
        self.find_action = QAction("&Filter VMs", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(
            lambda: (self.filter.setFocus(), self.filter.selectAll())
        )
        self.thumbnails_action = QAction("Show &Thumbnails", self, checkable=True)
        self.thumbnails_action.setChecked(self.hub.settings.thumbnails)
        self.thumbnails_action.toggled.connect(self._toggle_thumbnails)
        self.preferences_action = QAction("&Preferences…", self)
        self.preferences_action.setObjectName("action_preferences")
        self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))  # no standard one on X11
        self.preferences_action.triggered.connect(self.show_preferences)
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.triggered.connect(self._about)
        self.addAction(self.find_action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_vm_action)
        file_menu.addAction(self.add_connection_action)
        file_menu.addSeparator()
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        vm_menu = bar.addMenu("&Virtual Machine")
        self.vm_actions.add_to(vm_menu)
        view_menu = bar.addMenu("Vie&w")
        view_menu.addAction(self.find_action)
        view_menu.addAction(self.thumbnails_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Actions", self)
        toolbar.setObjectName("toolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(22, 22))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.addAction(self.new_vm_action)
        toolbar.addSeparator()
        self.vm_actions.add_to(toolbar)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(self.filter)
        self.addToolBar(toolbar)

    # -- selection -----------------------------------------------------------------------
    def selected_key(self) -> tuple[str, str] | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.data(Role.KIND) != "vm":
            return None
        return index.data(Role.KEY)

    def select_vm(self, conn_id: str, uuid: str) -> bool:
        source = self.model.vm_index(conn_id, uuid)
        index = self.proxy.mapFromSource(source)
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def _activated(self, index: QModelIndex) -> None:
        if index.data(Role.KIND) == "vm":
            self.openVM.emit(index.data(Role.VM))

    def _filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.view.expandAll()
        self.thumbnails.refresh()

    # -- context menus -------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setObjectName("contextMenu")
        if index.data(Role.KIND) == "vm":
            self.vm_actions.add_to(menu)
        else:
            self._fill_connection_menu(menu, index.data(Role.CONNECTION))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _fill_connection_menu(self, menu: QMenu, conn: Connection) -> None:
        menu.addAction(self.new_vm_action)  # the right-clicked connection is the current one
        menu.addSeparator()
        connect = menu.addAction("&Connect", conn.connect)
        connect.setEnabled(conn.state is State.DISCONNECTED)
        disconnect = menu.addAction("&Disconnect", conn.disconnect)
        disconnect.setEnabled(conn.wants_open)  # also stops a connection that keeps retrying
        menu.addSeparator()
        menu.addAction("&Remove Connection…", lambda c=conn: self.remove_connection(c))

    # -- new VMs -------------------------------------------------------------------------
    def target_connection(self) -> Connection | None:
        """Where a new VM goes: the selected connection (or the selected VM's), if it is
        connected; else the first connected one."""
        index = self.view.currentIndex()
        chosen = None
        if index.isValid() and index.data(Role.KIND) == "connection":
            chosen = index.data(Role.CONNECTION)
        elif index.isValid() and index.data(Role.KIND) == "vm":
            chosen = self.hub.connection(index.data(Role.VM).conn_id)
        if chosen is not None and chosen.state is State.CONNECTED:
            return chosen
        return next((c for c in self.hub.connections() if c.state is State.CONNECTED), None)

    def _update_new_vm(self, *_args) -> None:
        self.new_vm_action.setEnabled(
            any(c.state is State.CONNECTED for c in self.hub.connections())
        )
        self._update_empty()

    def _listed_vms(self, conn_id: str, _vms: list) -> None:
        self._listed.add(conn_id)
        self._update_empty()

    def is_empty(self) -> bool:
        """Some connection is connected, every connected one has listed its VMs (no
        flash of 'No VMs yet' while a list is on its way), and none has a VM."""
        connected = {c.spec.id for c in self.hub.connections() if c.state is State.CONNECTED}
        self._listed &= connected
        if not connected or not connected <= self._listed:
            return False
        return not any(vm.conn_id in connected for vm in self.model.all_vms())

    def _update_empty(self) -> None:
        self.view.show_empty(self.is_empty())

    def new_vm(self) -> None:
        conn = self.target_connection()
        if conn is None:
            return
        if self.new_vm_wizard is not None and self.new_vm_wizard.isVisible():
            self.new_vm_wizard.raise_()
            self.new_vm_wizard.activateWindow()
            return
        from widgets.newvm import NewVMWizard  # libosinfo and the wizard load when needed

        wizard = NewVMWizard(
            conn,
            self.model,
            self,
            on_created=self._open_new_vm,
            folders=Folders(self.hub.settings, self.hub.save),
        )
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.destroyed.connect(lambda _obj=None: setattr(self, "new_vm_wizard", None))
        self.new_vm_wizard = wizard
        wizard.show()

    def _open_new_vm(self, vm) -> None:
        self.select_vm(vm.conn_id, vm.uuid)
        self.openVM.emit(vm)

    # -- connections -----------------------------------------------------------------------
    def add_connection(self) -> None:
        has_local = any(c.spec.kind is uris.Kind.LOCAL for c in self.hub.connections())
        dialog = ConnectionDialog(has_local, self)
        if dialog.exec() == ConnectionDialog.DialogCode.Accepted:
            conn = self.hub.add_connection(dialog.spec())
            conn.connect()  # the button said Connect; autoconnect is about later starts

    def remove_connection(self, conn: Connection) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove Connection",
            f"Remove “{conn.spec.label}” from Nido?\n\nIts VMs are not touched; add the "
            "connection again to see them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if box.exec() == QMessageBox.StandardButton.Yes:
            self.hub.remove_connection(conn.spec.id)

    # -- status --------------------------------------------------------------------------
    def _schedule_summary(self, *_args) -> None:
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _update_summary(self) -> None:
        vms = self.model.all_vms()
        running = sum(1 for vm in vms if vm.status.active)
        text = f"{len(vms)} VM{'s' if len(vms) != 1 else ''}, {running} running"
        self.summary.setText(text)
        self._update_empty()

    def _explain_accelerator(self, conn_id: str) -> None:
        """Say once per connection, in the status bar, when guests will run without KVM."""
        conn = self.hub.connection(conn_id)
        if conn is None or conn.state is not State.CONNECTED or conn_id in self._told_accelerator:
            return
        self._told_accelerator.add(conn_id)
        if conn.accelerator is not None and not conn.accelerator.is_kvm:
            self.statusBar().showMessage(f"{conn.spec.label}: {conn.accelerator.headline}", 20_000)

    def _toggle_thumbnails(self, on: bool) -> None:
        self.hub.settings.thumbnails = on
        self.hub.save()
        if on and self.isVisible():
            self.thumbnails.start()
        else:
            self.thumbnails.stop()
            for vm in self.model.all_vms():
                self.model.set_thumbnail(vm.conn_id, vm.uuid, None)

    def show_preferences(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self.hub.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._preferences_changed)
        dialog.open()
        return dialog

    def _preferences_changed(self) -> None:
        # Starts or stops the thumbnails if that choice changed; saves either way.
        self.thumbnails_action.setChecked(self.hub.settings.thumbnails)
        self.hub.save()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME} {__version__}</b><br>Run several operating systems side by side "
            "on this PC.<br><br>QEMU/KVM through libvirt, in Qt.",
        )

    # -- window events -------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.hub.settings.thumbnails:
            self.thumbnails.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.thumbnails.stop()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if self.isMinimized():
            self.thumbnails.stop()
        elif self.isVisible() and self.hub.settings.thumbnails:
            self.thumbnails.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the main window quits Nido; the application decides whether that is
        # fine right now (running embedded guests) and may keep the window open. Once it
        # has decided to quit, the window closes like any other.
        if self.quitting:
            super().closeEvent(event)
            return
        event.ignore()
        self.quitRequested.emit()
