"""Thumbnails stay within their CPU budget: unchanged screens are not decoded again, and
grabs are spaced by what decoding really costs."""

from __future__ import annotations

from PySide6.QtCore import QSize

from app.qt import thumbnails
from app.qt.models import Role


def test_unchanged_screen_is_not_decoded_again(env) -> None:
    vm = env.vm_named("web")
    virconn = env.conn.virconn
    first = thumbnails.grab(virconn, vm.uuid, QSize(96, 54), None)
    assert first.image is not None and first.image.width() <= 96
    again = thumbnails.grab(virconn, vm.uuid, QSize(96, 54), first.digest)
    assert again.digest == first.digest and again.image is None
    assert again.cpu_s < first.cpu_s + 0.05


def test_spacing_follows_the_measured_cost(env) -> None:
    service = env.window.thumbnails
    service.cost_s = 0.001  # cheap grabs: the per-VM refresh period rules
    assert service.interval_ms(1) == thumbnails.REFRESH_MS
    assert service.interval_ms(3) == thumbnails.REFRESH_MS // 3
    service.cost_s = 0.02  # 20 ms a grab: spaced to stay within the budget
    assert service.interval_ms(10) == int(0.02 / thumbnails.BUDGET * 1000)
    service.cost_s = 10.0
    assert service.interval_ms(10) == thumbnails.MAX_TICK_MS


def test_round_robin_over_running_visible_vms(env, qtbot) -> None:
    service = env.window.thumbnails
    web, db = env.vm_named("web"), env.vm_named("db")
    keys = [db.key, web.key]
    service.stop()
    qtbot.waitUntil(lambda: not service._in_flight, timeout=5000)
    service._digests.clear()
    service._digests[db.key] = b"d"
    service._last_key = web.key
    assert service._next_key(keys) == web.key  # never shown: first, whatever the turn
    service._digests.update({db.key: b"d", web.key: b"w"})
    service._last_key = db.key
    assert service._next_key(keys) == web.key
    service._last_key = web.key
    assert service._next_key(keys) == db.key
    off = env.vm_named("old")
    assert service._running([off.key, web.key]) == [web.key]


def test_hidden_window_stops_grabbing(env, qtbot) -> None:
    vm = env.vm_named("web")
    index = env.model.vm_index(vm.conn_id, vm.uuid)
    qtbot.waitUntil(lambda: index.data(Role.THUMBNAIL) is not None, timeout=6000)
    env.window.hide()
    assert not env.window.thumbnails._on
    env.window.show()
    assert env.window.thumbnails._on
