"""Step 3: vCPUs, memory and disk size — sliders over what the host has, each with a spin
box, the OS's recommendation (or Nido's guess, said as such) and the host's limits."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from app.core.newvm import SourceKind, Suggestion
from widgets.newvm.common import GIB, HINT_COLOUR, MIB, FieldMessage, SliderSpin, plural, size_text
from widgets.newvm.wizard import NewVMWizard, Page

MEMORY_STEP_MIB = 256
SPIN_MAX_VCPUS = 4096
SPIN_MAX_MIB = 16 * 1024 * 1024  # 16 TiB: beyond any host, so a refused value can be typed
SPIN_MAX_GIB = 1024 * 1024


def suggestion_words(s: Suggestion[int], value: str) -> str:
    """'Recommended: 2 GiB (osinfo-db's recommended RAM for Debian 11)'."""
    head = "Nido's guess" if s.guessed else "Recommended"
    return f"{head}: {value} ({s.why})" if s.why else f"{head}: {value}"


class _Row(QWidget):
    """A slider with its spin box, a hint and a message."""

    def __init__(self, name: str, suffix: str, spin_max: int) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        self.control = SliderSpin(suffix, spin_max)
        self.control.spin.setObjectName(f"{name}Spin")
        self.control.slider.setObjectName(f"{name}Slider")
        self.hint = QLabel()
        self.hint.setObjectName(f"{name}Hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {HINT_COLOUR};")
        self.message = FieldMessage()
        self.message.setObjectName(f"{name}Message")
        layout.addWidget(self.control)
        layout.addWidget(self.message)
        layout.addWidget(self.hint)


class ResourcesPage(Page):
    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("How much of this computer may it use?")
        self.setSubTitle("The values are the OS's recommendations, fitted to this host.")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.vcpus = _Row("vcpus", "", SPIN_MAX_VCPUS)
        self.memory = _Row("memory", " MiB", SPIN_MAX_MIB)
        self.disk = _Row("disk", " GiB", SPIN_MAX_GIB)
        self.disk_label = QLabel("&Disk size:")
        self.disk_label.setBuddy(self.disk.control.spin)
        for label, row in (("v&CPUs:", self.vcpus), ("&Memory:", self.memory)):
            text = QLabel(label)
            text.setBuddy(row.control.spin)
            form.addRow(text, row)
        form.addRow(self.disk_label, self.disk)
        self.host_line = QLabel()
        self.host_line.setObjectName("hostResources")
        self.host_line.setWordWrap(True)
        form.addRow(self.host_line)
        self.vcpus.control.valueChanged.connect(self._vcpus_changed)
        self.memory.control.valueChanged.connect(self._memory_changed)
        self.disk.control.valueChanged.connect(self._disk_changed)
        self.fields = ("vcpus", "memory", "disk")

    def initializePage(self) -> None:
        nv, spec, host, d = self.nv, self.nv.spec, self.nv.host, self.nv.defaults
        if host is None or d is None:
            return
        self.vcpus.control.set_range(d.min_vcpus, d.max_vcpus)
        self.vcpus.control.setValue(spec.vcpus)
        self.vcpus.hint.setText(suggestion_words(d.vcpus, plural(d.vcpus.value, "vCPU")))

        low = -(-d.min_memory_bytes // MIB)
        self.memory.control.set_range(low, d.max_memory_bytes // MIB, MEMORY_STEP_MIB)
        self.memory.control.setValue(spec.memory_bytes // MIB)
        self.memory.hint.setText(suggestion_words(d.memory_bytes, size_text(d.memory_bytes.value)))

        iso = spec.source is SourceKind.ISO
        self.disk.setVisible(iso)
        self.disk_label.setVisible(iso)
        if iso:
            top = d.max_disk_bytes // GIB if d.max_disk_bytes is not None else 2048
            self.disk.control.set_range(max(1, -(-d.min_disk_bytes // GIB)), max(1, top))
            self.disk.control.setValue(-(-spec.disk_bytes // GIB))
            thin = "It is thin-provisioned: it takes space only as the guest writes."
            self.disk.hint.setText(
                suggestion_words(d.disk_bytes, size_text(d.disk_bytes.value)) + ". " + thin
            )
        cores = plural(host.physical_cores, "physical core")
        free = host.storage.free_bytes if host.storage is not None else None
        disk_free = f"; {size_text(free)} free for disks" if iso and free is not None else ""
        self.host_line.setText(
            f"This host: {plural(host.cpus, 'CPU')} ({cores}), "
            f"{size_text(host.memory_bytes)} of memory with {size_text(host.free_memory_bytes)} "
            f"free now{disk_free}. Runs under {self._accel_words()}."
        )
        nv.revalidate()
        self.show_problems()

    def _accel_words(self) -> str:
        host = self.nv.host
        if host is None or host.accelerator is None:
            return "the hypervisor's default"
        if host.accelerator.is_kvm:
            return "KVM"
        return "TCG (software emulation, slower than KVM)"

    def show_problems(self) -> None:
        self.vcpus.message.show_problems(self.problems("vcpus"))
        self.memory.message.show_problems(self.problems("memory"))
        self.disk.message.show_problems(self.problems("disk"))

    def _vcpus_changed(self, value: int) -> None:
        self.nv.spec.vcpus = value
        self.nv.touch("vcpus")

    def _memory_changed(self, value: int) -> None:
        self.nv.spec.memory_bytes = value * MIB
        self.nv.touch("memory")

    def _disk_changed(self, value: int) -> None:
        self.nv.spec.disk_bytes = value * GIB
        self.nv.touch("disk")
