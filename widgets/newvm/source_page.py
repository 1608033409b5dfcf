"""Step 1: where the guest comes from — an install disc image, or an existing disk image
(used in place, copied, or converted from VMDK/VDI)."""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import NidoError
from app.core.newvm import ImageInfo, ImportMode, SourceKind, inspect_image
from app.core.newvm.images import CONVERTED_FORMATS
from app.qt.jobs import Op
from widgets.folders import Folders, Purpose
from widgets.newvm.common import FieldMessage, size_text
from widgets.newvm.wizard import NewVMWizard, Page

PATH_DELAY_MS = 300  # a typed path is looked at once typing pauses


class PathField(QWidget):
    """A path box with a Browse button."""

    def __init__(
        self, placeholder: str, title: str, filters: str, folders: Folders, purpose: Purpose
    ) -> None:
        super().__init__()
        self._folders, self._purpose = folders, purpose
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.browse = QPushButton("Browse…")
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse)
        self._title, self._filters = title, filters
        self.browse.clicked.connect(self._pick)

    def _pick(self) -> None:
        # Beside the path typed so far, else where the person last picked one.
        start = os.path.dirname(os.path.expanduser(self.edit.text()))
        if not os.path.isdir(start):
            start = self._folders.start(self._purpose)
        path, _ = QFileDialog.getOpenFileName(self, self._title, start, self._filters)
        if path:
            self._folders.used(self._purpose, path)
            self.edit.setText(path)


