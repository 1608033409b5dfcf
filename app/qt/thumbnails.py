"""Live thumbnails of running guests for the VM list.

Screenshots come through libvirt (virDomainScreenshot) on the connection's workers, where
they are also decoded and scaled (QImage is safe off the GUI thread). Decoding a 1080p PNG
costs about 20 ms of CPU here, so thumbnails live on a budget:
- a screen whose bytes did not change since the last grab is not decoded again;
- one grab at a time, round-robin over the running VMs the list shows, each tick spaced so
  that decoding stays under BUDGET of one core (measured, not guessed), but never more
  often than every REFRESH_MS per VM;
- a VM that has just started, or that was never shown, gets its thumbnail at once;
- nothing is grabbed while the window is hidden or minimised.

A VM whose console is open and connected (its VM window) needs no screenshot at all: its
thumbnail is scaled from the live display's picture on the GUI thread (0.07 ms for a 1080p
screen to 128x72 here, 0.24 ms to 256x144 on HiDPI; see :func:`scale_live`), and only when
that picture changed since the last one (:mod:`app.qt.live_displays`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QImage

from app.core import screenshot
from app.qt.bridge import ConnectionHub
from app.qt.jobs import Op
from app.qt.live_displays import LIVE, LiveDisplays
from app.qt.models import VMTreeModel

log = logging.getLogger(__name__)

REFRESH_MS = 5000  # the most often one VM's thumbnail is refreshed
BUDGET = 0.002  # share of one core that grabbing and decoding thumbnails may use
MAX_TICK_MS = 30_000
IDLE_CHECK_MS = 1000  # with no running VM in view, how often to look for one
THUMB_SIZE = QSize(128, 72)  # the size the list draws them at, before HiDPI scaling

Key = tuple[str, str]


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


def scale_live(image: QImage, size: QSize) -> QImage:
    """A thumbnail of a live display's picture: one cheap nearest-pixel step to twice the
    size, then a smooth one on that small image (cost follows the thumbnail's size, not
    the screen's)."""
    if image.width() > size.width() * 2 and image.height() > size.height() * 2:
        image = image.scaled(
            size * 2, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
    return image.scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    ).convertToFormat(QImage.Format.Format_RGB32)


@dataclass(frozen=True)
class Grab:
    digest: bytes
    image: QImage | None  # None: the screen is unchanged since `previous`
    cpu_s: float  # CPU this grab cost on the worker thread


def grab(virconn, uuid: str, size: QSize, previous: bytes | None) -> Grab:
    """Screenshot a guest; decode it only if it changed (blocking, for a worker)."""
    start = time.thread_time()
    _mime, data = screenshot.take(virconn, uuid)
    digest = hashlib.blake2b(data, digest_size=16).digest()
    image = None if digest == previous else decode_thumbnail(data, size)
    return Grab(digest, image, time.thread_time() - start)


class ThumbnailService(QObject):
    """Keeps thumbnails of the running VMs in `visible_keys()` fresh, within a CPU budget."""

    def __init__(
        self,
        hub: ConnectionHub,
        model: VMTreeModel,
        visible_keys: Callable[[], Iterable[Key]],
        parent: QObject | None = None,
        live: LiveDisplays = LIVE,
    ) -> None:
        super().__init__(parent)
        self.hub = hub
        self.live = live
        self.model = model
        self.visible_keys = visible_keys
        self.size = THUMB_SIZE
        self.cost_s = 0.02  # running estimate of one grab's CPU cost
        self._digests: dict[Key, bytes] = {}
        self._in_flight: set[Key] = set()
        self._urgent: list[Key] = []
        self._last_key: Key | None = None
        self._on = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        hub.vmChanged.connect(self._on_vm_changed)
        hub.connectionChanged.connect(self._on_connection_changed)

    def start(self) -> None:
        if not self._on:
            self._on = True
            self._timer.start(0)

    def stop(self) -> None:
        """Stop grabbing; a grab already under way finishes but schedules nothing."""
        self._on = False
        self._timer.stop()

    def refresh(self) -> None:
        """Look again soon (the visible rows changed, e.g. after filtering)."""
        if self._timer.isActive():
            self._timer.start(0)

    def _on_connection_changed(self, conn_id: str) -> None:
        conn = self.hub.connection(conn_id)
        if conn is None or conn.virconn is None:
            # Grabs waiting on a dropped connection may never finish: stop waiting for them.
            self._in_flight = {k for k in self._in_flight if k[0] != conn_id}

    def _on_vm_changed(self, info) -> None:
        if not info.status.active:
            self._digests.pop(info.key, None)
        elif info.key not in self._digests and info.key not in self._urgent:
            self._urgent.append(info.key)  # just started: show it without waiting its turn
            if self._timer.isActive():
                self._timer.start(0)

    def interval_ms(self, running_visible: int) -> int:
        """Spacing between grabs: the per-VM refresh shared out, or the CPU budget."""
        per_vm = REFRESH_MS / max(1, running_visible)
        budget = self.cost_s / BUDGET * 1000
        return int(min(MAX_TICK_MS, max(per_vm, budget)))

    def _running(self, keys: Iterable[Key]) -> list[Key]:
        out = []
        for key in keys:
            vm = self.model.vm(*key)
            if vm is not None and vm.status.active:
                out.append(key)
        return out

    def _next_key(self, candidates: list[Key]) -> Key | None:
        while self._urgent:
            key = self._urgent.pop(0)
            if key in candidates:
                return key
        if not candidates:
            return None
        for key in candidates:  # one never shown yet comes before any refresh
            if key not in self._digests:
                return key
        if self._last_key in candidates:
            return candidates[(candidates.index(self._last_key) + 1) % len(candidates)]
        return candidates[0]

    def _tick(self) -> None:
        running = self._running(self.visible_keys())
        # One grab per connection at a time: a host that stops answering holds up its
        # own thumbnails only, never another connection's.
        busy = {conn_id for conn_id, _ in self._in_flight}
        key = self._next_key([k for k in running if k[0] not in busy])
        if key is not None:
            self._grab(key)
        self._schedule_next(running)

    def _schedule_next(self, running: list[Key] | None = None) -> None:
        if not self._on:
            return
        if running is None:
            running = self._running(self.visible_keys())
        busy = {conn_id for conn_id, _ in self._in_flight}
        waiting = [k for k in running if k[0] not in busy]
        if not running:
            delay = IDLE_CHECK_MS  # nothing to show yet: look again soon
        elif waiting and (self._urgent or any(k not in self._digests for k in waiting)):
            delay = 0  # something never shown, on a free connection
        else:
            delay = self.interval_ms(len(running))
        self._timer.start(delay)

    def _grab(self, key: Key) -> None:
        if self._take_live(key):
            return
        conn = self.hub.connection(key[0])
        virconn = conn.virconn if conn else None
        if conn is None or virconn is None:
            return
        self._in_flight.add(key)
        self._last_key = key
        (
            Op(grab, virconn, key[1], self.size, self._digests.get(key), what="take a thumbnail")
            .success(lambda result, k=key: self._got(k, result))
            .failure(lambda err, k=key: self._failed(k, err))
            .owned_by(self)
            .run_on(conn.background)
        )

    def _take_live(self, key: Key) -> bool:
        """Take the thumbnail from the VM's open console, if it has one (GUI thread)."""
        frame = self.live.frame(key)
        if frame is None:
            return False
        serial, image = frame
        self._last_key = key
        digest = b"live:%d" % serial
        if self._digests.get(key) != digest:  # else the picture is unchanged
            self._digests[key] = digest
            self.model.set_thumbnail(key[0], key[1], scale_live(image, self.size))
        return True

    def _got(self, key: Key, result: Grab) -> None:
        self._in_flight.discard(key)
        self.cost_s = 0.7 * self.cost_s + 0.3 * result.cpu_s
        vm = self.model.vm(*key)
        if vm is not None and vm.status.active:
            self._digests[key] = result.digest
            if result.image is not None:
                self.model.set_thumbnail(key[0], key[1], result.image)
        self._maybe_hurry()

    def _failed(self, key: Key, err) -> None:
        # A guest that just stopped, or one without a display: no thumbnail, no dialog.
        self._in_flight.discard(key)
        self._digests.setdefault(key, b"")  # not "never shown": no tight retry loop
        log.debug("thumbnail for %s failed: %s", key, err.summary)

    def _maybe_hurry(self) -> None:
        """A finished grab frees its connection: go on at once if something waits unseen."""
        if self._on and (
            self._urgent or any(k not in self._digests for k in self._running(self.visible_keys()))
        ):
            self._timer.start(0)
