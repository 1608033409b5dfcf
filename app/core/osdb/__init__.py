"""The OS catalogue and install-media detection for the new-VM wizard, over libosinfo
(GObject introspection) and osinfo-db. Pure core: no Qt.

    from app.core import osdb

    db = osdb.database()                  # shared; loads on first use (~0.3 s)
    det = db.detect("/isos/debian.iso")   # blocking: run it in a worker
    det.label, det.match, det.message     # 'Debian 11', Match.EXACT, ''
    d = db.defaults_for(det)              # OSDefaults: ram, vcpus, disk, disk_bus, nic_model,
    d.ram.value, d.ram.guessed            #   firmware, secure_boot, tpm; each a Value with
    db.search("win 11")                   #   its provenance
    snapshot = db.catalogue()             # blocking the first time; an immutable tuple
    osdb.filter_catalogue(snapshot, "win 11")   # no lock, no libosinfo: any thread
"""

from app.core.osdb.database import OSDatabase, data_version, database
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
    "Match",
    "MediaError",
    "MediaIdentity",
    "MediaProblem",
    "OSDatabase",
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
