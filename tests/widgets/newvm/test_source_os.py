"""The Source and Operating-system pages: bad files never get past the first page, the
detected OS is shown by name and version, and any OS can be found in the catalogue."""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from app.core.newvm import Firmware, SourceKind
from app.core.osdb import media
from tests.widgets.newvm.conftest import go_to, next_enabled, set_iso, settle
from widgets.newvm import PageId
from widgets.newvm.os_page import SOLE_MATCH_MS


def test_a_good_disc_is_detected_and_lets_the_person_on(made_wizard, qtbot, isos) -> None:
    wizard = made_wizard()
    page = wizard.source_page
    assert not next_enabled(wizard)  # nothing chosen yet
    set_iso(qtbot, wizard, isos["debian11"])
    assert next_enabled(wizard)
    assert page.iso_message.isHidden()
    assert page.detected.text() == "Detected: Debian 11"
    assert wizard.spec.os is not None and wizard.spec.os.short_id == "debian11"
    go_to(qtbot, wizard, PageId.OS)
    assert wizard.os_page.detected.text().startswith("Detected: Debian 11")
    assert "bullseye" in wizard.os_page.detected.text()  # name, version and codename
    assert wizard.os_page.chooser.isHidden()  # an exact match needs no list


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, isos: d / "gone.iso", "“gone.iso” does not exist."),
        (lambda d, isos: d, "is a folder, not a disc image."),
        (
            lambda d, isos: (d / "notes.iso").write_text("hello\n" * 1000) and d / "notes.iso",
            "“notes.iso” is not an ISO disc image.",
        ),
        (
            lambda d, isos: isos["not-bootable"],
            "“not-bootable.iso” is a data disc: a computer cannot start from it.",
        ),
    ],
    ids=["missing", "folder", "not-an-iso", "not-bootable"],
)
def test_bad_discs_keep_next_disabled(made_wizard, qtbot, isos, tmp_path, make, message) -> None:
    wizard = made_wizard()
    set_iso(qtbot, wizard, make(tmp_path, isos))
    assert not next_enabled(wizard)
    assert wizard.source_page.iso_message.isVisible()
    assert message in wizard.source_page.iso_message.text()
    assert wizard.source_page.iso_message.blocking
    # Fixing the path lets the person on, and the message goes.
    set_iso(qtbot, wizard, isos["debian11"])
    assert next_enabled(wizard)
    assert wizard.source_page.iso_message.isHidden()


def test_an_unreadable_disc_is_refused(made_wizard, qtbot, isos, tmp_path, monkeypatch) -> None:
    path = tmp_path / "secret.iso"
    path.write_bytes(isos["debian11"].read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads any file: refuse this one the way the kernel would
        real_open = builtins.open

        def deny(file, *args, **kwargs):
            if str(file) == str(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(media, "open", deny, raising=False)
    wizard = made_wizard()
    set_iso(qtbot, wizard, path)
    assert not next_enabled(wizard)
    assert wizard.source_page.iso_message.text() == (
        "Nido cannot read “secret.iso”: permission denied."
    )


def test_an_unknown_disc_offers_the_whole_list(made_wizard, qtbot, isos) -> None:
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["unknown"])
    assert next_enabled(wizard)  # an unknown OS is allowed: Nido guesses
    go_to(qtbot, wizard, PageId.OS)
    page = wizard.os_page
    assert page.detected.text() == "Detected: Unknown operating system"
    assert page.chooser.isVisible() and page.other.isChecked()
    assert "Pick its OS below" in page.message.text()
    assert page.list.count() > 100
    # The guesses say they are guesses.
    go_to(qtbot, wizard, PageId.RESOURCES)
    assert wizard.resources_page.memory.hint.text().startswith("Nido's guess")
    wizard.back()
    # A search with several matches picks none of them.
    page.search.setText("debian")
    qtbot.wait(SOLE_MATCH_MS * 2)
    assert page.list.count() > 1 and page.list.currentItem() is None
    assert wizard.spec.os is None
    # End-of-life releases are hidden until asked for.
    page.search.setText("debian 6")
    assert [page.list.item(i).text() for i in range(page.list.count())] == []
    page.eol.setChecked(True)
    names = [page.list.item(i).text() for i in range(page.list.count())]
    assert names == ["Debian 6.0  (end of life)"]
    # A search that leaves one OS picks it, once typing pauses.
    assert wizard.spec.os is None
    qtbot.waitUntil(lambda: wizard.spec.os is not None, timeout=3000)
    settle(qtbot, wizard)
    assert wizard.spec.os.short_id == "debian6"
    assert page.chosen.text().startswith("Nido sets the VM up for Debian 6")


def test_choosing_another_os_brings_its_defaults(made_wizard, qtbot, isos) -> None:
    """A Debian disc, but the person says Windows 11: UEFI, Secure Boot, a TPM and its
    memory follow; a value the person set stays."""
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.RESOURCES)
    debian_memory = wizard.spec.memory_bytes
    wizard.resources_page.vcpus.control.spin.setValue(3)  # the person's own choice
    settle(qtbot, wizard)
    wizard.back()
    page = wizard.os_page
    page.other.setChecked(True)
    page.search.setText("windows 11")
    items = [page.list.item(i) for i in range(page.list.count())]
    win11 = next(i for i in items if i.text() == "Microsoft Windows 11")
    page.list.setCurrentItem(win11)
    settle(qtbot, wizard)
    assert page.chosen.text() == "Nido sets the VM up for Microsoft Windows 11."
    spec = wizard.spec
    assert spec.os is not None and spec.os.short_id == "win11"
    assert (spec.firmware, spec.secure_boot, spec.tpm) == (Firmware.UEFI, True, True)
    assert wizard.defaults is not None
    assert spec.memory_bytes == wizard.defaults.memory_bytes.value >= 4 * 1024**3
    assert spec.memory_bytes != debian_memory
    assert spec.vcpus == 3
    assert spec.name == "win11"  # the default name follows the OS
    go_to(qtbot, wizard, PageId.FIRMWARE)
    assert wizard.firmware_page.uefi.isChecked()
    assert wizard.firmware_page.secure.isChecked() and wizard.firmware_page.tpm.isChecked()


