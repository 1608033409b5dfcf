"""Step 4: network cards (none to four). Each has a model and a source the connection can
really provide — user-mode NAT on session and embedded connections, libvirt's networks,
host bridges — and user-mode cards may forward host ports to the guest."""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.newvm import (
    MAX_NICS,
    NIC_MODELS,
    NICSource,
    NICSpec,
    PortForward,
    PortForwardMethod,
    Problem,
)
from widgets.newvm.common import HINT_COLOUR, FieldMessage
from widgets.newvm.wizard import NewVMWizard, Page

MODEL_WORDS = {
    "virtio": "virtio (fastest; needs the guest's virtio driver)",
    "e1000e": "Intel e1000e (PCI Express)",
    "e1000": "Intel e1000 (PCI)",
    "rtl8139": "Realtek RTL8139 (old guests)",
}
COMMON_GUEST_PORTS = (22, 80, 443, 3389, 8080)


def source_words(source: NICSource, name: str) -> str:
    if source is NICSource.USER:
        return "User-mode NAT (no set-up; the guest reaches out, not in)"
    if source is NICSource.NETWORK:
        return f"Virtual network “{name}”"
    return f"Host bridge {name}"


def _exact(problems: list[Problem], *fields: str) -> list[Problem]:
    return [p for p in problems if p.field in fields]


class ForwardRow(QWidget):
    """Host port → guest port, TCP or UDP, with its message."""

    def __init__(self, page: NetworkPage, nic: int, index: int, fwd: PortForward) -> None:
        super().__init__()
        self.page, self.nic, self.index = page, nic, index
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Host port"))
        self.host = QSpinBox()
        self.host.setRange(1, 65535)
        self.host.setValue(fwd.host_port)
        self.host.setKeyboardTracking(False)
        self.host.setObjectName(f"nic{nic}Fwd{index}Host")
        row.addWidget(self.host)
        row.addWidget(QLabel("→ guest port"))
        self.guest = QSpinBox()
        self.guest.setRange(1, 65535)
        self.guest.setValue(fwd.guest_port)
        self.guest.setKeyboardTracking(False)
        self.guest.setObjectName(f"nic{nic}Fwd{index}Guest")
        row.addWidget(self.guest)
        self.proto = QComboBox()
        self.proto.addItem("TCP", "tcp")
        self.proto.addItem("UDP", "udp")
        self.proto.setCurrentIndex(0 if fwd.proto == "tcp" else 1)
        self.proto.setObjectName(f"nic{nic}Fwd{index}Proto")
        row.addWidget(self.proto)
        self.remove = QToolButton()
        self.remove.setText("Remove")
        self.remove.setToolTip("Remove this port forward")
        self.remove.setObjectName(f"nic{nic}Fwd{index}Remove")
        row.addWidget(self.remove)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = FieldMessage()
        self.message.setObjectName(f"nic{nic}Fwd{index}Message")
        layout.addWidget(self.message)
        self.host.valueChanged.connect(self._changed)
        self.guest.valueChanged.connect(self._changed)
        self.proto.currentIndexChanged.connect(self._changed)
        self.remove.clicked.connect(lambda: page.remove_forward(nic, index))

    def _changed(self, *_args: object) -> None:
        nic = self.page.nv.spec.nics[self.nic]  # type: ignore[index]
        old = nic.port_forwards[self.index]
        nic.port_forwards[self.index] = dataclasses.replace(
            old,
            host_port=self.host.value(),
            guest_port=self.guest.value(),
            proto=self.proto.currentData(),
        )
        self.page.nv.touch("nics")


