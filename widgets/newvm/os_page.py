"""Step 2: which operating system the guest runs — what detection found, or any OS of the
catalogue through a search (end-of-life releases hidden unless asked for)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.newvm import SourceKind
from app.core.osdb import Match, OSInfo, filter_catalogue
from widgets.newvm.common import HINT_COLOUR
from widgets.newvm.wizard import NewVMWizard, Page

OS_ROLE = Qt.ItemDataRole.UserRole + 1
#: A search that leaves one OS picks it once typing has paused this long.
SOLE_MATCH_MS = 400


def search_hint(catalogue: Sequence[OSInfo] | None, today: dt.date | None = None) -> str:
    """The search field's placeholder, its examples short ids this catalogue has and shows
    (the newest current Debian, Windows 11), so that typing one finds it."""
    examples = ["debian12", "win11"]
    if catalogue is not None:
        today = today or dt.date.today()
        shown = [i for i in catalogue if not i.is_eol(today) and not i.is_unknown_release]
        debian = [i for i in shown if i.distro == "debian" and i.release_date]
        newest = max(debian, key=lambda i: i.release_date, default=None)
        ids = {i.short_id for i in shown}
        examples = [e for e in (newest.short_id if newest else "", "win11") if e in ids]
    if not examples:
        return "Search: a name, version or short id"
    return f"Search: a name, version or short id ({', '.join(examples)})"


def os_words(info: OSInfo) -> str:
    """'Debian 11 (version 11, “bullseye”)'."""
    extra = []
    short = re.sub(r"(\.0)+$", "", info.version)
    if short and short not in info.name:
        extra.append(f"version {info.version}")
    if info.codename:
        extra.append(f"“{info.codename}”")
    return f"{info.name} ({', '.join(extra)})" if extra else info.name


class OSPage(Page):
    def __init__(self, nv: NewVMWizard) -> None:
        super().__init__(nv)
        self.setTitle("Which operating system will it run?")
        self.setSubTitle("Nido sets the VM up the way this operating system wants it.")
        layout = QVBoxLayout(self)

        self.detected = QLabel()
        self.detected.setObjectName("osDetected")
        self.detected.setWordWrap(True)
        self.detected.setTextFormat(Qt.TextFormat.PlainText)
        font = self.detected.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.detected.setFont(font)
        layout.addWidget(self.detected)
        self.message = QLabel()
        self.message.setObjectName("osMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(f"color: {HINT_COLOUR};")
        layout.addWidget(self.message)

        self.other = QCheckBox("Choose another operating system")
        self.other.setObjectName("osOther")
        layout.addWidget(self.other)

        self.chooser = QWidget()
        box = QVBoxLayout(self.chooser)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("osSearch")
        self.search.setPlaceholderText(search_hint(nv.catalogue))
        self.search.setClearButtonEnabled(True)
        self.eol = QCheckBox("Show releases past their end of life")
        self.eol.setObjectName("osShowEol")
        row.addWidget(self.search, 1)
        row.addWidget(self.eol)
        box.addLayout(row)
        self.list = QListWidget()
        self.list.setObjectName("osList")
        self.list.setUniformItemSizes(True)
        box.addWidget(self.list, 1)
        self.count = QLabel()
        self.count.setObjectName("osCount")
        self.count.setWordWrap(True)  # "nothing matches" says what to do, in a sentence
        self.count.setStyleSheet(f"color: {HINT_COLOUR};")
        box.addWidget(self.count)
        layout.addWidget(self.chooser, 1)
        self.spacer = QWidget()
        layout.addWidget(self.spacer, 1)

        self.chosen = QLabel()
        self.chosen.setObjectName("osChosen")
        self.chosen.setWordWrap(True)
        self.chosen.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.chosen)

        # A search that leaves one OS picks it once typing pauses: the person named it, and
        # Next must not go on with "unknown" while the only match sits there unselected.
        self._sole_match = QTimer(self)
        self._sole_match.setSingleShot(True)
        self._sole_match.setInterval(SOLE_MATCH_MS)
        self._sole_match.timeout.connect(self._pick_sole_match)

        self.other.toggled.connect(self._show_chooser)
        self.search.textChanged.connect(self._fill)
        self.eol.toggled.connect(self._fill)
        self.list.currentItemChanged.connect(self._picked)
        nv.catalogueChanged.connect(self._catalogue_changed)
        nv.osChanged.connect(self._refresh)
        nv.detectionChanged.connect(self._refresh)
        self._show_chooser(False)

    def ready(self) -> bool:
        return self.nv.os_ready

    def initializePage(self) -> None:
        det = self.nv.spec.detection
        unsure = det is None or det.match in (Match.NONE, Match.LIKELY)
        self.other.setChecked(unsure)
        self._show_chooser(unsure)
        self._fill()
        self._refresh()

    def _show_chooser(self, on: bool) -> None:
        self.chooser.setVisible(on)
        self.spacer.setVisible(not on)
        if on:
            self._fill()
            self.search.setFocus()

    def _catalogue_changed(self) -> None:
        self.search.setPlaceholderText(search_hint(self.nv.catalogue))
        self._fill()

    def _fill(self) -> None:
        catalogue = self.nv.catalogue
        self.list.blockSignals(True)
        self.list.clear()
        if catalogue is None:
            self.count.setText("Reading the OS list…")
        elif self.nv.catalogue_error is not None:
            self.count.setText(f"The OS list is not available: {self.nv.catalogue_error.summary}")
        else:
            today = dt.date.today()
            current = self.nv.spec.os.id if self.nv.spec.os is not None else ""
            query, with_eol = self.search.text().strip(), self.eol.isChecked()
            hits = filter_catalogue(catalogue, query, with_eol, today)
            for info in hits:
                text = info.name
                if info.is_eol(today):
                    text += "  (end of life)"
                item = QListWidgetItem(text)
                item.setData(OS_ROLE, info)
                item.setToolTip(f"{os_words(info)} · {info.short_id}")
                self.list.addItem(item)
                if info.id == current:
                    self.list.setCurrentItem(item)
            if hits or not query:
                hidden = "" if with_eol else " (end-of-life releases hidden)"
                self.count.setText(f"{len(hits)} of {len(catalogue)} operating systems{hidden}")
            elif not with_eol and filter_catalogue(catalogue, query, True, today):
                self.count.setText(
                    f"No current release matches “{query}”, but some past their end of "
                    "life do: tick “Show releases past their end of life”."
                )
            else:
                self.count.setText(
                    f"Nido's OS list knows nothing matching “{query}”. For a release "
                    "newer than the list, pick the newest one of its family, or Generic Linux."
                )
        self.list.blockSignals(False)
        self._sole_match.start()

    def _pick_sole_match(self) -> None:
        if self.search.text().strip() and self.list.count() == 1 and not self.list.currentItem():
            self.list.setCurrentRow(0)

    def _picked(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        info = item.data(OS_ROLE)
        if isinstance(info, OSInfo) and (self.nv.spec.os is None or self.nv.spec.os.id != info.id):
            self.nv.choose_os(info)

    def _refresh(self) -> None:
        nv, spec = self.nv, self.nv.spec
        det = spec.detection
        if spec.source is SourceKind.IMPORT:
            self.detected.setText("Which operating system is on this disk image?")
            self.message.setText(
                "Nido cannot look inside a disk image: pick its OS below for the best "
                "settings, or keep Nido's guesses."
            )
        elif det is None:
            why = f": {nv.osdb_error.summary}" if nv.osdb_error is not None else "."
            self.detected.setText(f"Nido could not look at the disc{why}")
            self.message.setText("Pick its OS below, or keep Nido's guesses.")
        else:
            if det.match is Match.EXACT and det.os is not None:
                self.detected.setText(f"Detected: {os_words(det.os)}")
                if det.variant and det.variant not in det.os.name:
                    self.detected.setText(f"Detected: {det.label}")
            else:
                self.detected.setText(f"Detected: {det.label}")
            self.message.setText(det.message)
        self.message.setVisible(bool(self.message.text()))
        if nv.os_pending:
            self.chosen.setText("Reading the OS's recommendations…")
        elif spec.os is not None:
            self.chosen.setText(f"Nido sets the VM up for {os_words(spec.os)}.")
        elif spec.os_defaults is not None:
            self.chosen.setText("Nido sets the VM up with its own guesses for an unknown OS.")
        else:
            self.chosen.setText("")
        self.completeChanged.emit()