def test_import_needs_copying_for_vmdk(made_wizard, qtbot, tmp_path: Path) -> None:
    vmdk = tmp_path / "old.vmdk"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "64M"], check=True, timeout=30
    )
    wizard = made_wizard()
    page = wizard.source_page
    page.import_radio.setChecked(True)
    page.image.edit.setText(str(vmdk))
    page.in_place.setChecked(True)
    settle(qtbot, wizard)
    assert wizard.spec.source is SourceKind.IMPORT
    qtbot.waitUntil(lambda: page.image_info.text() != "")
    assert "VMDK image of 64 MiB" in page.image_info.text()
    assert not next_enabled(wizard)
    assert page.mode_message.text() == "VMDK images are converted to qcow2: choose to copy it."
    page.copy.setChecked(True)
    settle(qtbot, wizard)
    assert next_enabled(wizard)
    assert page.mode_message.isHidden()
    # The OS page asks which OS is on the disk, and the disk size comes from the image.
    go_to(qtbot, wizard, PageId.RESOURCES)
    assert wizard.resources_page.disk.isHidden()


def test_an_iso_is_not_imported_as_a_disk(made_wizard, qtbot, isos) -> None:
    wizard = made_wizard()
    page = wizard.source_page
    page.import_radio.setChecked(True)
    page.image.edit.setText(str(isos["debian11"]))
    settle(qtbot, wizard)
    assert not next_enabled(wizard)
    assert page.image_message.text() == "“debian11.iso” is a disc image: install from it instead."


def test_detection_and_checks_run_off_the_gui_thread(made_wizard, qtbot, isos, monkeypatch) -> None:
    """libosinfo, qemu-img and the checks (which read files and bind ports) block: none of
    them may run on the GUI thread."""
    import threading

    from app.core import newvm, osdb

    threads: dict[str, set[str]] = {}

    def spy(owner, name: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            threads.setdefault(name, set()).add(threading.current_thread().name)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(osdb.Lease, "detect")
    spy(osdb.Lease, "defaults_for")
    spy(newvm, "validate")
    spy(newvm, "choose_os")
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["debian11"])
    go_to(qtbot, wizard, PageId.SUMMARY)
    assert {"detect", "defaults_for", "validate", "choose_os"} <= threads.keys()
    main = threading.main_thread().name
    assert all(main not in names for names in threads.values()), threads


def test_a_host_that_cannot_be_asked_says_so(qtbot, db, isos) -> None:
    from app.core import uris
    from app.core.connection import Connection, ConnectionSpec
    from widgets.newvm import NewVMWizard

    conn = Connection(ConnectionSpec(kind=uris.Kind.CUSTOM, uri="test:///default", name="Gone"))
    wizard = NewVMWizard(conn, None, None, database=db)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.host_error is not None)
    assert wizard.source_page.host_label.text() == (
        "Nido could not find out what Gone offers: Gone is not connected."
    )
    wizard.source_page.iso.edit.setText(str(isos["debian11"]))
    qtbot.waitUntil(lambda: wizard.detecting == "" and wizard.os_ready)
    assert not next_enabled(wizard)