class NICBox(QGroupBox):
    """One network card: model, source, port forwards."""

    def __init__(self, page: NetworkPage, index: int, nic: NICSpec) -> None:
        super().__init__(f"Network card {index + 1}")
        self.setObjectName(f"nic{index}")
        self.page, self.index = page, index
        nv = page.nv
        host = nv.host
        assert host is not None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.setObjectName(f"nic{index}Source")
        model = QStandardItemModel(self.source)
        self.source.setModel(model)
        choices: list[tuple[NICSource, str, bool]] = []
        if host.user_networking:
            choices.append((NICSource.USER, "", True))
        choices += [(NICSource.NETWORK, n.name, n.active) for n in host.networks]
        choices += [(NICSource.BRIDGE, b, True) for b in host.bridges]
        if (nic.source, nic.name) not in {(s, n) for s, n, _ in choices}:
            choices.append((nic.source, nic.name, False))  # say what is wrong with it
        for source, name, usable in choices:
            text = source_words(source, name) + ("" if usable else " — not available")
            self.source.addItem(text, (source, name))
            if not usable:
                item = model.item(self.source.count() - 1)
                item.setEnabled(False)
            if (source, name) == (nic.source, nic.name):
                self.source.setCurrentIndex(self.source.count() - 1)
        form.addRow("Connected to:", self.source)
        self.model = QComboBox()
        self.model.setObjectName(f"nic{index}Model")
        recommended = nv.defaults.nic_model.value if nv.defaults is not None else ""
        for m in NIC_MODELS:
            words = MODEL_WORDS.get(m, m)
            if m == recommended:
                words += " — recommended for this OS"
            self.model.addItem(words, m)
        self.model.setCurrentIndex(max(0, self.model.findData(nic.model or recommended)))
        form.addRow("Model:", self.model)
        layout.addLayout(form)
        self.message = FieldMessage()
        self.message.setObjectName(f"nic{index}Message")
        layout.addWidget(self.message)

        self.forwards: list[ForwardRow] = []
        user = nic.source is NICSource.USER
        self.fwd_note = QLabel()
        self.fwd_note.setWordWrap(True)
        self.fwd_note.setStyleSheet(f"color: {HINT_COLOUR};")
        if user and host.port_forwarding is not PortForwardMethod.NONE:
            self.fwd_note.setText(
                "Port forwards let this computer reach services in the guest: "
                "127.0.0.1:host port goes to the guest port."
            )
            layout.addWidget(self.fwd_note)
            for j, fwd in enumerate(nic.port_forwards):
                row = ForwardRow(page, index, j, fwd)
                self.forwards.append(row)
                layout.addWidget(row)
            self.add_forward = QPushButton("Add Port Forward")
            self.add_forward.setObjectName(f"nic{index}AddForward")
            self.add_forward.clicked.connect(lambda: page.add_forward(index))
            buttons = QHBoxLayout()
            buttons.addWidget(self.add_forward)
            buttons.addStretch(1)
            layout.addLayout(buttons)
        elif user:
            self.fwd_note.setText("This connection cannot forward ports to user-mode cards.")
            layout.addWidget(self.fwd_note)
        remove = QPushButton("Remove This Card")
        remove.setObjectName(f"nic{index}Remove")
        remove.clicked.connect(lambda: page.remove_nic(index))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(remove)
        layout.addLayout(row)
        self.source.currentIndexChanged.connect(self._source_changed)
        self.model.currentIndexChanged.connect(self._model_changed)

    def _source_changed(self, _i: int) -> None:
        source, name = self.source.currentData()
        nic = self.page.nv.spec.nics[self.index]  # type: ignore[index]
        nic.source, nic.name = source, name
        if source is not NICSource.USER:
            nic.port_forwards.clear()
        self.page.nv.touch("nics")
        self.page.rebuild()

    def _model_changed(self, _i: int) -> None:
        self.page.nv.spec.nics[self.index].model = self.model.currentData()  # type: ignore[index]
        self.page.nv.touch("nics")

    def show_problems(self, problems: list[Problem]) -> None:
        i = self.index
        self.message.show_problems(
            _exact(problems, f"nics[{i}].source", f"nics[{i}].model", f"nics[{i}].port_forwards")
        )
        for row in self.forwards:
            row.message.show_problems(_exact(problems, f"nics[{i}].port_forwards[{row.index}]"))


class NetworkPage(Page):
    fields = ("nics",)

    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("How does it reach the network?")
        self.setSubTitle(f"Up to {MAX_NICS} network cards; only what this connection offers.")
        outer = QVBoxLayout(self)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        self.cards = QVBoxLayout(self.body)
        self.cards.setContentsMargins(0, 0, 0, 0)
        self.scroll.setWidget(self.body)
        outer.addWidget(self.scroll, 1)
        self.none_label = QLabel("No network: the guest will be offline.")
        self.none_label.setObjectName("noNetwork")
        self.message = FieldMessage()
        self.message.setObjectName("nicsMessage")
        self.add_nic_button = QPushButton("Add Network Card")
        self.add_nic_button.setObjectName("addNic")
        self.add_nic_button.clicked.connect(self.add_nic)
        row = QHBoxLayout()
        row.addWidget(self.add_nic_button)
        row.addWidget(self.none_label)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addWidget(self.message)
        self.boxes: list[NICBox] = []

    def initializePage(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        for box in self.boxes:
            box.hide()
            box.deleteLater()
        self.boxes = []
        while self.cards.count():
            item = self.cards.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
        nics = self.nv.spec.nics or []
        for i, nic in enumerate(nics):
            box = NICBox(self, i, nic)
            self.boxes.append(box)
            self.cards.addWidget(box)
        self.cards.addStretch(1)
        self.none_label.setVisible(not nics)
        self.add_nic_button.setEnabled(len(nics) < MAX_NICS and self._default_source() is not None)
        self.show_problems()

    def _default_source(self) -> tuple[NICSource, str] | None:
        d = self.nv.defaults
        if d is not None and d.nics is not None:
            return d.nics.value
        return None

    def add_nic(self) -> None:
        source = self._default_source()
        if source is None or len(self.nv.spec.nics or []) >= MAX_NICS:
            return
        model = self.nv.defaults.nic_model.value if self.nv.defaults is not None else ""
        self.nv.spec.nics = [*(self.nv.spec.nics or []), NICSpec(source[0], source[1], model)]
        self.nv.touch("nics")
        self.rebuild()

    def remove_nic(self, index: int) -> None:
        nics = list(self.nv.spec.nics or [])
        del nics[index]
        self.nv.spec.nics = nics
        self.nv.touch("nics")
        self.rebuild()

    def add_forward(self, index: int) -> None:
        nics = self.nv.spec.nics or []
        used = {f.host_port for nic in nics for f in nic.port_forwards}
        guests = {f.guest_port for f in nics[index].port_forwards}
        host_port = next(p for p in range(2222, 65536) if p not in used)
        guest = next((p for p in COMMON_GUEST_PORTS if p not in guests), 8080)
        nics[index].port_forwards.append(PortForward(host_port, guest))
        self.nv.touch("nics")
        self.rebuild()

    def remove_forward(self, index: int, j: int) -> None:
        del (self.nv.spec.nics or [])[index].port_forwards[j]
        self.nv.touch("nics")
        self.rebuild()

    def show_problems(self) -> None:
        problems = self.problems()
        self.message.show_problems(_exact(problems, "nics"))
        for box in self.boxes:
            box.show_problems(problems)
