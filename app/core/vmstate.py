"""A VM's state in the words a person uses, and which actions apply in each state.

libvirt reports (state, reason) pairs; Nido folds them into a few statuses a person can
act on. "Saved" is a shut-off VM with a managed-save image that Start restores.
"""

from __future__ import annotations

import enum

import libvirt


class Status(enum.Enum):
    RUNNING = "Running"
    PAUSED = "Paused"
    SHUTOFF = "Shut off"
    SAVED = "Saved"
    CRASHED = "Crashed"  # kept for inspection (on_crash=preserve); only Force off helps
    SUSPENDED = "Suspended"  # guest-initiated sleep (S3/S4)
    SHUTTING_DOWN = "Shutting down"
    UNKNOWN = "Unknown"

    @property
    def active(self) -> bool:
        """A QEMU process exists for the VM."""
        return self in (
            Status.RUNNING,
            Status.PAUSED,
            Status.SUSPENDED,
            Status.SHUTTING_DOWN,
            Status.CRASHED,
        )


class Action(enum.Enum):
    OPEN = "open"
    START = "start"
    SHUTDOWN = "shutdown"
    REBOOT = "reboot"
    FORCE_OFF = "force_off"
    PAUSE = "pause"
    RESUME = "resume"
    SAVE = "save"
    DELETE = "delete"


def status_from_libvirt(state: int, reason: int, managed_save: bool) -> Status:
    if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED):
        return Status.RUNNING
    if state == libvirt.VIR_DOMAIN_PAUSED:
        return Status.PAUSED
    if state == libvirt.VIR_DOMAIN_SHUTDOWN:
        return Status.SHUTTING_DOWN
    if state == libvirt.VIR_DOMAIN_SHUTOFF:
        return Status.SAVED if managed_save else Status.SHUTOFF
    if state == libvirt.VIR_DOMAIN_CRASHED:
        return Status.CRASHED
    if state == libvirt.VIR_DOMAIN_PMSUSPENDED:
        return Status.SUSPENDED
    return Status.UNKNOWN


_ACTIONS: dict[Status, frozenset[Action]] = {
    Status.RUNNING: frozenset(
        {
            Action.OPEN,
            Action.SHUTDOWN,
            Action.REBOOT,
            Action.FORCE_OFF,
            Action.PAUSE,
            Action.SAVE,
            Action.DELETE,
        }
    ),
    Status.PAUSED: frozenset(
        {Action.OPEN, Action.FORCE_OFF, Action.RESUME, Action.SAVE, Action.DELETE}
    ),
    Status.SHUTOFF: frozenset({Action.OPEN, Action.START, Action.DELETE}),
    Status.SAVED: frozenset({Action.OPEN, Action.START, Action.DELETE}),
    Status.CRASHED: frozenset({Action.OPEN, Action.FORCE_OFF, Action.DELETE}),
    Status.SUSPENDED: frozenset({Action.OPEN, Action.FORCE_OFF, Action.DELETE}),
    Status.SHUTTING_DOWN: frozenset({Action.OPEN, Action.FORCE_OFF, Action.DELETE}),
    Status.UNKNOWN: frozenset({Action.OPEN}),
}


def available_actions(status: Status) -> frozenset[Action]:
    """The actions that make sense for a VM in `status`."""
    return _ACTIONS[status]