def test_closing_while_a_disc_is_looked_at_reports_nothing(
    made_wizard, qtbot, isos, failures
) -> None:
    wizard = made_wizard()
    wizard.source_page.iso.edit.setText(str(isos["win11"]))
    wizard.source_page._apply_now()  # as when the field loses focus
    assert wizard.detecting
    wizard.reject()
    qtbot.waitUntil(lambda: not wizard.detecting, timeout=5000)
    qtbot.wait(200)
    assert failures == []
    assert wizard.closed and wizard.os_pending == 1  # the OS lookup was never started


def test_a_windows_11_disc_gets_uefi_secure_boot_and_a_tpm_by_itself(
    made_wizard, qtbot, isos
) -> None:
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["win11"])
    assert wizard.source_page.detected.text() == "Detected: Microsoft Windows 11"
    go_to(qtbot, wizard, PageId.FIRMWARE)
    page = wizard.firmware_page
    assert page.uefi.isChecked() and page.secure.isChecked() and page.tpm.isChecked()
    assert page.why.text() == (
        "Recommended for Microsoft Windows 11: UEFI with Secure Boot and a TPM 2.0."
    )
    go_to(qtbot, wizard, PageId.SUMMARY)
    assert "Firmware: UEFI with Secure Boot, with an emulated TPM 2.0." in (
        wizard.summary_page.summary_text()
    )


def test_switching_from_a_disc_to_a_disk_image_forgets_the_discs_os(
    made_wizard, qtbot, isos, tmp_path
) -> None:
    disk = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["win11"])
    assert wizard.spec.os is not None and wizard.spec.os.short_id == "win11"
    wizard.source_page.import_radio.setChecked(True)
    wizard.source_page.image.edit.setText(str(disk))
    settle(qtbot, wizard)
    assert wizard.spec.os is None and wizard.spec.detection is None
    assert next_enabled(wizard)
    go_to(qtbot, wizard, PageId.OS)
    assert wizard.os_page.chosen.text() == (
        "Nido sets the VM up with its own guesses for an unknown OS."
    )
    assert wizard.os_page.chooser.isVisible()


def test_an_unknown_os_is_named_after_its_file(made_wizard, qtbot, isos, tmp_path) -> None:
    disc = tmp_path / "Homebrew OS 2.iso"
    shutil.copy(isos["unknown"], disc)
    wizard = made_wizard(existing_names=frozenset({"Homebrew OS 2"}))
    set_iso(qtbot, wizard, disc)
    assert wizard.spec.os is None
    assert wizard.spec.name == "Homebrew OS 2-2"  # free on the connection
    page = wizard.source_page
    page.import_radio.setChecked(True)
    for name in ("web server", "db"):  # an unknown disk's name follows the file chosen
        disk = tmp_path / f"{name}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
        page.image.edit.setText(str(disk))
        settle(qtbot, wizard)
        assert wizard.spec.name == name
    go_to(qtbot, wizard, PageId.SUMMARY)
    assert wizard.summary_page.name.text() == "db"


def test_the_os_search_needs_no_database_lock(made_wizard, qtbot, isos, db) -> None:
    """Typing in the search filters the catalogue snapshot on the GUI thread; it must not
    wait for the database, whose lock detection holds while libosinfo reads a disc."""
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["unknown"])
    go_to(qtbot, wizard, PageId.OS)
    page = wizard.os_page
    held, done = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def hold() -> None:
        with db._lock:
            held.set()
            outcome.append(done.wait(30.0))

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30.0)
        page.search.setText("windows 11")
        names = [page.list.item(i).text() for i in range(page.list.count())]
    finally:
        done.set()
        holder.join(30.0)
    assert names[0] == "Microsoft Windows 11"
    assert outcome == [True]  # still held when the list was filled


def test_a_search_that_finds_nothing_says_what_to_do(made_wizard, qtbot, isos) -> None:
    wizard = made_wizard()
    set_iso(qtbot, wizard, isos["unknown"])
    go_to(qtbot, wizard, PageId.OS)
    page = wizard.os_page
    # The placeholder's examples are short ids this OS list has and shows.
    hint = page.search.placeholderText()
    examples = hint[hint.index("(") + 1 : hint.index(")")].split(", ")
    assert examples and "win11" in examples
    for short_id in examples:
        page.search.setText(short_id)
        assert page.list.count() >= 1, short_id
        assert page.list.item(0).toolTip().endswith(f"· {short_id}")  # the full id first
    # Only end-of-life releases match: the count says how to show them.
    page.search.setText("debian 6")
    assert page.list.count() == 0
    assert "past their end of life" in page.count.text()
    # Nothing at all matches (a release newer than the list, say): what to pick instead.
    page.search.setText("debian 99")
    assert page.list.count() == 0
    assert "Generic Linux" in page.count.text()
    assert "“debian 99”" in page.count.text()
