"""Preferences: the remembered quit choice can be changed back, and Cancel changes nothing."""

from __future__ import annotations

from app.core.settings import Settings
from widgets.preferences import PreferencesDialog


def test_shows_and_changes_the_remembered_choices(qtbot) -> None:
    settings = Settings(quit_embedded_guests="leave", thumbnails=True)
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.quit_buttons["leave"].isChecked()
    assert dialog.thumbnails.isChecked()
    dialog.quit_buttons["ask"].click()
    dialog.thumbnails.click()
    dialog.accept()
    assert settings.quit_embedded_guests == "ask"
    assert settings.thumbnails is False


def test_cancel_changes_nothing(qtbot) -> None:
    settings = Settings(quit_embedded_guests="shutdown", thumbnails=False)
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.quit_buttons["shutdown"].isChecked()
    dialog.quit_buttons["leave"].click()
    dialog.thumbnails.click()
    dialog.reject()
    assert settings.quit_embedded_guests == "shutdown"
    assert settings.thumbnails is False


def test_an_unknown_remembered_value_shows_as_ask(qtbot) -> None:
    settings = Settings(quit_embedded_guests="something-old")
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.chosen_quit() == "ask"


def test_the_main_window_applies_and_saves_what_was_chosen(qtbot, env, monkeypatch) -> None:
    saved: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        env.hub,
        "save",
        lambda: saved.append((env.hub.settings.quit_embedded_guests, env.hub.settings.thumbnails)),
    )
    env.hub.settings.quit_embedded_guests = "leave"
    assert env.window.thumbnails_action.isChecked()
    menu_texts = [a.text() for a in env.window.menuBar().actions()[0].menu().actions()]
    assert "&Preferences…" in menu_texts
    assert env.window.preferences_action.shortcut().toString() == "Ctrl+,"
    dialog = env.window.show_preferences()
    assert dialog.isVisible() and dialog.quit_buttons["leave"].isChecked()
    dialog.quit_buttons["ask"].click()
    dialog.thumbnails.click()
    dialog.accept()
    assert not env.window.thumbnails_action.isChecked()  # the list stops its thumbnails
    assert not env.window.thumbnails._on and not env.window.thumbnails._timer.isActive()
    assert saved and saved[-1] == ("ask", False)
