#!/bin/sh
# Installs the Debian 12 system packages that Nido needs to run and to be tested.
# Idempotent: packages already present are skipped, and apt-get runs only when something is
# missing. Works as root, or through sudo for a normal user.
#
# Usage: installers/debian-deps.sh [--runtime-only]
set -eu

RUNTIME="
qemu-system-x86 qemu-utils
libvirt-daemon-system libvirt-clients libvirt-dev pkg-config gcc
ovmf swtpm swtpm-tools
gir1.2-spiceclientglib-2.0 gir1.2-libosinfo-1.0 osinfo-db
gir1.2-gstreamer-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
libgirepository1.0-dev libcairo2-dev gobject-introspection python3-dev python3-venv
libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0
"

# What the tests use besides the runtime: a virtual screen, screenshots, the tools that
# build the cached test guests (kernel + busybox initramfs with a static test SPICE agent,
# GRUB rescue ISO), and a second real VNC server (TigerVNC's Xvnc, with a few X clients
# to draw on it).
TEST="
xvfb xdotool imagemagick xauth
xorriso mtools grub-pc-bin grub-common busybox-static cpio gzip dpkg-dev libc6-dev
tigervnc-standalone-server tigervnc-tools x11-apps x11-xserver-utils xterm virtinst
"

wanted=$RUNTIME
if [ "${1:-}" != "--runtime-only" ]; then
    wanted="$RUNTIME $TEST"
fi

missing=""
for pkg in $wanted; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $pkg"
done

# /dev/kvm normally belongs to group kvm with mode 0660 (Debian's udev rules set that).
# Machines without udev (containers, some CI sandboxes) leave it root-only; then libvirt's
# QEMU user cannot open it, libvirt decides its cached QEMU capabilities are stale, and
# re-probes QEMU (seconds) on every call that needs them. Apply udev's permissions.
fix_kvm_permissions() {
    [ -c /dev/kvm ] || return 0
    getent group kvm >/dev/null 2>&1 || return 0
    [ "$(stat -c %G:%a /dev/kvm)" = "kvm:660" ] && return 0
    [ "$(stat -c %a /dev/kvm)" = "666" ] && return 0
    echo "nido: giving /dev/kvm the permissions udev would (group kvm, mode 0660)"
    $as_root chgrp kvm /dev/kvm && $as_root chmod 0660 /dev/kvm
}

if [ -z "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root="sudo"; fi
    fix_kvm_permissions || true
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "nido: these Debian packages are missing:$missing" >&2
    echo "nido: run this script as root, or install sudo." >&2
    exit 1
fi

echo "nido: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -q
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fix_kvm_permissions || true
