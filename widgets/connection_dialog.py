"""Adding a connection: presets for This computer, the user session, the system daemon, a
remote host over SSH, or any URI, with the resulting URI shown as it is typed."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core import uris
from app.core.connection import ConnectionSpec


class ConnectionDialog(QDialog):
    """Asks for a new connection; `spec()` gives it once accepted."""

    def __init__(self, has_local: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionDialog")
        self.setWindowTitle("Add Connection")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for kind, label in uris.KIND_LABELS.items():
            if kind is uris.Kind.LOCAL and has_local:
                continue
            self.kind.addItem(label, kind)
        form.addRow("Connect to:", self.kind)

        self.user = QLineEdit()
        self.user.setObjectName("user")
        self.user.setPlaceholderText("your user name on the host (optional)")
        self.host = QLineEdit()
        self.host.setObjectName("host")
        self.host.setPlaceholderText("host name or address, e.g. server.local")
        self.custom = QLineEdit()
        self.custom.setObjectName("custom")
        self.custom.setPlaceholderText("e.g. qemu+tcp://server/system")
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.name.setPlaceholderText("optional; shown in the VM list")
        form.addRow("User:", self.user)
        form.addRow("Host:", self.host)
        form.addRow("URI:", self.custom)
        form.addRow("Name:", self.name)
        self.autoconnect = QCheckBox("Connect when Nido starts")
        self.autoconnect.setChecked(True)
        form.addRow("", self.autoconnect)

        self.preview = QLabel()
        self.preview.setObjectName("preview")
        self.preview.setWordWrap(True)
        layout.addWidget(self.preview)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._form = form
        for widget in (self.user, self.host, self.custom, self.name):
            widget.textChanged.connect(self._update)
        self.kind.currentIndexChanged.connect(self._update)
        self._update()

    def current_kind(self) -> uris.Kind:
        return self.kind.currentData()

    def _uri(self) -> str:
        kind = self.current_kind()
        if kind is uris.Kind.LOCAL:
            return ""
        return uris.preset_uri(
            kind,
            user=self.user.text().strip(),
            host=self.host.text().strip(),
            custom=self.custom.text(),
        )

    def _update(self) -> None:
        kind = self.current_kind()
        self._form.setRowVisible(self.user, kind is uris.Kind.SSH)
        self._form.setRowVisible(self.host, kind is uris.Kind.SSH)
        self._form.setRowVisible(self.custom, kind is uris.Kind.CUSTOM)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if kind is uris.Kind.LOCAL:
            self.preview.setText(
                "Nido picks the best way to reach this computer's hypervisor each time it starts: "
                "the system or session libvirt daemon, or QEMU run by Nido itself."
            )
            ok.setEnabled(True)
            return
        try:
            uri = self._uri()
        except ValueError as exc:
            self.preview.setText(f"<span style='color:#c0392b'>{html.escape(str(exc))}.</span>")
            ok.setEnabled(False)
            return
        self.preview.setText(f"URI: <tt>{html.escape(uri)}</tt>")
        ok.setEnabled(True)

    def spec(self) -> ConnectionSpec:
        return ConnectionSpec(
            kind=self.current_kind(),
            uri=self._uri(),
            name=self.name.text().strip(),
            autoconnect=self.autoconnect.isChecked(),
        )
