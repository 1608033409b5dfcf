"""Live thumbnails of running guests for the VM list.

Every few seconds, for each running VM the list shows, take a screenshot through libvirt
on the connection's workers, decode and scale it there (QImage is safe off the GUI
thread), and hand the small image to the model. At most one grab per VM is in flight, and
nothing is grabbed while the window is hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QImage

from app.core import screenshot
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.models import VMTreeModel

log = logging.getLogger(__name__)

REFRESH_MS = 3000
THUMB_SIZE = QSize(192, 108)


def decode_thumbnail(data: bytes, size: QSize) -> QImage:
    """Decode a screenshot and scale it to fit `size`, keeping the aspect ratio."""
    image = QImage.fromData(data)
    if image.isNull():
        raise ValueError("the screenshot could not be decoded")
    # Halve cheaply first, then smooth-scale the small image: same look, a fraction of
    # the cost of smooth-scaling a 1080p frame directly.
    while image.width() >= size.width() * 4 and image.height() >= size.height() * 4:
        image = image.scaled(
            image.width() // 2,
            image.height() // 2,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    return image.scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    ).convertToFormat(QImage.Format.Format_RGB32)


def _grab(virconn, uuid: str, size: QSize) -> QImage:
    _mime, data = screenshot.take(virconn, uuid)
    return decode_thumbnail(data, size)


class ThumbnailService(QObject):
    """Refreshes thumbnails of the running VMs in `visible_keys()` every few seconds."""

    def __init__(
        self,
        hub: ConnectionHub,
        model: VMTreeModel,
        visible_keys: Callable[[], Iterable[tuple[str, str]]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.hub = hub
        self.model = model
        self.visible_keys = visible_keys
        self.size = THUMB_SIZE
        self._in_flight: set[tuple[str, str]] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        hub.vmChanged.connect(self._on_vm_changed)

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            QTimer.singleShot(0, self.refresh)

    def stop(self) -> None:
        self._timer.stop()

    def _on_vm_changed(self, info) -> None:
        # A VM that just started gets its first thumbnail soon, not a tick later.
        if info.status.active and self._timer.isActive():
            QTimer.singleShot(1500, lambda key=info.key: self.refresh_one(key))

    def refresh(self) -> None:
        for key in list(self.visible_keys()):
            self.refresh_one(key)

    def refresh_one(self, key: tuple[str, str]) -> None:
        conn_id, uuid = key
        vm = self.model.vm(conn_id, uuid)
        conn = self.hub.connection(conn_id)
        if vm is None or conn is None or not vm.status.active or key in self._in_flight:
            return
        virconn = conn.virconn
        if virconn is None:
            return
        self._in_flight.add(key)
        (
            Op(_grab, virconn, uuid, self.size, what="take a thumbnail")
            .success(lambda image, k=key: self._got(k, image))
            .failure(lambda err, k=key: self._failed(k, err))
            .owned_by(self)
            .run_on(conn.workers)
        )

    def _got(self, key: tuple[str, str], image: QImage) -> None:
        self._in_flight.discard(key)
        vm = self.model.vm(*key)
        if vm is not None and vm.status.active:
            self.model.set_thumbnail(key[0], key[1], image)

    def _failed(self, key: tuple[str, str], err) -> None:
        # A guest that just stopped, or one without a display: no thumbnail, no dialog.
        self._in_flight.discard(key)
        log.debug("thumbnail for %s failed: %s", key, err.summary)
