"""The helper's wire format: every type the database takes or returns comes back equal,
errors come back as the same NidoError class, and a frame naming any other class is
refused."""

from __future__ import annotations

import datetime as dt
import io
import os
import pickle
import struct

import pytest

from app.core.errors import ErrorKind, NidoError
from app.core.osdb import (
    Detection,
    Firmware,
    Match,
    MediaError,
    MediaIdentity,
    MediaProblem,
    OSDatabaseError,
    OSDefaults,
    OSFacts,
    OSInfo,
    ReleaseStatus,
    Resources,
    ResourceSet,
    Source,
    UnknownOSError,
    Value,
    derive_defaults,
    protocol,
)
from app.core.osdb.server import serve

WIN11 = OSInfo(
    "http://microsoft.com/win/11",
    "win11",
    "Microsoft Windows 11",
    version="11",
    family="winnt",
    distro="win",
    vendor="Microsoft Corporation",
    release_date=dt.date(2021, 10, 4),
    eol_date=None,
    status=ReleaseStatus.RELEASED,
    short_ids=("win11",),
)
DEBIAN = OSInfo(
    "http://debian.org/debian/11",
    "debian11",
    "Debian 11",
    codename="bullseye",
    eol_date=dt.date(2026, 8, 31),
    short_ids=("debian11", "debianbullseye"),
    superseded=True,
)


def round_trip(value: object) -> object:
    frame = protocol.dumps(value)
    (size,) = struct.unpack(">I", frame[:4])
    assert size == len(frame) - 4
    return protocol.read(io.BytesIO(frame))


def facts() -> OSFacts:
    minimum = {"all": Resources(ram=4 * 2**30, n_cpus=2, storage=64 * 2**30)}
    return OSFacts(
        os=WIN11,
        resources=(ResourceSet("Microsoft Windows 11", minimum, {"x86_64": Resources(None)}),),
        devices=frozenset({"e1000e", "qemu-x86-q35"}),
        firmware=(("x86_64", "efi", True), ("x86_64", "bios", False)),
        ancestors=frozenset({"http://microsoft.com/win/10"}),
    )


@pytest.mark.parametrize(
    "value",
    [
        WIN11,
        (DEBIAN, WIN11),
        MediaIdentity("CCCOMA_X64FRE_EN-US_DV9", "", "MICROSOFT CORPORATION", ""),
        Detection(
            "/isos/win.iso",
            MediaIdentity("CCCOMA_X64FRE_EN-US_DV9"),
            Match.EXACT,
            os=WIN11,
            basis=WIN11,
            variant="Windows 11 Pro",
            arch="x86_64",
            live=False,
            installer=True,
            languages=("en-US",),
            alternatives=(DEBIAN,),
        ),
        Detection("/isos/x.iso", MediaIdentity(), Match.NONE, message="Pick its OS below."),
        Value(2**30, Source.OSINFO, "osinfo-db's recommended RAM"),
        Value(Firmware.UEFI, Source.RULE),
        derive_defaults(None),
        derive_defaults(facts()),
        Resources(ram=1, n_cpus=None, storage=3),
        ("load", (), {}),
        ("defaults_for", (WIN11, "x86_64"), {}),
        ("ok", None),
        ("ok", 0.25),
    ],
)
def test_plain_data_comes_back_equal(value: object) -> None:
    assert round_trip(value) == value


def test_facts_come_back_with_every_field() -> None:
    # OSFacts and ResourceSet compare by identity (eq=False): compare their fields.
    sent = facts()
    got = round_trip(sent)
    assert isinstance(got, OSFacts)
    assert (got.os, got.devices, got.firmware, got.ancestors) == (
        sent.os,
        sent.devices,
        sent.firmware,
        sent.ancestors,
    )
    assert [(r.os_name, dict(r.minimum), dict(r.recommended)) for r in got.resources] == [
        (r.os_name, dict(r.minimum), dict(r.recommended)) for r in sent.resources
    ]
    assert derive_defaults(got) == derive_defaults(sent)


def test_defaults_keep_their_type() -> None:
    got = round_trip(derive_defaults(facts()))
    assert isinstance(got, OSDefaults) and got.firmware.value is Firmware.UEFI
    assert got.tpm.value is True and got.match is Match.EXACT


@pytest.mark.parametrize(
    "error",
    [
        MediaError(MediaProblem.NOT_BOOTABLE, "/isos/data.iso", "“data.iso” is a data disc."),
        MediaError(
            MediaProblem.UNREADABLE,
            "/isos/s.iso",
            "Nido cannot read “s.iso”.",
            "EACCES",
            ErrorKind.DENIED,
        ),
        UnknownOSError("nothing11"),
        OSDatabaseError(
            "Nido's list of operating systems is empty.", "no OS", ErrorKind.UNSUPPORTED
        ),
        NidoError("Something else.", "details", ErrorKind.BUSY),
    ],
)
def test_errors_come_back_as_the_same_class(error: NidoError) -> None:
    got = protocol.error_from(round_trip(protocol.error_record(error)))
    assert type(got) is type(error)
    assert (got.summary, got.details, got.kind, str(got)) == (
        error.summary,
        error.details,
        error.kind,
        str(error),
    )
    assert vars(got) == vars(error)  # problem, path, os_id: every extra attribute
    assert got.report() == error.report()


def test_a_bug_in_the_helper_comes_back_as_an_os_database_error() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        got = protocol.error_from(round_trip(protocol.error_record(exc)))
    assert type(got) is OSDatabaseError and got.kind is ErrorKind.INTERNAL
    assert got.summary == "Nido's list of operating systems failed."
    assert "KeyError: 'missing'" in got.details


def test_a_frame_naming_another_class_is_refused() -> None:
    body = pickle.dumps(os.system)  # would name posix.system
    with pytest.raises(protocol.ProtocolError, match=r"posix\.system"):
        protocol.loads(body)


def test_cut_and_oversized_frames() -> None:
    frame = protocol.dumps(WIN11)
    with pytest.raises(EOFError):
        protocol.read(io.BytesIO(frame[:-1]))
    with pytest.raises(EOFError):
        protocol.read(io.BytesIO(b""))
    with pytest.raises(protocol.ProtocolError, match="limit"):
        protocol.read(io.BytesIO(struct.pack(">I", protocol.MAX_FRAME + 1)))
    with pytest.raises(protocol.ProtocolError):
        protocol.read(io.BytesIO(struct.pack(">I", 3) + b"\x80\x05x"))


def test_the_server_answers_in_order_and_says_what_it_does_not_know() -> None:
    requests = io.BytesIO(
        protocol.dumps(("pid", (), {})) + protocol.dumps(("format_disk", ("/",), {}))
    )
    replies = io.BytesIO()
    serve(requests, replies, db=None)
    replies.seek(0)
    assert protocol.read(replies) == ("ok", os.getpid())
    status, record = protocol.read(replies)
    assert status == "error" and record.cls == "OSDatabaseError"
    assert "no such request: 'format_disk'" in record.details
