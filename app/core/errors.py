"""Typed errors: every libvirt failure becomes a NidoError with a one-line summary for the
person and details for the log. One presenter in the UI shows them; nothing else formats
exceptions.
"""

from __future__ import annotations

import enum
import traceback
from dataclasses import dataclass

import libvirt


class ErrorKind(enum.Enum):
    """What kind of failure this is, so the UI can choose words and recovery."""

    NOT_FOUND = "not_found"
    INVALID_STATE = "invalid_state"
    INVALID_INPUT = "invalid_input"
    DENIED = "denied"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    UNSUPPORTED = "unsupported"
    BUSY = "busy"
    CANCELLED = "cancelled"
    INTERNAL = "internal"


@dataclass(frozen=True)
class ErrorReport:
    """Plain data for the presenter: summary first, details on request."""

    summary: str
    details: str
    kind: ErrorKind


class NidoError(Exception):
    """A failure the person must hear about.

    `summary` is one short sentence in plain words; `details` carries everything a bug
    report needs (libvirt's message, code, domain, the traceback).
    """

    def __init__(
        self, summary: str, details: str = "", kind: ErrorKind = ErrorKind.INTERNAL
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details
        self.kind = kind

    def report(self) -> ErrorReport:
        return ErrorReport(self.summary, self.details, self.kind)


# libvirt error codes grouped by what they mean to a person. Codes that libvirt-python
# does not define on an older libvirt are skipped.
def _codes(*names: str) -> frozenset[int]:
    return frozenset(getattr(libvirt, n) for n in names if hasattr(libvirt, n))


_KIND_BY_CODE: dict[int, ErrorKind] = {}
for _kind, _names in (
    (
        ErrorKind.NOT_FOUND,
        _codes(
            "VIR_ERR_NO_DOMAIN",
            "VIR_ERR_NO_NETWORK",
            "VIR_ERR_NO_STORAGE_POOL",
            "VIR_ERR_NO_STORAGE_VOL",
            "VIR_ERR_NO_DOMAIN_SNAPSHOT",
            "VIR_ERR_NO_DOMAIN_CHECKPOINT",
            "VIR_ERR_NO_NODE_DEVICE",
        ),
    ),
    (ErrorKind.INVALID_STATE, _codes("VIR_ERR_OPERATION_INVALID")),
    (
        ErrorKind.INVALID_INPUT,
        _codes(
            "VIR_ERR_INVALID_ARG",
            "VIR_ERR_XML_ERROR",
            "VIR_ERR_XML_DETAIL",
            "VIR_ERR_CONFIG_UNSUPPORTED",
            "VIR_ERR_INVALID_DOMAIN",
        ),
    ),
    (
        ErrorKind.DENIED,
        _codes(
            "VIR_ERR_AUTH_FAILED",
            "VIR_ERR_AUTH_CANCELLED",
            "VIR_ERR_AUTH_UNAVAILABLE",
            "VIR_ERR_ACCESS_DENIED",
            "VIR_ERR_OPERATION_DENIED",
        ),
    ),
    (
        ErrorKind.UNREACHABLE,
        _codes(
            "VIR_ERR_NO_CONNECT",
            "VIR_ERR_RPC",
            "VIR_ERR_INVALID_CONN",
        ),
    ),
    (
        ErrorKind.TIMEOUT,
        _codes("VIR_ERR_OPERATION_TIMEOUT", "VIR_ERR_AGENT_UNRESPONSIVE"),
    ),
    (
        ErrorKind.UNSUPPORTED,
        _codes(
            "VIR_ERR_NO_SUPPORT", "VIR_ERR_OPERATION_UNSUPPORTED", "VIR_ERR_ARGUMENT_UNSUPPORTED"
        ),
    ),
    (ErrorKind.BUSY, _codes("VIR_ERR_RESOURCE_BUSY", "VIR_ERR_OPERATION_ABORTED")),
):
    for _code in _names:
        _KIND_BY_CODE[_code] = _kind

_REASON_BY_KIND: dict[ErrorKind, str] = {
    ErrorKind.NOT_FOUND: "it no longer exists",
    ErrorKind.INVALID_STATE: "that is not possible in its current state",
    ErrorKind.INVALID_INPUT: "the request was not valid",
    ErrorKind.DENIED: "permission was denied",
    ErrorKind.UNREACHABLE: "the host could not be reached",
    ErrorKind.TIMEOUT: "the host did not answer in time",
    ErrorKind.UNSUPPORTED: "this host does not support it",
    ErrorKind.BUSY: "it is busy with another operation",
    ErrorKind.INTERNAL: "an unexpected error happened",
}


def kind_of(exc: libvirt.libvirtError) -> ErrorKind:
    """Map a libvirtError to what it means for the person."""
    return _KIND_BY_CODE.get(exc.get_error_code(), ErrorKind.INTERNAL)


def libvirt_message(exc: libvirt.libvirtError) -> str:
    """libvirt's own message, without the noise it sometimes repeats."""
    msg = exc.get_error_message() or str(exc)
    return msg.strip()


# libvirt's generic prefixes say nothing a person can use.
_NOISE_PREFIXES = (
    "internal error: ",
    "operation failed: ",
    "Requested operation is not valid: ",
    "invalid argument: ",
    "unsupported configuration: ",
    "this function is not supported by the connection driver: ",
)


def _strip_prefix(text: str) -> str:
    for prefix in _NOISE_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


SUMMARY_DETAIL_MAX = 160


def shorten(text: str) -> str:
    """At most SUMMARY_DETAIL_MAX characters, with an ellipsis where it was cut."""
    if len(text) <= SUMMARY_DETAIL_MAX:
        return text
    return text[: SUMMARY_DETAIL_MAX - 1].rstrip() + "…"


def from_libvirt(exc: libvirt.libvirtError, action: str) -> NidoError:
    """Turn a libvirtError into a NidoError.

    `action` names what was being done, in words a person uses, e.g. 'start “web”'.
    """
    kind = kind_of(exc)
    message = libvirt_message(exc)
    reason = _REASON_BY_KIND[kind]
    # libvirt's first line is usually the most useful short explanation ("Host key
    # verification failed", "No such file or directory"): say it, shortened if need be,
    # after our own words where we have them.
    first = shorten(_strip_prefix(message.split("\n", 1)[0]).rstrip("."))
    if first and kind in (
        ErrorKind.INVALID_STATE,
        ErrorKind.INVALID_INPUT,
        ErrorKind.UNSUPPORTED,
        ErrorKind.INTERNAL,
    ):
        reason = first[:1].lower() + first[1:]
    elif first and kind in (ErrorKind.UNREACHABLE, ErrorKind.DENIED, ErrorKind.TIMEOUT):
        reason = f"{reason} ({first})"
    summary = f"Could not {action}: {reason}."
    details = (
        f"{message}\n\n"
        f"libvirt error code {exc.get_error_code()}, domain {exc.get_error_domain()}, "
        f"level {exc.get_error_level()}"
    )
    return NidoError(summary, details, kind)


def from_exception(exc: BaseException, action: str) -> NidoError:
    """Any exception, as something the presenter can show. Never lets one escape as a crash."""
    if isinstance(exc, NidoError):
        return exc
    if isinstance(exc, libvirt.libvirtError):
        err = from_libvirt(exc, action)
        err.details += "\n\n" + "".join(traceback.format_exception(exc))
        return err
    if isinstance(exc, OSError):
        summary = f"Could not {action}: {exc.strerror or exc}."
        kind = ErrorKind.DENIED if isinstance(exc, PermissionError) else ErrorKind.INTERNAL
    else:
        summary = f"Could not {action}: an unexpected error happened."
        kind = ErrorKind.INTERNAL
    details = "".join(traceback.format_exception(exc))
    return NidoError(summary, details, kind)
