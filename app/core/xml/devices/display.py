"""What a person sees, hears and types with: graphics, video, input, sound and audio."""

from __future__ import annotations

from ..base import XMLProperty
from ..kinds import INT, bool_yes_no
from .base import Device

__all__ = ["Audio", "Graphics", "Input", "Sound", "Video"]


class Graphics(Device):
    """``<graphics type='vnc'|'spice' ...>``: the remote display of the guest."""

    TAG = "graphics"

    type = XMLProperty("./@type")
    port = XMLProperty("./@port", INT)
    tls_port = XMLProperty("./@tlsPort", INT)
    websocket = XMLProperty("./@websocket", INT)
    autoport = XMLProperty("./@autoport", bool_yes_no)
    passwd = XMLProperty("./@passwd")
    passwd_valid_to = XMLProperty("./@passwdValidTo")
    keymap = XMLProperty("./@keymap")
    listen_type = XMLProperty("./listen/@type")
    listen_address = XMLProperty("./listen[@type='address']/@address")
    listen_socket = XMLProperty("./listen[@type='socket']/@socket")
    listen_network = XMLProperty("./listen[@type='network']/@network")
    #: The address a network listen resolved to (libvirt fills it in the live XML).
    listen_network_address = XMLProperty("./listen[@type='network']/@address")
    gl_enable = XMLProperty("./gl/@enable", bool_yes_no)
    gl_rendernode = XMLProperty("./gl/@rendernode")
    image_compression = XMLProperty("./image/@compression", prune=True)
    clipboard_copypaste = XMLProperty("./clipboard/@copypaste", bool_yes_no, prune=True)
    mouse_mode = XMLProperty("./mouse/@mode", prune=True)
    audio_id = XMLProperty("./audio/@id", INT, prune=True)
    _listen_attr = XMLProperty("./@listen")

    @property
    def listen(self) -> str | None:
        """The listen address, from the ``listen`` attribute or the first address listen.

        Setting it keeps both places in step, as libvirt requires them to agree.
        """
        return self._listen_attr or self.listen_address

    @listen.setter
    def listen(self, value: str | None) -> None:
        elem = self._element()
        first = None if elem is None else elem.find("listen")
        if self._listen_attr is not None or first is None:
            self._listen_attr = value
        if first is None:
            self.listen_address = value
        elif value is not None and first.get("type") != "address":
            # Turn the first listen (none/socket/network) into an address listen.
            for name in ("socket", "network", "address"):
                first.unset(name)
            first.set("type", "address")
            first.set("address", value)
        else:
            self.listen_address = value

    @property
    def listen_host(self) -> str | None:
        """The address the server listens on, however the XML says it: the ``listen``
        attribute, an address listen, or the address a network listen resolved to."""
        return self.listen or self.listen_network_address


class Video(Device):
    """``<video><model type='virtio' heads='1'/></video>``: the guest's display adapter."""

    TAG = "video"

    model_type = XMLProperty("./model/@type")
    vram = XMLProperty("./model/@vram", INT)
    ram = XMLProperty("./model/@ram", INT)
    vgamem = XMLProperty("./model/@vgamem", INT)
    heads = XMLProperty("./model/@heads", INT)
    primary = XMLProperty("./model/@primary", bool_yes_no)
    accel3d = XMLProperty("./model/acceleration/@accel3d", bool_yes_no, prune=True)
    driver_name = XMLProperty("./driver/@name")


class Input(Device):
    """``<input type='tablet' bus='usb'/>``: mouse, keyboard, tablet or evdev passthrough."""

    TAG = "input"

    type = XMLProperty("./@type")
    bus = XMLProperty("./@bus")
    model = XMLProperty("./@model")
    source_evdev = XMLProperty("./source/@evdev")
    source_dev = XMLProperty("./source/@dev")


class Sound(Device):
    """``<sound model='ich9'>``: an emulated sound card."""

    TAG = "sound"

    model = XMLProperty("./@model")
    codec_type = XMLProperty("./codec/@type", prune=True)
    audio_id = XMLProperty("./audio/@id", INT, prune=True)


class Audio(Device):
    """``<audio id='1' type='spice'/>``: a host audio backend that sound cards use."""

    TAG = "audio"

    id = XMLProperty("./@id", INT)
    type = XMLProperty("./@type")
