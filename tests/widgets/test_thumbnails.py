"""Thumbnails stay within their CPU budget: unchanged screens are not decoded again, and
grabs are spaced by what decoding really costs."""

from __future__ import annotations

from PySide6.QtCore import QSize

from app.qt import thumbnails
from app.qt.models import Role


def test_unchanged_screen_is_not_decoded_again(env) -> None:
    vm = env.vm_named("web")
    virconn = env.conn.virconn
    pool = env.conn.background  # grab blocks on libvirt: never on the GUI thread

    def run(previous):
        return pool.submit(thumbnails.grab, virconn, vm.uuid, QSize(96, 54), previous).result(10)

    first = run(None)
    assert first.image is not None and first.image.width() <= 96
    again = run(first.digest)
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


def test_hidden_window_stops_grabbing(env, qtbot, monkeypatch) -> None:
    vm = env.vm_named("web")
    index = env.model.vm_index(vm.conn_id, vm.uuid)
    qtbot.waitUntil(lambda: index.data(Role.THUMBNAIL) is not None, timeout=6000)
    calls = []
    real = thumbnails.grab
    monkeypatch.setattr(thumbnails, "grab", lambda *a: calls.append(a) or real(*a))
    env.window.hide()
    env.window.thumbnails._digests.clear()  # everything "never shown": would grab at once
    qtbot.wait(1500)
    assert calls == []
    env.window.show()
    qtbot.waitUntil(lambda: len(calls) > 0, timeout=3000)
