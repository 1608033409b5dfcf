"""libvirt's own parser accepts every corpus file after the model edited it.

The definitions run in a child process on ``test:///default``, libvirt's in-memory test
driver: it uses the same domain XML parser as the QEMU driver, needs no event loop, and
keeps libvirt's global state (error handlers, connections) out of the pytest process.
The QEMU driver itself accepted the ``doc-*`` files when make_corpus.py turned them into
the ``lv-*`` files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.core.xml import NIDO_XMLNS, Domain

from .helpers import CORPUS, TITLE, modify, read_corpus

pytest.importorskip("libvirt")

# Files libvirt 9.0 refuses whatever the model does, with the reason it gives.
EXPECTED_REJECTIONS = {
    # passt arrived in libvirt 9.0 upstream, but Debian 12's build refuses the backend.
    "doc-passt-portforward.xml": "Invalid value for attribute 'type' in element 'backend'",
}

CHILD = r"""
import json, sys
import libvirt
libvirt.registerErrorHandler(lambda *args: None, None)
conn = libvirt.open("test:///default")
results = {}
for name, xml in json.load(sys.stdin).items():
    try:
        dom = conn.defineXML(xml)
        results[name] = {"ok": True, "xml": dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)}
    except libvirt.libvirtError as exc:
        results[name] = {"ok": False, "error": str(exc)}
conn.close()
json.dump(results, sys.stdout)
"""


@pytest.fixture(scope="module")
def libvirt_results() -> dict[str, dict[str, Any]]:
    docs: dict[str, str] = {}
    memory: dict[str, int] = {}
    for i, path in enumerate(CORPUS):
        dom = Domain.from_xml(read_corpus(path))
        memory[path.name] = modify(dom, f"nido-check-{i} <&> “{path.stem}”")
        docs[path.name] = dom.to_xml()
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(done.stdout)
    for name, result in results.items():
        result["memory"] = memory[name]
    return results


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_libvirt_accepts_the_edited_file(libvirt_results: dict[str, Any], path: Path) -> None:
    result = libvirt_results[path.name]
    if path.name in EXPECTED_REJECTIONS:
        assert not result["ok"]
        assert EXPECTED_REJECTIONS[path.name] in result["error"]
        return
    assert result["ok"], result.get("error")
    back = Domain.from_xml(result["xml"])
    index = CORPUS.index(path)
    # libvirt kept what the model wrote, escaping and namespaces included.
    assert back.name == f"nido-check-{index} <&> “{path.stem}”"
    assert back.title == TITLE
    if back.cpu.node is None or back.cpu.node.find("numa") is None:
        # (with NUMA cells, libvirt derives the total from the cells instead)
        assert back.memory == result["memory"]
        assert back.current_memory == result["memory"]
    assert back.metadata(NIDO_XMLNS, "vm", "n").get("os") == "debian12"
    cdrom = [d for d in back.devices.disks if d.target_dev == "sdz"]
    assert len(cdrom) == 1 and cdrom[0].device == "cdrom" and cdrom[0].readonly
    # And what the model did not touch is still there as libvirt understood it.
    original = Domain.from_xml(read_corpus(path))
    assert len(back.devices.interfaces) == len(original.devices.interfaces)
    assert [g.type for g in back.devices.graphics] == [g.type for g in original.devices.graphics]
    assert back.os.kernel == original.os.kernel
    assert back.os.cmdline == original.os.cmdline
