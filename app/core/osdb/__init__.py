"""The OS catalogue and install-media detection for the new-VM wizard, over libosinfo
(GObject introspection) and osinfo-db. Pure core: no Qt. libosinfo runs in a helper
process (`server`, driven by `client`), so its ~55 MiB leave with it when the wizard closes.

    from app.core import osdb

    db = osdb.database()                  # shared client; its helper starts on first use
    lease = db.hold()                     # while the wizard is open; lease.release() after
    det = db.detect("/isos/debian.iso")   # blocking: run it in a worker
    det.label, det.match, det.message     # 'Debian 11', Match.EXACT, ''
    d = db.defaults_for(det)              # OSDefaults: ram, vcpus, disk, disk_bus, nic_model,
    d.ram.value, d.ram.guessed            #   firmware, secure_boot, tpm; each a Value with
    db.search("win 11")                   #   its provenance
    snapshot = db.catalogue()             # blocking the first time; an immutable tuple
    osdb.filter_catalogue(snapshot, "win 11")   # no lock, no libosinfo: any thread
"""

from app.core.osdb.client import Lease, OSData, OSDatabaseClient, database
from app.core.osdb.database import OSDatabase, data_version
from app.core.osdb.model import (
    GIB,
    MIB,
    Detection,
    Firmware,
    Match,
    MediaError,
    MediaIdentity,
    MediaProblem,
    OSDatabaseError,
    OSDefaults,
    OSInfo,
    ReleaseStatus,
    Source,
    UnknownOSError,
    Value,
    family_name,
)
from app.core.osdb.rules import OSFacts, Resources, ResourceSet, derive_defaults
from app.core.osdb.search import filter_catalogue

__all__ = [
    "GIB",
    "MIB",
    "Detection",
    "Firmware",
    "Lease",
    "Match",
    "MediaError",
    "MediaIdentity",
    "MediaProblem",
    "OSData",
    "OSDatabase",
    "OSDatabaseClient",
    "OSDatabaseError",
    "OSDefaults",
    "OSFacts",
    "OSInfo",
    "ReleaseStatus",
    "ResourceSet",
    "Resources",
    "Source",
    "UnknownOSError",
    "Value",
    "data_version",
    "database",
    "derive_defaults",
    "family_name",
    "filter_catalogue",
]
