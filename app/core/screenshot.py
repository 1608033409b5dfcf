"""Grabbing a running guest's screen through libvirt (virDomainScreenshot), for thumbnails.

Blocking; runs on a worker thread. The bytes come back in whatever format the hypervisor
chose (QEMU sends PPM), with its MIME type; decoding is the shell's business.
"""

from __future__ import annotations

import contextlib

import libvirt

# A 4K screen in PPM is 3840*2160*3 bytes; anything far beyond that is not a screen.
MAX_SCREENSHOT_BYTES = 64 * 1024 * 1024


class ScreenshotTooLarge(Exception):
    pass


def take(virconn: libvirt.virConnect, uuid: str, screen: int = 0) -> tuple[str, bytes]:
    """(mime type, image bytes) of the guest's screen."""
    dom = virconn.lookupByUUIDString(uuid)
    stream = virconn.newStream(0)
    chunks: list[bytes] = []
    size = 0
    try:
        mime = dom.screenshot(stream, screen, 0)
        while True:
            data = stream.recv(1024 * 1024)
            if data in (-2, None):  # -2: would block; cannot happen on a blocking stream
                continue
            if not data:
                break
            size += len(data)
            if size > MAX_SCREENSHOT_BYTES:
                raise ScreenshotTooLarge(f"screenshot larger than {MAX_SCREENSHOT_BYTES} bytes")
            chunks.append(data)
        stream.finish()
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        raise
    return mime or "image/x-portable-pixmap", b"".join(chunks)