class SourcePage(Page):
    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("Where does the new VM come from?")
        self.setSubTitle("Install an operating system from a disc image, or use a disk image.")
        layout = QVBoxLayout(self)

        self.iso_radio = QRadioButton("Install from a disc image (ISO)")
        self.iso_radio.setObjectName("sourceIso")
        self.import_radio = QRadioButton("Import an existing disk image (qcow2, raw, VMDK, VDI)")
        self.import_radio.setObjectName("sourceImport")
        self.kind_group = QButtonGroup(self)
        self.kind_group.addButton(self.iso_radio)
        self.kind_group.addButton(self.import_radio)
        self.iso_radio.setChecked(True)

        self.iso = PathField(
            "/path/to/install-disc.iso",
            "Choose a disc image",
            "Disc images (*.iso *.ISO);;All files (*)",
            nv.folders,
            Purpose.DISC_IMAGES,
        )
        self.iso.edit.setObjectName("isoPath")
        self.iso_message = FieldMessage()
        self.iso_message.setObjectName("isoMessage")
        self.detected = QLabel()
        self.detected.setObjectName("detectedLabel")
        self.detected.setWordWrap(True)

        self.image = PathField(
            "/path/to/disk.qcow2",
            "Choose a disk image",
            "Disk images (*.qcow2 *.img *.raw *.vmdk *.vdi);;All files (*)",
            nv.folders,
            Purpose.DISK_IMAGES,
        )
        self.image.edit.setObjectName("imagePath")
        self.image_message = FieldMessage()
        self.image_message.setObjectName("imageMessage")
        self.image_info = QLabel()
        self.image_info.setObjectName("imageInfo")
        self.in_place = QRadioButton("Use it where it is")
        self.in_place.setObjectName("importInPlace")
        self.copy = QRadioButton("Copy it into this connection's storage")
        self.copy.setObjectName("importCopy")
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.in_place)
        self.mode_group.addButton(self.copy)
        self.copy.setChecked(True)
        self.mode_message = FieldMessage()
        self.mode_message.setObjectName("importModeMessage")

        grid = QGridLayout()
        grid.setColumnMinimumWidth(0, 24)
        grid.addWidget(self.iso_radio, 0, 0, 1, 2)
        grid.addWidget(self.iso, 1, 1)
        grid.addWidget(self.iso_message, 2, 1)
        grid.addWidget(self.detected, 3, 1)
        grid.setRowMinimumHeight(4, 12)
        grid.addWidget(self.import_radio, 5, 0, 1, 2)
        grid.addWidget(self.image, 6, 1)
        grid.addWidget(self.image_message, 7, 1)
        grid.addWidget(self.image_info, 8, 1)
        modes = QHBoxLayout()
        modes.addWidget(self.in_place)
        modes.addWidget(self.copy)
        modes.addStretch(1)
        grid.addLayout(modes, 9, 1)
        grid.addWidget(self.mode_message, 10, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.host_label = QLabel()
        self.host_label.setObjectName("hostLabel")
        self.host_label.setWordWrap(True)
        layout.addWidget(self.host_label)

        self._path_timer = QTimer(self)
        self._path_timer.setSingleShot(True)
        self._path_timer.setInterval(PATH_DELAY_MS)
        self._path_timer.timeout.connect(self._apply_path)
        self._info_token = 0
        self.info: ImageInfo | None = None

        self.iso_radio.toggled.connect(self._kind_changed)
        self.iso.edit.textChanged.connect(lambda _t: self._path_timer.start())
        self.image.edit.textChanged.connect(lambda _t: self._path_timer.start())
        self.iso.edit.editingFinished.connect(self._apply_now)
        self.image.edit.editingFinished.connect(self._apply_now)
        self.in_place.toggled.connect(self._mode_changed)
        nv.detectionChanged.connect(self._detection_changed)
        nv.osChanged.connect(self._detection_changed)
        nv.hostChanged.connect(self._host_changed)
        self._kind_changed()
        self._host_changed()

    # -- state --------------------------------------------------------------------------
    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        if self.nv.spec.source is SourceKind.ISO:
            return ("iso_path",)
        return ("image_path", "import_mode")

    def ready(self) -> bool:
        nv = self.nv
        if self._path_timer.isActive() or nv.host is None:
            return False
        if nv.spec.source is SourceKind.ISO:
            return not nv.detecting and nv.detection_error is None and nv.os_ready
        return self.info is not None and nv.os_ready

    def _kind_changed(self) -> None:
        iso = self.iso_radio.isChecked()
        self.nv.spec.source = SourceKind.ISO if iso else SourceKind.IMPORT
        self.iso.setEnabled(iso)
        for w in (self.image, self.in_place, self.copy):
            w.setEnabled(not iso)
        self._apply_path()

    def _apply_now(self) -> None:
        if self._path_timer.isActive():
            self._path_timer.stop()
            self._apply_path()

    def _apply_path(self) -> None:
        self._path_timer.stop()
        nv, spec = self.nv, self.nv.spec
        if spec.source is SourceKind.ISO:
            path = self.iso.edit.text().strip()
            if path != spec.iso_path or spec.detection is None:
                spec.iso_path = path
                if path:
                    nv.detect(path)
                else:
                    nv.forget_detection()
        else:
            path = self.image.edit.text().strip()
            if path != spec.image_path or self.info is None:
                spec.image_path = path
                detected = spec.detection is not None  # the disc's OS is not the disk's
                nv.forget_detection()
                self._inspect(path)
                if spec.os_defaults is None or detected:
                    nv.choose_os(None)  # until the person says which OS is on the disk
                else:
                    nv.apply_defaults()  # an unknown OS's default name follows the file
        nv.revalidate()
        self.completeChanged.emit()

    def _mode_changed(self) -> None:
        self.nv.spec.import_mode = (
            ImportMode.IN_PLACE if self.in_place.isChecked() else ImportMode.COPY
        )
        self.nv.revalidate()

    def _inspect(self, path: str) -> None:
        self._info_token += 1
        token = self._info_token
        self.info = None
        self.image_info.setText("")
        if not path or not os.path.isabs(path):
            return
        self.nv.run_io(
            Op(inspect_image, path, what="look at the disk image")
            .success(lambda info, t=token: self._inspected(t, info))
            .failure(lambda err, t=token: self._inspect_failed(t, err))
        )

    def _inspected(self, token: int, info: ImageInfo) -> None:
        if token != self._info_token:
            return
        self.info = info
        fmt = info.format.upper() if info.format in ("vmdk", "vdi") else info.format
        text = f"A {fmt} image of {size_text(info.virtual_size)}"
        if info.format in CONVERTED_FORMATS:
            text += "; it is converted to qcow2 when it is copied."
        self.image_info.setText(text)
        self.completeChanged.emit()

    def _inspect_failed(self, token: int, err: NidoError) -> None:
        if token == self._info_token:
            self.image_info.setText("")
            self.completeChanged.emit()

    # -- what the page shows ---------------------------------------------------------------
    def show_problems(self) -> None:
        nv = self.nv
        iso_problems = self.problems("iso_path")
        if nv.detection_error is not None and not any(p.blocking for p in iso_problems):
            self.iso_message.set_text(nv.detection_error.summary, error=True)
        else:
            self.iso_message.show_problems(iso_problems if nv.spec.iso_path else [])
        image_problems = self.problems("image_path")
        self.image_message.show_problems(image_problems if nv.spec.image_path else [])
        self.mode_message.show_problems(self.problems("import_mode"))

    def _detection_changed(self) -> None:
        nv = self.nv
        det = nv.spec.detection
        if nv.spec.source is not SourceKind.ISO or not nv.spec.iso_path:
            self.detected.setText("")
        elif nv.detecting:
            self.detected.setText("Looking at the disc…")
        elif nv.detection_error is not None:
            self.detected.setText("")
        elif det is not None:
            self.detected.setText(f"Detected: {det.label}")
        self.show_problems()
        self.completeChanged.emit()

    def _host_changed(self) -> None:
        nv = self.nv
        if nv.host_error is not None:
            self.host_label.setText(
                f"Nido could not find out what {nv.conn.spec.label} offers: {nv.host_error.summary}"
            )
        elif nv.host is None:
            self.host_label.setText(f"Looking at what {nv.conn.spec.label} offers…")
        else:
            target = nv.host.storage
            where = target.label if target is not None else "nowhere: this host has no storage"
            self.host_label.setText(f"New disks go into the {where}.")
            self.copy.setText("Copy it into Nido's storage")
            self.copy.setToolTip(where)
        self.completeChanged.emit()
