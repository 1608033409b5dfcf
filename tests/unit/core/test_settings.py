"""Settings survive a restart, and a damaged file never stops Nido from starting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core import settings, uris
from app.core.connection import ConnectionSpec


def test_defaults_have_this_computer() -> None:
    s = settings.load()
    assert [c.kind for c in s.connections] == [uris.Kind.LOCAL]
    assert s.quit_embedded_guests == "ask"


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "s.json"
    s = settings.Settings(
        connections=[
            ConnectionSpec(kind=uris.Kind.LOCAL),
            ConnectionSpec(
                kind=uris.Kind.SSH, uri="qemu+ssh://a@b/system", name="Lab", autoconnect=False
            ),
        ],
        quit_embedded_guests="leave",
        thumbnails=False,
    )
    settings.save(s, path)
    back = settings.load(path)
    assert [c.to_dict() for c in back.connections] == [c.to_dict() for c in s.connections]
    assert back.quit_embedded_guests == "leave" and back.thumbnails is False
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_damaged_file_gives_defaults_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    assert [c.kind for c in settings.load(path).connections] == [uris.Kind.LOCAL]
    assert (tmp_path / "s.json.damaged").read_text() == "{not json"


def test_one_damaged_connection_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"connections": [{"kind": "martian"}, {"kind": "ssh", "uri": "qemu+ssh://a@b/system"}]}'
    )
    loaded = settings.load(path)
    assert [(c.kind, c.uri) for c in loaded.connections] == [
        (uris.Kind.SSH, "qemu+ssh://a@b/system")
    ]
    assert "martian" in (tmp_path / "s.json.damaged").read_text()


def test_unknown_quit_mode_falls_back_to_ask(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"connections": [], "quit_embedded_guests": "explode"}')
    assert settings.load(path).quit_embedded_guests == "ask"


def test_display_preferences_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    fresh = settings.Settings.defaults()
    assert fresh.custom_keys == [] and fresh.grab_release == "ctrl+alt"
    assert fresh.resize_guest
    s = settings.Settings(
        custom_keys=["Ctrl+Alt+F5", "Meta+L"], grab_release="right-ctrl", resize_guest=False
    )
    settings.save(s, path)
    back = settings.load(path)
    assert back.custom_keys == ["Ctrl+Alt+F5", "Meta+L"]
    assert back.grab_release == "right-ctrl"
    assert back.resize_guest is False


def test_display_preferences_from_an_older_or_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"connections": []}')  # written before these fields existed
    old = settings.load(path)
    assert old.custom_keys == [] and old.grab_release == "ctrl+alt" and old.resize_guest
    many = [f"Ctrl+Alt+F{n}" for n in range(1, 13)] * 2
    path.write_text(
        '{"connections": [], "custom_keys": ["Ctrl+K", 7, "", null] , "grab_release": 3}'
    )
    odd = settings.load(path)
    assert odd.custom_keys == ["Ctrl+K"] and odd.grab_release == "ctrl+alt"
    settings.save(settings.Settings(custom_keys=many), path)
    assert settings.load(path).custom_keys == many[-settings.MAX_CUSTOM_KEYS :]
    path.write_text('{"connections": [], "custom_keys": "Ctrl+K"}')
    assert settings.load(path).custom_keys == []


@pytest.mark.parametrize(
    ("field", "kept", "damaged", "left"),
    [
        # Where each kind of window was, as Qt's saveGeometry() in base64.
        ("window_geometry", {"main": "AdnQywAD"}, {"main": 5, "vm": "AQ=="}, {"vm": "AQ=="}),
        # The folder each kind of file dialog was last used in.
        (
            "folders",
            {"screenshots": "/home/ana/Shots"},
            {"screenshots": 5, "x": "/srv"},
            {"x": "/srv"},
        ),
    ],
)
def test_text_maps_round_trip_and_survive_damage(
    tmp_path: Path, field: str, kept: dict, damaged: dict, left: dict
) -> None:
    path = tmp_path / "s.json"
    settings.save(settings.Settings(**{field: kept}), path)
    assert getattr(settings.load(path), field) == kept
    path.write_text(json.dumps({"connections": [], field: damaged}))
    assert getattr(settings.load(path), field) == left  # the damaged entry costs only itself
    path.write_text(json.dumps({"connections": [], field: ["not", "a", "map"]}))
    assert getattr(settings.load(path), field) == {}
