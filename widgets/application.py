"""Starting Nido's GUI: the single-instance check, the hub and its model, the main window,
VM windows, the command-line requests, and quitting (with the running-guests question).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import APP_NAME, __version__, logsetup
from app.cli import Options
from app.core import settings as settings_store
from app.core import uris
from app.core.connection import Connection, ConnectionSpec
from app.core.errors import from_exception
from app.core.inventory import VMInfo
from app.core.vmstate import Action
from app.qt import collector, jobs
from app.qt.bridge import ConnectionHub
from app.qt.models import VMTreeModel, only_live_roles
from app.qt.single_instance import SingleInstance
from widgets import quit_flow
from widgets.error_dialog import show_error
from widgets.icons import icon
from widgets.main_window import MainWindow

log = logging.getLogger(__name__)


class Nido(QObject):
    """The running application: one hub, one model, one main window, VM windows on demand."""

    def __init__(
        self,
        settings: settings_store.Settings,
        *,
        save_settings: bool = True,
        connection_factory: Callable[[ConnectionSpec], Connection] = Connection,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.hub = ConnectionHub(
            settings, save_settings=save_settings, connection_factory=connection_factory
        )
        self.model = VMTreeModel(self.hub)
        self.window = MainWindow(self.hub, self.model)
        restore_geometry(self.window, self.settings.window_geometry.get("main"))
        self.window.openVM.connect(self.open_vm)
        self.window.quitRequested.connect(self.request_quit)
        self.vm_windows: dict[tuple[str, str], QObject] = {}
        self._pending_console: tuple[str | None, str] | None = None
        self._shutdown_flow: quit_flow.GuestShutdown | None = None
        self._listed: set[str] = set()
        self.model.rowsInserted.connect(self._check_pending_console)
        self.model.dataChanged.connect(
            lambda _tl, _br, roles=(): (
                None if only_live_roles(roles) else self._check_pending_console()
            )
        )
        jobs.set_default_failure_handler(lambda err: show_error(self.window, err))

    def start(self) -> None:
        self.hub.start()
        self.hub.vmsReset.connect(self._log_first_listing)

    def _log_first_listing(self, conn_id: str, vms: list) -> None:
        """Log when each connection's list is first on screen (startup diagnostics, and
        what the startup benchmark reads)."""
        if conn_id in self._listed:
            return
        self._listed.add(conn_id)
        conn = self.hub.connection(conn_id)
        label = conn.spec.label if conn else conn_id
        # Logged from the event loop once the rows are in and painted.
        QTimer.singleShot(0, lambda: log.info("startup: %d VMs of %s listed", len(vms), label))

    # -- requests (command line, or a second launch) ---------------------------------------
    def handle(self, connect: str | None, console: str | None) -> None:
        conn_id = None
        if connect:
            conn = self.hub.find_by_uri(connect)
            if conn is None:
                conn = self.hub.add_connection(
                    ConnectionSpec(kind=uris.Kind.CUSTOM, uri=connect), persistent=False
                )
            elif conn.virconn is None:
                conn.connect()
            conn_id = conn.spec.id
        if console:
            self._pending_console = (conn_id, console)
            self._check_pending_console()
        self.raise_window()

    def raise_window(self) -> None:
        self.window.show()
        self.window.setWindowState(
            self.window.windowState() & ~self.window.windowState().WindowMinimized
        )
        self.window.raise_()
        self.window.activateWindow()

    def _check_pending_console(self, *_args) -> None:
        if self._pending_console is None:
            return
        conn_id, name = self._pending_console
        for vm in self.model.all_vms():
            if vm.name == name and (conn_id is None or vm.conn_id == conn_id):
                self._pending_console = None
                self.window.select_vm(vm.conn_id, vm.uuid)
                self.open_vm(vm)
                return

    # -- VM windows ------------------------------------------------------------------------
    def open_vm(self, vm: VMInfo) -> None:
        window = self.vm_windows.get(vm.key)
        if window is None:
            from widgets.vm_window import VMWindow  # pyqtgraph loads only when needed

            window = VMWindow(self.hub, self.model, vm)
            self.vm_windows[vm.key] = window
            window.destroyed.connect(lambda _obj=None, k=vm.key: self.vm_windows.pop(k, None))
        window.show()
        window.raise_()
        window.activateWindow()

    # -- quitting --------------------------------------------------------------------------
    def request_quit(self) -> None:
        if self._shutdown_flow is not None:
            return
        guests = quit_flow.running_embedded_guests(self.hub, self.model)
        mode = self.settings.quit_embedded_guests
        if guests and mode == "ask":
            choice, remember = quit_flow.ask(self.window, guests)
            if choice is quit_flow.Choice.CANCEL:
                return
            if remember:
                self.settings.quit_embedded_guests = choice.value
                self.hub.save()
            mode = choice.value
        if guests and mode == "shutdown":
            self._run_guest_flow(guests, Action.SHUTDOWN)
            return
        self.quit()

    def _after_guest_shutdown(self, all_off: bool) -> None:
        flow, self._shutdown_flow = self._shutdown_flow, None
        left = flow.remaining() if flow is not None and not all_off else []
        if left:
            if flow.action is Action.FORCE_OFF:  # even pulling the plug did not do it
                answer = QMessageBox.question(
                    self.window,
                    "Quit Nido",
                    f"{quit_flow.guest_names(left, 4)} could not be turned off. "
                    "Quit anyway and leave them running?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Cancel,
                )
                if answer != QMessageBox.StandardButton.Yes:
                    return
            else:
                choice = quit_flow.ask_about_stragglers(self.window, left)
                if choice is quit_flow.Stragglers.CANCEL:
                    return
                if choice is quit_flow.Stragglers.FORCE_OFF:
                    self._run_guest_flow(left, Action.FORCE_OFF)
                    return
        self.quit()

    def _run_guest_flow(self, guests: list[VMInfo], action: Action) -> None:
        self._shutdown_flow = quit_flow.GuestShutdown(
            self.hub, self.model, guests, self.window, action
        )
        self._shutdown_flow.finished.connect(self._after_guest_shutdown)
        self._shutdown_flow.start()

    def quit(self) -> None:
        self.window.quitting = True
        self.settings.window_geometry["main"] = saved_geometry(self.window)
        self.hub.save()
        for window in list(self.vm_windows.values()):
            window.close()
        self.window.thumbnails.stop()
        self.hub.shutdown()
        jobs.set_default_failure_handler(None)
        QApplication.quit()


def saved_geometry(window: QWidget) -> str:
    """A window's place and size, as text for the settings."""
    return bytes(window.saveGeometry().toBase64().data()).decode("ascii")


