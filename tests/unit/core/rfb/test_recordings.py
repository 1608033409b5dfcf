"""Replays of real sessions (QEMU 7.2 and TigerVNC 1.12 Xvnc, see recordings/README.md):
the framebuffer must come out as the live client saw it, however the stream is split."""

from __future__ import annotations

import hashlib
import random

import pytest

from app.core.rfb import RFBClient, events
from tests.unit.core.rfb.conftest import RECORDINGS, Screen, load_index, options_for, recording

NAMES = sorted(load_index())
#: Byte-at-a-time replays cover at most this much of each recording (the rest of a 1 MiB
#: Raw recording adds time, not coverage).
BYTEWISE_LIMIT = 120_000


def replay(name: str, chunks: list[bytes]) -> tuple[Screen, RFBClient]:
    client = RFBClient(options_for(name))
    screen = Screen()
    for chunk in chunks:
        screen.feed(client.receive_data(chunk))
    return screen, client


def summary(screen: Screen) -> tuple[list[events.Event], bytes]:
    """Everything but how Raw rows were grouped into events (that follows the splits)."""
    others = [e for e in screen.events if not isinstance(e, events.RectPixels)]
    return others, bytes(screen.fb.data)


def test_recordings_present() -> None:
    assert len(NAMES) >= 10
    total = sum(p.stat().st_size for p in RECORDINGS.iterdir())
    assert total < 400_000


@pytest.mark.parametrize("name", NAMES)
def test_replay_matches_live_session(name: str) -> None:
    info = load_index()[name]
    data = recording(name)
    assert len(data) == info["bytes"]
    screen, client = replay(name, [data])
    assert not client.closed, client.error
    assert (screen.fb.width, screen.fb.height) == (info["width"], info["height"])
    kinds = {type(e) for e in screen.events}
    assert events.ServerInit in kinds and events.UpdateEnd in kinds
    if info["jpeg"]:
        assert events.JpegRect in kinds
    else:  # the live client skipped JPEG rectangles, which this replay paints grey
        assert hashlib.sha256(screen.fb.data).hexdigest() == info["sha256"]


@pytest.mark.parametrize("name", NAMES)
def test_replay_one_byte_at_a_time(name: str) -> None:
    data = recording(name)[:BYTEWISE_LIMIT]
    whole, _ = replay(name, [data])
    bytewise, client = replay(name, [data[i : i + 1] for i in range(len(data))])
    assert not client.closed, client.error
    assert summary(bytewise) == summary(whole)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replay_random_chunks(name: str, seed: int) -> None:
    data = recording(name)
    rng = random.Random(seed)
    chunks, i = [], 0
    while i < len(data):
        n = rng.choice([1, 2, 3, 7, 12, 100, 1000, 4096, 65536, 300_000])
        chunks.append(data[i : i + n])
        i += n
    whole, _ = replay(name, [data])
    split, client = replay(name, chunks)
    assert not client.closed, client.error
    assert summary(split) == summary(whole)


def test_recordings_cover_the_protocol() -> None:
    seen: set[type] = set()
    versions = set()
    for name in NAMES:
        screen, client = replay(name, [recording(name)])
        seen |= {type(e) for e in screen.events}
        versions.add(client.version)
    assert versions == {(3, 3), (3, 7), (3, 8)}
    for kind in (
        events.RectPixels,
        events.FillRect,
        events.CopyRect,
        events.JpegRect,
        events.DesktopResized,
        events.CursorShape,
        events.PointerModeChanged,
        events.ExtendedKeyEventSupported,
        events.LedState,
    ):
        assert kind in seen, kind
