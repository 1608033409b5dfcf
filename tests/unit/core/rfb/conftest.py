"""Helpers shared by the RFB client tests: connected clients and replaying events onto a
framebuffer while checking every event fits it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.rfb import Framebuffer, RFBClient, RFBOptions, events
from tests.unit.core.rfb import server

RECORDINGS = Path(__file__).parent / "recordings"


def connected(width: int = 64, height: int = 48, **options) -> RFBClient:
    """A client past ServerInit (security None, RFB 3.8), with its output drained."""
    options.setdefault("auto_update", False)
    client = RFBClient(RFBOptions(**options))
    evs = client.receive_data(server.handshake(width, height))
    assert isinstance(evs[-1], events.ServerInit), evs
    client.data_to_send()
    return client


class Screen:
    """Applies events to a framebuffer the way the Qt layer would."""

    def __init__(self) -> None:
        self.fb = Framebuffer()
        self.events: list[events.Event] = []

    def feed(self, evs: list[events.Event]) -> list[events.Event]:
        for ev in evs:
            self.events.append(ev)
            if isinstance(ev, events.ServerInit):
                self.fb.resize(ev.width, ev.height)
            elif isinstance(ev, events.JpegRect):
                # Stand-in for the Qt decoder: a grey rectangle of the right size.
                grey = b"\x80\x80\x80\xff" * (ev.width * ev.height)
                self.fb.put_pixels(ev.x, ev.y, ev.width, ev.height, grey)
            else:
                self.fb.apply(ev)  # raises if an event does not fit the framebuffer
        return evs

    def rgb(self) -> np.ndarray:
        return self.fb.array()[..., [2, 1, 0]]


def screen_after(data: bytes, width: int = 64, height: int = 48, **options) -> Screen:
    """A new client fed a handshake plus ``data``; returns the screen."""
    options.setdefault("auto_update", False)
    client = RFBClient(RFBOptions(**options))
    s = Screen()
    s.client = client  # type: ignore[attr-defined]
    s.feed(client.receive_data(server.handshake(width, height) + data))
    return s


def load_index() -> dict:
    return json.loads((RECORDINGS / "index.json").read_text())


def recording(name: str) -> bytes:
    return gzip.decompress((RECORDINGS / f"{name}.rfb.gz").read_bytes())


def options_for(name: str, **extra) -> RFBOptions:
    spec = dict(load_index()[name]["options"])
    if "max_version" in spec:
        spec["max_version"] = tuple(spec["max_version"])
    spec.update(extra)
    return RFBOptions(**spec)


@pytest.fixture
def client() -> RFBClient:
    return connected()