def restore_geometry(window: QWidget, saved: str | None) -> None:
    """Put a window back where :func:`saved_geometry` found it. Qt keeps it on a screen
    that exists now; anything unreadable leaves the default size."""
    if saved and not window.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii"))):
        log.info("the saved window geometry could not be used")


def _install_excepthook(nido: Nido) -> None:
    def hook(exc_type, exc, tb) -> None:
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        show_error(nido.window, from_exception(exc, "finish what was asked"))

    sys.excepthook = hook


def run(options: Options) -> int:
    """Start Nido (or hand the request to the one already running)."""
    log_path = logsetup.setup(options.debug)
    qt_app = QApplication([sys.argv[0], *options.qt_args])
    qt_app.setApplicationName(APP_NAME)
    qt_app.setApplicationVersion(__version__)
    qt_app.setDesktopFileName("nido")
    qt_app.setWindowIcon(icon("nido"))
    qt_app.setQuitOnLastWindowClosed(False)
    collector.install()  # cycles (and the Qt objects in them) die on this thread only

    message = {"connect": options.connect, "console": options.show_domain_console}
    single = SingleInstance()
    if single.forward(message):
        print("Nido is already running; its window was brought forward.")
        return 0
    if not single.listen():
        if single.forward(message):
            return 0
        print("nido: could not start or reach the running Nido.", file=sys.stderr)
        return 1

    log.info("Nido %s starting; log at %s", __version__, log_path)
    nido = Nido(settings_store.load())
    _install_excepthook(nido)
    single.messageReceived.connect(lambda m: nido.handle(m.get("connect"), m.get("console")))
    nido.start()
    nido.handle(options.connect, options.show_domain_console)
    QTimer.singleShot(0, lambda: log.info("window shown"))
    try:
        return qt_app.exec()
    finally:
        single.close()
