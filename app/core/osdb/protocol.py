"""The wire format between Nido and its OS-database helper (`app.core.osdb.server`).

Each message is one frame: a 4-byte big-endian length, then a pickle. A request is
`(method, args, kwargs)`; a reply is `("ok", value)` or `("error", ErrorRecord)`. Values
are the plain data of `model` and `rules` (frozen dataclasses, enums, dates, tuples,
dicts). Both ends unpickle with `load`, which only builds those types: a frame naming any
other class is refused, so the pipe can carry data and never code.

NidoError subclasses do not pickle on their own (their constructors take other arguments
than `Exception.args`), so an error crosses as an `ErrorRecord` and comes back as the same
class with the same summary, details, kind and extra attributes (`problem`, `path`, ...).
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
import struct
from dataclasses import dataclass, field
from typing import IO, Any

from app.core.errors import ErrorKind, NidoError
from app.core.osdb import model, rules
from app.core.osdb.model import MediaError, OSDatabaseError, UnknownOSError

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # far above the catalogue (~0.3 MB): a bigger one is garbage
PROTOCOL = pickle.HIGHEST_PROTOCOL

# The classes a frame may name: everything the database's methods take and return.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("datetime", "date"): dt.date,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "set"): set,
    ("app.core.errors", "ErrorKind"): ErrorKind,
}
for _module in (model, rules):
    for _name, _obj in vars(_module).items():
        if isinstance(_obj, type) and _obj.__module__ == _module.__name__:
            _ALLOWED[(_module.__name__, _name)] = _obj

# The errors that cross the boundary as themselves; any other becomes an OSDatabaseError.
ERRORS: dict[str, type[NidoError]] = {
    cls.__name__: cls for cls in (NidoError, OSDatabaseError, MediaError, UnknownOSError)
}


class ProtocolError(Exception):
    """A frame that is cut short, too big, or names a class outside the allowed ones."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ProtocolError(f"a frame names {module}.{name}, which is not plain data") from None


def dumps(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=PROTOCOL)
    return _HEADER.pack(len(data)) + data


def loads(data: bytes) -> Any:
    """Unpickle one frame's body, building only the allowed types."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except ProtocolError:
        raise
    except Exception as exc:  # a corrupt pickle raises almost anything
        raise ProtocolError(f"a frame could not be read: {exc!r}") from exc


def write(stream: IO[bytes], obj: object) -> None:
    stream.write(dumps(obj))
    stream.flush()


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError(f"the stream ended {left} bytes short of a {n}-byte read")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read(stream: IO[bytes]) -> Any:
    """The next frame's value; EOFError when the stream ends, even mid-frame."""
    (size,) = _HEADER.unpack(_read_exactly(stream, _HEADER.size))
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is over the {MAX_FRAME}-byte limit")
    return loads(_read_exactly(stream, size))


@dataclass(frozen=True)
class ErrorRecord:
    """A NidoError as plain data: its class name, words, kind and extra attributes."""

    cls: str
    summary: str
    details: str
    kind: ErrorKind
    attrs: dict[str, Any] = field(default_factory=dict)


_ALLOWED[(__name__, "ErrorRecord")] = ErrorRecord


def error_record(exc: BaseException) -> ErrorRecord:
    """`exc` as a record; an exception that is not a NidoError is a bug in the helper and
    comes back as an OSDatabaseError carrying its traceback."""
    if isinstance(exc, NidoError) and type(exc).__name__ in ERRORS:
        attrs = {k: v for k, v in vars(exc).items() if k not in ("summary", "details", "kind")}
        return ErrorRecord(type(exc).__name__, exc.summary, exc.details, exc.kind, attrs)
    import traceback

    details = "".join(traceback.format_exception(exc))
    return ErrorRecord(
        "OSDatabaseError",
        "Nido's list of operating systems failed.",
        details,
        ErrorKind.INTERNAL,
    )


def error_from(record: ErrorRecord) -> NidoError:
    """The NidoError a record describes, of the same class, built without its __init__
    (whose arguments differ by class)."""
    cls = ERRORS.get(record.cls, OSDatabaseError)
    err = cls.__new__(cls)
    Exception.__init__(err, record.summary)
    err.summary, err.details, err.kind = record.summary, record.details, record.kind
    for key, value in record.attrs.items():
        setattr(err, key, value)
    return err
