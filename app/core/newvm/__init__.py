"""The New-VM wizard's core: a plain spec, the host's facts, defaults, validation, the
domain XML, the storage plan and the creation engine. Pure core: no Qt.

    from app.core import newvm

    host = newvm.gather_host_facts(virconn)          # blocking: run on a worker
    spec = newvm.NewVMSpec(iso_path="/isos/debian-12.iso")
    newvm.choose_os(spec, osdb.database().detect(spec.iso_path))   # blocking too
    d = newvm.defaults(spec, host)                   # recommendations clamped to the host
    d.apply(spec)                                    # fills what the person has not chosen
    d.memory_bytes.guessed, d.memory_bytes.why       # flags and reasons for the pages
    spec.nics[0].port_forwards.append(newvm.PortForward(2222, 22))
    problems = newvm.validate(spec, host)            # [Problem(field, message, severity)]
    newvm.plan_storage(spec, host).describe()        # the summary page's storage lines
    xml = newvm.build_xml(spec, host)                # the read-only XML view
    gate = newvm.CancelGate()                        # cancel up to the point of no return
    uuid = newvm.create(virconn, spec, host, progress=cb, cancelled=gate.cancelled,
                        call=newvm.on_pool(lambda: conn.workers), commit=gate.commit)
"""

from app.core.newvm.checks import Problem, Severity, errors, problems_for, validate
from app.core.newvm.domcaps import DomainCaps, parse_domain_caps
from app.core.newvm.engine import Progress, create
from app.core.newvm.gate import CancelGate
from app.core.newvm.host import (
    ConnMode,
    HostFacts,
    NetworkInfo,
    PortForwardMethod,
    gather_host_facts,
)
from app.core.newvm.images import ImageInfo, inspect_image
from app.core.newvm.lane import Call, on_pool
from app.core.newvm.names import name_problem, unique_name
from app.core.newvm.pool import StorageKind, StorageTarget
from app.core.newvm.portfwd import read_forwards
from app.core.newvm.spec import (
    MAX_NICS,
    NIC_MODELS,
    Firmware,
    ImportMode,
    NewVMSpec,
    NICSource,
    NICSpec,
    PortForward,
    SourceKind,
)
from app.core.newvm.storage import DiskAction, StoragePlan, plan_storage
from app.core.newvm.suggest import Defaults, Suggestion, choose_os, defaults
from app.core.newvm.xmlbuild import DisplayPlan, build_domain, build_xml, plan_display

__all__ = [
    "MAX_NICS",
    "NIC_MODELS",
    "Call",
    "CancelGate",
    "ConnMode",
    "Defaults",
    "DiskAction",
    "DisplayPlan",
    "DomainCaps",
    "Firmware",
    "HostFacts",
    "ImageInfo",
    "ImportMode",
    "NICSource",
    "NICSpec",
    "NetworkInfo",
    "NewVMSpec",
    "PortForward",
    "PortForwardMethod",
    "Problem",
    "Progress",
    "Severity",
    "SourceKind",
    "StorageKind",
    "StoragePlan",
    "StorageTarget",
    "Suggestion",
    "build_domain",
    "build_xml",
    "choose_os",
    "create",
    "defaults",
    "errors",
    "gather_host_facts",
    "inspect_image",
    "name_problem",
    "on_pool",
    "parse_domain_caps",
    "plan_display",
    "plan_storage",
    "problems_for",
    "read_forwards",
    "unique_name",
    "validate",
]
