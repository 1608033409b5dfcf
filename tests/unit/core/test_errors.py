"""libvirt failures become sentences a person can read, with the details kept for the log."""

from __future__ import annotations

import libvirt
import pytest

from app.core.errors import (
    SUMMARY_DETAIL_MAX,
    ErrorKind,
    NidoError,
    from_exception,
    from_libvirt,
    kind_of,
    shorten,
)


def real_error(fn) -> libvirt.libvirtError:
    with pytest.raises(libvirt.libvirtError) as info:
        fn()
    return info.value


@pytest.fixture
def test_conn():
    conn = libvirt.open("test:///default")
    yield conn
    conn.close()


def test_missing_domain_is_not_found(test_conn) -> None:
    exc = real_error(lambda: test_conn.lookupByName("nope"))
    err = from_libvirt(exc, "open “nope”")
    assert err.kind is ErrorKind.NOT_FOUND
    assert err.summary == "Could not open “nope”: it no longer exists."
    assert "Domain not found" in err.details and "error code 42" in err.details


def test_short_internal_error_keeps_libvirts_explanation(test_conn) -> None:
    dom = test_conn.lookupByName("test")  # running
    exc = real_error(dom.create)
    err = from_libvirt(exc, "start “test”")
    assert kind_of(exc) is ErrorKind.INTERNAL
    assert err.summary == "Could not start “test”: domain 'test' is already running."
    assert "internal error" in err.details  # the full text stays in the details


def test_unreachable_daemon(tmp_path) -> None:
    exc = real_error(lambda: libvirt.open(f"qemu+unix:///system?socket={tmp_path}/none"))
    err = from_libvirt(exc, "connect")
    # libvirt's own first line says exactly what went wrong; the summary keeps it.
    assert err.summary.startswith("Could not connect: failed to connect socket to ")
    assert err.summary.endswith(": No such file or directory.")


def test_long_explanations_are_shortened_for_the_summary() -> None:
    assert shorten("short") == "short"
    long = "word " * 100
    cut = shorten(long)
    assert len(cut) == SUMMARY_DETAIL_MAX and cut.endswith("…")


def test_any_exception_becomes_a_nido_error() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        err = from_exception(exc, "do it")
    assert isinstance(err, NidoError)
    assert err.summary == "Could not do it: an unexpected error happened."
    assert "RuntimeError: boom" in err.details  # the traceback goes to the details


def test_permission_error_is_denied() -> None:
    err = from_exception(PermissionError(13, "Permission denied"), "write")
    assert err.kind is ErrorKind.DENIED and "Permission denied" in err.summary


def test_nido_error_passes_through_unchanged() -> None:
    original = NidoError("x", "y", ErrorKind.BUSY)
    assert from_exception(original, "z") is original
