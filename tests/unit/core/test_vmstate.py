"""States in a person's words, and which actions each allows."""

from __future__ import annotations

import libvirt
import pytest

from app.core.vmstate import Action, Status, available_actions, status_from_libvirt


@pytest.mark.parametrize(
    ("state", "managed", "status"),
    [
        (libvirt.VIR_DOMAIN_RUNNING, False, Status.RUNNING),
        (libvirt.VIR_DOMAIN_BLOCKED, False, Status.RUNNING),
        (libvirt.VIR_DOMAIN_PAUSED, False, Status.PAUSED),
        (libvirt.VIR_DOMAIN_SHUTOFF, False, Status.SHUTOFF),
        (libvirt.VIR_DOMAIN_SHUTOFF, True, Status.SAVED),
        (libvirt.VIR_DOMAIN_SHUTDOWN, False, Status.SHUTTING_DOWN),
        (libvirt.VIR_DOMAIN_CRASHED, False, Status.CRASHED),
        (libvirt.VIR_DOMAIN_PMSUSPENDED, False, Status.SUSPENDED),
        (libvirt.VIR_DOMAIN_NOSTATE, False, Status.UNKNOWN),
    ],
)
def test_status_mapping(state: int, managed: bool, status: Status) -> None:
    assert status_from_libvirt(state, 0, managed) is status


def test_running_vm_actions() -> None:
    acts = available_actions(Status.RUNNING)
    assert {Action.SHUTDOWN, Action.REBOOT, Action.PAUSE, Action.SAVE, Action.FORCE_OFF} <= acts
    assert Action.START not in acts and Action.RESUME not in acts


def test_paused_vm_can_resume_but_not_pause_or_shut_down() -> None:
    acts = available_actions(Status.PAUSED)
    assert Action.RESUME in acts
    assert not acts & {Action.PAUSE, Action.SHUTDOWN, Action.REBOOT, Action.START}


def test_off_and_saved_vms_only_start_open_delete() -> None:
    for status in (Status.SHUTOFF, Status.SAVED):
        assert available_actions(status) == {Action.OPEN, Action.START, Action.DELETE}


def test_every_status_can_be_opened_and_has_an_entry() -> None:
    for status in Status:
        assert Action.OPEN in available_actions(status)


def test_active_statuses() -> None:
    assert {s for s in Status if s.active} == {
        Status.RUNNING,
        Status.PAUSED,
        Status.SUSPENDED,
        Status.SHUTTING_DOWN,
        Status.CRASHED,
    }
