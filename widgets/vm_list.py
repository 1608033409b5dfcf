"""The VM list: a tree view over the VM model, grouped by connection, with a delegate that
paints each VM as a card (live thumbnail, name, OS, state, CPU sparkline) and each
connection as a header with its state and accelerator. With no VM anywhere, the space
under the headers shows an empty state: a few friendly words and a New VM… button.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.connection import Connection, State
from app.core.inventory import VMInfo
from app.core.vmstate import Status
from app.qt.models import Role
from widgets.icons import icon

Index = QModelIndex | QPersistentModelIndex

THUMB_W, THUMB_H = 128, 72
VM_ROW_H = THUMB_H + 16
GROUP_ROW_H = 34
SPARK_W, SPARK_H = 96, 30

STATUS_COLORS: dict[Status, str] = {
    Status.RUNNING: "#2e9d4e",
    Status.PAUSED: "#d68910",
    Status.SHUTOFF: "#7f8c8d",
    Status.SAVED: "#6c3fb0",
    Status.CRASHED: "#c0392b",
    Status.SUSPENDED: "#2a6fb0",
    Status.SHUTTING_DOWN: "#d68910",
    Status.UNKNOWN: "#7f8c8d",
}

CONN_COLORS: dict[State, str] = {
    State.CONNECTED: "#2e9d4e",
    State.CONNECTING: "#d68910",
    State.DISCONNECTED: "#c0392b",
}


def sparkline_path(values: Sequence[float], rect: QRect, top: float = 100.0) -> QPainterPath:
    """A path through the known values, scaled into rect (0 at the bottom, `top` at the
    top). Unknown (NaN) samples break the line."""
    path = QPainterPath()
    n = len(values)
    if n < 2:
        return path
    step = rect.width() / (n - 1)
    pen_down = False
    for i, v in enumerate(values):
        if v is None or math.isnan(v):
            pen_down = False
            continue
        x = rect.left() + i * step
        y = rect.bottom() - max(0.0, min(v, top)) / top * rect.height()
        if pen_down:
            path.lineTo(QPointF(x, y))
        else:
            path.moveTo(QPointF(x, y))
            pen_down = True
    return path


def sparkline_rect(row: QRect) -> QRect:
    """Where a VM row's CPU sparkline goes (also what a stats tick repaints)."""
    r = row.adjusted(8, 8, -10, -8)
    return QRect(r.right() - SPARK_W, r.center().y() - SPARK_H // 2, SPARK_W, SPARK_H)


def thumbnail_size(device_pixel_ratio: float) -> QSize:
    """Thumbnails are decoded at exactly the size they are drawn, so painting never scales."""
    return QSize(round(THUMB_W * device_pixel_ratio), round(THUMB_H * device_pixel_ratio))


class VMDelegate(QStyledItemDelegate):
    """Paints VM cards and connection headers."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        height = GROUP_ROW_H if index.data(Role.KIND) == "connection" else VM_ROW_H
        return QSize(max(option.rect.width(), 300), height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        try:
            style = option.widget.style() if option.widget else None
            if style is not None:
                # Selection and hover backgrounds from the style, nothing else.
                opt = QStyleOptionViewItem(option)
                self.initStyleOption(opt, index)
                opt.text = ""
                opt.icon = QIcon()
                style.drawPrimitive(
                    QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, option.widget
                )
            if index.data(Role.KIND) == "connection":
                count = index.model().rowCount(index)
                self._paint_group(painter, option, index.data(Role.CONNECTION), count)
            else:
                self._paint_vm(painter, option, index)
        finally:
            painter.restore()

    def _text_color(self, option: QStyleOptionViewItem) -> QColor:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        return option.palette.color(role)

    def _dim_color(self, option: QStyleOptionViewItem) -> QColor:
        color = QColor(self._text_color(option))
        color.setAlphaF(0.65)
        return color

    def _paint_group(
        self, painter: QPainter, option: QStyleOptionViewItem, conn: Connection, count: int
    ) -> None:
        r = option.rect.adjusted(6, 0, -8, 0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = QRect(r.left(), r.center().y() - 5, 10, 10)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(CONN_COLORS[conn.state]))
        painter.drawEllipse(dot)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(self._text_color(option))
        name_rect = r.adjusted(18, 0, 0, 0)
        label = conn.spec.label
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
        )
        used = QFontMetrics(bold).horizontalAdvance(label) + 12
        painter.setFont(option.font)
        painter.setPen(self._dim_color(option))
        detail = group_detail(conn, count)
        metrics = QFontMetrics(option.font)
        detail = metrics.elidedText(
            detail, Qt.TextElideMode.ElideRight, max(0, name_rect.width() - used)
        )
        painter.drawText(
            name_rect.adjusted(used, 0, 0, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            detail,
        )

    def _paint_vm(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        vm: VMInfo = index.data(Role.VM)
        r = option.rect.adjusted(8, 8, -10, -8)
        thumb_rect = QRect(r.left(), r.top(), THUMB_W, THUMB_H)
        self._paint_thumbnail(painter, thumb_rect, vm, index.data(Role.THUMBNAIL))

        text_left = thumb_rect.right() + 14
        spark_rect = sparkline_rect(option.rect)
        text_rect = QRect(
            text_left, r.top(), max(0, spark_rect.left() - 16 - text_left), r.height()
        )

        bold = QFont(option.font)
        bold.setBold(True)
        bold.setPointSizeF(option.font.pointSizeF() * 1.1)
        painter.setFont(bold)
        painter.setPen(self._text_color(option))
        name = QFontMetrics(bold).elidedText(
            vm.display_name, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        line_h = QFontMetrics(bold).height()
        painter.drawText(
            QRect(text_rect.left(), text_rect.top() + 6, text_rect.width(), line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            name,
        )

        painter.setFont(option.font)
        painter.setPen(self._dim_color(option))
        small_h = QFontMetrics(option.font).height()
        os_line = vm_summary(vm)
        os_line = QFontMetrics(option.font).elidedText(
            os_line, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            QRect(text_rect.left(), text_rect.top() + 8 + line_h, text_rect.width(), small_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            os_line,
        )

        # State: a coloured dot and the word.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        y = text_rect.top() + 10 + line_h + small_h
        dot = QRect(text_rect.left(), y + small_h // 2 - 4, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATUS_COLORS[vm.status]))
        painter.drawEllipse(dot)
        painter.setPen(self._text_color(option))
        painter.drawText(
            QRect(text_rect.left() + 14, y, text_rect.width() - 14, small_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            vm.status.value,
        )

        history = index.data(Role.CPU_HISTORY)
        if history is not None:
            self._paint_sparkline(painter, spark_rect, history, option)

    def _paint_thumbnail(self, painter: QPainter, rect: QRect, vm: VMInfo, image) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 60), 1))
        if image is not None and not image.isNull():
            target = QRect(
                QPointF(0, 0).toPoint(),
                image.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio),
            )
            target.moveCenter(rect.center())
            painter.fillRect(rect, QColor("#111"))
            painter.drawImage(target, image)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            return
        color = QColor("#1d2733") if vm.status.active else QColor("#d9dde2")
        painter.setBrush(color)
        painter.drawRoundedRect(rect, 4, 4)
        glyph = icon("open")
        size = 28
        glyph.paint(
            painter, QRect(rect.center().x() - size // 2, rect.center().y() - size // 2, size, size)
        )

    def _paint_sparkline(self, painter: QPainter, rect: QRect, history, option) -> None:
        values = list(history)[-60:]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        bg = QColor(self._text_color(option))
        bg.setAlphaF(0.06)
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, 3, 3)
        inner = rect.adjusted(2, 3, -2, -3)
        path = sparkline_path(values, inner)
        area = sparkline_area(path, inner)
        fill = QColor("#2a6fb0")
        fill.setAlphaF(0.18)
        painter.fillPath(area, fill)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("#2a6fb0"), 1.5))
        painter.drawPath(path)
        known = [v for v in values if not math.isnan(v)]
        label = f"CPU {known[-1]:.0f}%" if known else "CPU"
        painter.setPen(self._dim_color(option))
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.8))
        painter.setFont(small)
        painter.drawText(
            rect.adjusted(0, -QFontMetrics(small).height() - 2, 0, 0),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            label,
        )


def vm_summary(vm: VMInfo) -> str:
    """The line under a VM's name: its OS when known, its vCPUs and memory."""
    memory = vm.memory_kib / 1024
    size = (
        f"{memory / 1024:.1f} GiB".replace(".0 GiB", " GiB")
        if memory >= 1024
        else f"{memory:.0f} MiB"
    )
    cpus = f"{vm.vcpus} vCPU" + ("s" if vm.vcpus != 1 else "")
    return " · ".join(p for p in (vm.os_name, cpus, size) if p)


def sparkline_area(path: QPainterPath, rect: QRect) -> QPainterPath:
    """The area under each unbroken run of the sparkline, down to the baseline."""
    area = QPainterPath()
    start = None
    last = None
    for i in range(path.elementCount()):
        e = path.elementAt(i)
        if e.isMoveTo():
            if start is not None and last is not None:
                area.lineTo(last.x(), rect.bottom())
                area.lineTo(start.x(), rect.bottom())
                area.closeSubpath()
            start = QPointF(e.x, e.y)
            area.moveTo(start)
        else:
            area.lineTo(e.x, e.y)
        last = QPointF(e.x, e.y)
    if start is not None and last is not None:
        area.lineTo(last.x(), rect.bottom())
        area.lineTo(start.x(), rect.bottom())
        area.closeSubpath()
    return area


def group_detail(conn: Connection, vm_count: int = -1) -> str:
    """The grey text beside a connection's name: its mode, accelerator or why it is down."""
    if conn.state is State.CONNECTED:
        accel = conn.accelerator.label if conn.accelerator else ""
        empty = "no VMs yet" if vm_count == 0 else ""
        return " · ".join(p for p in (conn.mode_text, accel, empty) if p)
    if conn.state is State.CONNECTING:
        return "Connecting…"
    return conn.reason or "Disconnected"


class EmptyState(QWidget):
    """What the list shows with no VM yet: a title, a sentence and a button for the New VM
    action (it follows the action's text, icon and enabled state)."""

    def __init__(self, action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.action = action
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.glyph = QLabel()
        self.glyph.setPixmap(icon("nido").pixmap(64, 64))
        self.glyph.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("No VMs yet")
        self.title.setObjectName("emptyTitle")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(
            "Create one from an operating system's install disc (an ISO file), or bring "
            "in a disk image you already have."
        )
        self.text.setObjectName("emptyText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton()
        self.button.setObjectName("emptyNewVM")
        self.button.clicked.connect(action.trigger)
        self.button.setDefault(True)
        layout.addWidget(self.glyph)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        action.changed.connect(self._follow_action)
        self._follow_action()

    def _follow_action(self) -> None:
        self.button.setText(self.action.text().replace("&", ""))
        self.button.setIcon(self.action.icon())
        self.button.setToolTip(self.action.toolTip())
        self.button.setEnabled(self.action.isEnabled())


class VMListView(QTreeView):
    """The tree of connections and VMs; every group starts expanded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vmList")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(False)
        self.setItemDelegate(VMDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAnimated(False)
        self.setIndentation(14)
        self.empty_state: EmptyState | None = None

    def set_empty_state(self, widget: EmptyState) -> None:
        """The widget shown in the space under the rows while `show_empty(True)`."""
        widget.setParent(self.viewport())
        widget.hide()
        self.empty_state = widget

    def show_empty(self, on: bool) -> None:
        if self.empty_state is None:
            return
        self.empty_state.setVisible(on)
        if on:
            self._place_empty_state()

    def _place_empty_state(self) -> None:
        """Centred in the space under the last row (the connection headers stay seen)."""
        widget = getattr(self, "empty_state", None)  # None too while the view is built
        if widget is None or not widget.isVisible():
            return
        area = self.viewport().rect()
        model = self.model()
        if model is not None and model.rowCount() > 0:
            last = model.index(model.rowCount() - 1, 0)
            area.setTop(self.visualRect(last).bottom() + 1)
        width = min(420, max(0, area.width() - 40))
        height = widget.heightForWidth(width)
        if height < 0:
            height = widget.sizeHint().height()
        widget.resize(width, height)
        top = area.top() + max(12, (area.height() - height) // 2)
        widget.move(area.left() + (area.width() - width) // 2, top)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_empty_state()

    def updateGeometries(self) -> None:
        super().updateGeometries()
        self._place_empty_state()

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        """A stats tick repaints only the sparklines, not whole rows with thumbnails."""
        if list(roles) != [Role.CPU_HISTORY] or not top_left.isValid():
            super().dataChanged(top_left, bottom_right, roles)
            return
        viewport = self.viewport()
        parent = top_left.parent()
        for row in range(top_left.row(), bottom_right.row() + 1):
            rect = self.visualRect(self.model().index(row, 0, parent))
            if rect.isValid() and rect.intersects(viewport.rect()):
                viewport.update(sparkline_rect(rect).adjusted(0, -20, 0, 0))

    def setModel(self, model) -> None:
        super().setModel(model)
        model.rowsInserted.connect(self._expand_new_groups)
        model.modelReset.connect(self.expandAll)
        self.expandAll()

    def _expand_new_groups(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            for row in range(first, last + 1):
                self.expand(self.model().index(row, 0))

    def visible_vm_keys(self) -> list[tuple[str, str]]:
        """Keys of VM rows currently scrolled into view (thumbnails are only for these)."""
        keys = []
        model = self.model()
        if model is None:
            return keys
        viewport = self.viewport().rect()
        index = self.indexAt(viewport.topLeft())
        while index.isValid():
            rect = self.visualRect(index)
            if rect.top() > viewport.bottom():
                break
            if index.data(Role.KIND) == "vm":
                keys.append(index.data(Role.KEY))
            index = self.indexBelow(index)
        return keys
