"""Nido: a desktop virtualization manager for home PCs (QEMU/KVM through libvirt, in Qt).

`app.core` holds everything that runs without Qt; `app.qt` is the QtCore glue; the widgets a
person sees live in the top-level `widgets` package.
"""

__version__ = "0.1.0"
APP_NAME = "Nido"
