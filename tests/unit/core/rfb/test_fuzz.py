"""Hypothesis fuzzing over mutated recordings of real sessions and over the hand-built
encoder streams: whatever the bytes and however they are split, ``receive_data`` returns,
every event fits the framebuffer as it stands, nothing follows a terminal event, and
memory stays within the caps.

Every failing input found is kept in ``REGRESSIONS`` below and replayed on each run.
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events
from tests.unit.core.rfb import server
from tests.unit.core.rfb.conftest import Screen, load_index, options_for, recording

#: Smaller caps than the defaults keep each example fast; the caps themselves are tested
#: in test_malformed.py.
CAP_PIXELS = 4 * 1024 * 1024
#: Each recording is fuzzed over its start (handshake and first updates) and a window of
#: its later bytes, spliced after the start.
PREFIX = 40_000

FUZZ = settings(
    # NIDO_FUZZ_EXAMPLES=20000 for a long hunt; the default keeps the suite quick.
    max_examples=int(os.environ.get("NIDO_FUZZ_EXAMPLES", "120")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _names() -> list[str]:
    return sorted(load_index())


_DATA = {name: recording(name) for name in _names()}


def check_stream(options: RFBOptions, chunks: list[bytes]) -> RFBClient:
    """Feed chunks and check the invariants; returns the client."""
    client = RFBClient(options)
    screen = Screen()
    screen.fb = Framebuffer(max_pixels=CAP_PIXELS)
    terminal = False
    for chunk in chunks:
        evs = client.receive_data(chunk)  # must not raise
        if terminal:
            assert evs == []
        if isinstance(client.state, object) and any(
            isinstance(e, events.AuthRequired) for e in evs
        ):
            evs += client.send_password("fuzz")
        for i, ev in enumerate(evs):
            if isinstance(ev, events.TERMINAL_EVENTS):
                assert i == len(evs) - 1, "events after a terminal event"
                terminal = True
        screen.feed(evs)  # raises if any rectangle does not fit
        client.data_to_send()
    if client.closed:
        assert client.error
    return client


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**9), st.integers(1, 255)),
    st.tuples(st.just("set"), st.integers(0, 10**9), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**9), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**9), st.integers(1, 64)),
    st.tuples(st.just("u16"), st.integers(0, 10**9), st.sampled_from([0, 1, 0x7FFF, 0xFFFF])),
    st.tuples(st.just("u32"), st.integers(0, 10**9), st.sampled_from([0, 0xFFFFFFFF, 1 << 24])),
)


def mutate(data: bytes, mutations: list[tuple]) -> bytes:
    buf = bytearray(data)
    for op, pos, arg in mutations:
        if not buf:
            break
        p = pos % len(buf)
        if op == "flip":
            buf[p] ^= arg
        elif op == "set":
            buf[p] = arg
        elif op == "insert":
            buf[p:p] = arg
        elif op == "delete":
            del buf[p : p + arg]
        elif op == "u16":
            buf[p : p + 2] = struct.pack(">H", arg)
        else:
            buf[p : p + 4] = struct.pack(">I", arg)
    return bytes(buf)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, prev = [], 0
    for p in [*points, len(data)]:
        out.append(data[prev:p])
        prev = p
    return out


def sample(name: str, window: int) -> bytes:
    data = _DATA[name]
    head = data[:PREFIX]
    if len(data) <= PREFIX:
        return head
    start = PREFIX + window % (len(data) - PREFIX)
    return head + data[start : start + 20_000]


def fuzz_options(name: str) -> RFBOptions:
    return options_for(name, max_pixels=CAP_PIXELS)


@FUZZ
@given(
    name=st.sampled_from(_names()),
    window=st.integers(0, 10**9),
    mutations=st.lists(MUTATION, min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 10**9), max_size=8),
)
def test_mutated_recordings(name: str, window: int, mutations: list, cuts: list[int]) -> None:
    data = mutate(sample(name, window), mutations)
    check_stream(fuzz_options(name), split(data, cuts))


@FUZZ
@given(name=st.sampled_from(_names()), window=st.integers(0, 10**9), cut=st.integers(0, 10**9))
def test_truncated_recordings_wait(name: str, window: int, cut: int) -> None:
    """A recording cut anywhere (a silent server) never ends in an error."""
    data = _DATA[name]
    client = check_stream(fuzz_options(name), [data[: cut % (len(data) + 1)]])
    assert not client.closed, client.error


def _encoder_stream(kind: str, seed: int) -> bytes:
    img = server.blocky_image(40, 70, seed, colours=3 + seed % 5)
    t = server.TightEncoder()
    d = server.Deflater()
    rects = {
        "raw": [server.raw_rect(1, 1, img), server.copy_rect(0, 0, 10, 10, 5, 5)],
        "zlib": [server.zlib_rect(0, 0, img, d), server.zlib_rect(3, 3, img[:5, :5], d)],
        "tight": [
            t.copy(0, 0, img[:8]),
            t.palette(0, 8, np.arange(70 * 8).reshape(8, 70) % 2, [(1, 2, 3), (4, 5, 6)]),
            t.palette(0, 16, np.arange(70 * 8).reshape(8, 70) % 7, [(i, i, i) for i in range(7)]),
            t.gradient(0, 24, img[:6, :20]),
            t.fill(0, 30, 5, 5, (9, 9, 9)),
            t.jpeg(0, 0, 2, 2, b"\xff\xd8\xff\xd9"),
        ],
        "zrle": [
            server.zrle_rect(0, 0, img, d, modes=["rle", "prle"]),
            server.zrle_rect(0, 0, img[:20, :20], d, "packed"),
            server.zrle_rect(0, 0, img[:3, :3], d, "raw"),
        ],
    }[kind]
    return server.handshake(80, 50) + server.update(*rects) + server.update(*rects[:1])


@FUZZ
@given(
    kind=st.sampled_from(["raw", "zlib", "tight", "zrle"]),
    seed=st.integers(0, 7),
    mutations=st.lists(MUTATION, min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 10**9), max_size=4),
)
def test_mutated_encoder_streams(kind: str, seed: int, mutations: list, cuts: list[int]) -> None:
    data = _encoder_stream(kind, seed)
    # Keep the handshake intact most of the time so the decoders get the mutations.
    hs = len(server.handshake(80, 50))
    for op, pos, arg in mutations:
        pos = hs + pos % max(len(data) - hs, 1)
        data = mutate(data, [(op, pos, arg)])
    check_stream(RFBOptions(max_pixels=CAP_PIXELS), split(data, cuts))


@FUZZ
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 10**9), max_size=4))
def test_garbage_after_handshake(data: bytes, cuts: list[int]) -> None:
    check_stream(RFBOptions(max_pixels=CAP_PIXELS), split(server.handshake(64, 48) + data, cuts))


#: Mutated recordings replayed on every run: (recording, window, mutations, the error the
#: client must report). Any input that ever breaks an invariant goes here. None has so
#: far (tens of thousands of examples); these seeds reach one error path each, found by
#: random mutation of the real recordings.
REGRESSIONS: list[tuple[str, int, list[tuple], str]] = [
    ("xvnc-tight", 0, [("u32", 12101, 0xFFFFFFFF)], "bad zlib data"),
    ("qemu-bios-vncauth-zlib-3.7", 0, [("flip", 15855, 10)], "more than the rectangle"),
    ("qemu-linux-zrle", 0, [("set", 1949, 147)], "run goes past the end"),
    ("qemu-bios-zrle", 0, [("set", 627, 132)], "ends inside a tile"),
    ("qemu-bios-zrle", 0, [("u16", 9873, 0xFFFF)], "palette index 3"),
    ("xvnc-zrle", 0, [("set", 23057, 174)], "subencoding 46"),
    ("qemu-linux-tight-jpeg", 0, [("flip", 26583, 191)], "inflated to 667 bytes"),
    ("qemu-bios-zrle", 0, [("set", 24012, 167)], "outside the 720x400"),
    ("qemu-linux-tight", 0, [("u32", 8800, 0xFFFFFFFF)], "message type 255"),
    ("qemu-linux-zrle", 0, [("u16", 25926, 0xFFFF)], "encoding 65535"),
]


@pytest.mark.parametrize(("name", "window", "mutations", "error"), REGRESSIONS)
def test_regressions(name: str, window: int, mutations: list, error: str) -> None:
    client = check_stream(fuzz_options(name), [mutate(sample(name, window), mutations)])
    assert client.closed and error in (client.error or "")
