"""Where a graphics server listens, as a remote display needs it: port, autoport, password
presence, and the address of each kind of ``<listen>``, read from live-style XML and
written back without disturbing the rest."""

from __future__ import annotations

from app.core.xml import Domain

# The shapes libvirt's live XML takes for a running guest's display servers.
LIVE = """<domain type='qemu' id='3'>
  <name>g</name>
  <devices>
    <graphics type='vnc' port='5901' autoport='yes' listen='0.0.0.0' passwd='x&amp;y'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
    <graphics type='spice' port='5902' tlsPort='5903' autoport='yes' listen='192.168.122.1'>
      <listen type='network' address='192.168.122.1' network='default'/>
      <image compression='off'/>
    </graphics>
    <graphics type='vnc' port='5904' autoport='no'>
      <listen type='network' address='10.0.0.7' network='lan'/>
    </graphics>
    <graphics type='vnc'>
      <listen type='socket' socket='/run/libvirt/qemu/g.vnc'/>
    </graphics>
    <graphics type='spice'>
      <listen type='none'/>
    </graphics>
  </devices>
</domain>
"""


def test_listen_of_each_kind_is_read() -> None:
    address, network, network_only, sock, none = Domain.from_xml(LIVE).devices.graphics
    assert (address.port, address.autoport, address.listen_type) == (5901, True, "address")
    assert address.listen_host == "0.0.0.0" and address.passwd == "x&y"
    assert (network.port, network.tls_port, network.listen_type) == (5902, 5903, "network")
    assert (network.listen_network, network.listen_network_address) == (
        "default",
        "192.168.122.1",
    )
    assert network.listen_host == "192.168.122.1"
    # No legacy attribute: the address comes from the network listen alone.
    assert (network_only.listen, network_only.listen_host) == (None, "10.0.0.7")
    assert network_only.autoport is False and network_only.passwd is None
    assert (sock.listen_type, sock.listen_socket, sock.listen_host) == (
        "socket",
        "/run/libvirt/qemu/g.vnc",
        None,
    )
    assert (none.listen_type, none.listen_host, none.port) == ("none", None, None)


def test_unchanged_graphics_round_trip_byte_for_byte() -> None:
    assert Domain.from_xml(LIVE).to_xml() == LIVE


def test_writing_listen_attributes_changes_only_them() -> None:
    dom = Domain.from_xml(LIVE)
    _, network, network_only, _, _ = dom.devices.graphics
    network_only.listen_network_address = "10.0.0.8"
    network.port = 5990
    network.listen_network = "lan"
    expected = (
        LIVE.replace("port='5902'", "port='5990'")
        .replace("network='default'", "network='lan'")
        .replace("address='10.0.0.7'", "address='10.0.0.8'")
    )
    assert dom.to_xml() == expected
    back = Domain.from_xml(dom.to_xml()).devices.graphics
    assert (back[1].port, back[1].listen_network, back[2].listen_host) == (5990, "lan", "10.0.0.8")
