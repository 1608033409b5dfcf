"""Thumbnails stay within their CPU budget: unchanged screens are not decoded again, and
grabs are spaced by what decoding really costs; a VM with its console open gets its
thumbnail from the live display instead of libvirt."""

from __future__ import annotations

from PySide6.QtCore import QSize

from app.qt import thumbnails
from app.qt.display.controller import DisplayState
from app.qt.live_displays import LIVE
from app.qt.models import Role
from tests.widgets.display.consoles import FakeOpener, connect
from widgets.display.console import ConsoleView


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


def test_an_open_console_gives_the_thumbnail_without_libvirt(env, qtbot, monkeypatch) -> None:
    """While a VM's console is connected, its thumbnail is scaled from the live picture
    (only when that changed); once the console closes, screenshots take over again."""
    service = env.window.thumbnails
    web = env.vm_named("web")
    opener = FakeOpener()
    view = ConsoleView(env.hub, web, opener=opener)
    qtbot.addWidget(view)
    view.show()
    try:
        server = connect(qtbot, view, opener)
        qtbot.waitUntil(lambda: view.state is DisplayState.CONNECTED, timeout=3000)
        server.solid(0, 0, 64, 48, (200, 10, 10))
        qtbot.waitUntil(lambda: view.screenshot().pixelColor(5, 5).red() == 200, timeout=3000)
        assert web.key in LIVE and LIVE.frame(web.key) is not None

        service.stop()
        qtbot.waitUntil(lambda: not service._in_flight, timeout=5000)
        grabbed: list[str] = []
        real = thumbnails.grab
        monkeypatch.setattr(
            thumbnails,
            "grab",
            lambda virconn, uuid, *a: grabbed.append(uuid) or real(virconn, uuid, *a),
        )
        set_calls: list[tuple[str, str]] = []
        real_set = env.model.set_thumbnail
        monkeypatch.setattr(
            env.model,
            "set_thumbnail",
            lambda conn_id, uuid, image: (
                set_calls.append((conn_id, uuid)) or real_set(conn_id, uuid, image)
            ),
        )
        service._digests.clear()  # every VM "never shown": each is taken at once
        service.start()
        index = env.model.vm_index(web.conn_id, web.uuid)

        def thumb_colour() -> tuple[int, int, int]:
            image = index.data(Role.THUMBNAIL)
            if image is None:
                return (-1, -1, -1)
            c = image.pixelColor(image.width() // 2, image.height() // 2)
            return c.red(), c.green(), c.blue()

        qtbot.waitUntil(lambda: thumb_colour() == (200, 10, 10), timeout=3000)
        image = index.data(Role.THUMBNAIL)
        assert image.width() <= thumbnails.THUMB_SIZE.width()
        assert image.height() <= thumbnails.THUMB_SIZE.height()
        assert web.uuid not in grabbed  # no libvirt screenshot of a VM with a live console

        # An unchanged picture is not scaled again; a changed one is.
        before = set_calls.count(web.key)
        assert service._take_live(web.key) and set_calls.count(web.key) == before
        server.solid(0, 0, 64, 48, (10, 200, 10))
        qtbot.waitUntil(lambda: view.screenshot().pixelColor(5, 5).green() == 200, timeout=3000)
        assert service._take_live(web.key)
        assert thumb_colour() == (10, 200, 10) and set_calls.count(web.key) == before + 1
    finally:
        view.shutdown()
        opener.close()

    # The console closed: libvirt's screenshot is used again.
    assert web.key not in LIVE and LIVE.frame(web.key) is None
    service._digests.pop(web.key, None)
    service.refresh()
    qtbot.waitUntil(lambda: web.uuid in grabbed, timeout=5000)
