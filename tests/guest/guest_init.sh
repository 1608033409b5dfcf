#!/bin/busybox sh
# /init of the Nido test guest (PID 1), a template filled in by tests/guest/linux.py.
# It must never exit: the kernel panics when PID 1 does.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/ PS1='nido-guest# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() {  # to the screen and to the serial log
    for t in /dev/tty0 /dev/ttyS0; do
        [ -c "$t" ] && printf '%b\n' "$*" > "$t" 2>/dev/null
    done
}

load() {  # the modules of a load-order file, but those already loaded by another one
    while read -r m; do
        [ -d "/sys/module/${m%.ko}" ] && continue
        insmod "/lib/modules/$m" || say "nido-guest: insmod $m failed"
    done < "$1"
}

has_pci() {  # has_pci VENDOR:DEVICE...: whether the machine has one of these PCI devices
    for dev in /sys/bus/pci/devices/*; do
        read -r vendor < "$dev/vendor" && read -r device < "$dev/device" || continue
        for want; do
            [ "$vendor:$device" = "$want" ] && return 0
        done
    done
    return 1
}

load /lib/modules/load-order
# A virtio GPU (PCI 1af4:1050): its driver, whose framebuffer then is the console, and the
# test pointer shape on its cursor plane (nido-drm says "nido-cursor shown" on the serial
# port, then holds the cursor for the guest's life and follows the preferred mode).
if has_pci 0x1af4:0x1050; then
    load /lib/modules/load-order-gpu
    /bin/nido-drm > /dev/ttyS0 2>&1 &
fi
# An ICH6 or ICH9 HD Audio controller (PCI 8086:2668, 8086:293e): its driver, then noise
# on it for ever (8 kHz, 8-bit mono: /dev/dsp's defaults), for the display's sound tests.
if has_pci 0x8086:0x2668 0x8086:0x293e; then
    load /lib/modules/load-order-audio
    (
        for _ in $(seq 50); do [ -c /dev/dsp ] && break; sleep 0.1; done
        if head -c 800 /dev/urandom > /dev/dsp; then
            say "@SOUND_MARKER@"
            while :; do head -c 8000 /dev/urandom; done > /dev/dsp
        else
            say "nido-guest: /dev/dsp does not play"
        fi
    ) 2>/dev/null &
fi
# A stock kernel booted through its real-mode setup with vga=0x392 has a VESA framebuffer
# already. One entered through PVH has none: bring up the bochs DRM driver for it.
[ -c /dev/fb0 ] || load /lib/modules/load-order-display

# A virtio tablet (PCI 1af4:1052) only when the machine has one: its driver, then each of
# its events on the serial port as "@POINTER_PREFIX@ type code value" (struct input_event:
# a 16-byte timeval, then u16 type, u16 code, s32 value; busybox's hexdump consumes no
# bytes for a unit with no conversion, so '16/1 "%0.0s"' skips the timeval). Builtins only
# on the way, so that a guest without a tablet pays next to nothing for the check.
if has_pci 0x1af4:0x1052; then
    load /lib/modules/load-order-tablet
    for ev in /sys/class/input/event*; do
        read -r name < "$ev/device/name" && [ "$name" = "QEMU Virtio Tablet" ] || continue
        hexdump -v -e '16/1 "%0.0s" "@POINTER_PREFIX@ " 1/2 "%u " 1/2 "%u " 1/4 "%d\n"' \
            "/dev/input/${ev##*/}" > /dev/ttyS0 2>/dev/null &
        tablet=${ev##*/}
    done
    [ -n "$tablet" ] || say "nido-guest: the virtio tablet has no event device"
fi

# A virtio-serial controller (PCI 1af4:1003, or 1af4:1043 modern only): its driver, and the
# test SPICE agent on the port named com.redhat.spice.0, reporting on the serial port. The
# ports appear a moment after the driver loads (the host announces them), so the search
# runs beside the rest of the boot.
if has_pci 0x1af4:0x1003 0x1af4:0x1043; then
    load /lib/modules/load-order-agent
    (
        for _ in $(seq 100); do
            for p in /sys/class/virtio-ports/*; do
                read -r name < "$p/name" 2>/dev/null && [ "$name" = com.redhat.spice.0 ] \
                    && [ -c "/dev/${p##*/}" ] || continue
                exec /bin/nido-agent "/dev/${p##*/}" > /dev/ttyS0 2>&1
            done
            sleep 0.1
        done
        say "@AGENT_PREFIX@ no port named com.redhat.spice.0"
    ) &
fi

# A qemu-xhci USB controller (PCI 1b36:000d): the USB, USB storage and CD-ROM drivers, then
# every USB device (root hubs aside) and SCSI disc that comes or goes, on the serial port as
# "@USB_PREFIX@ add|remove VVVV:PPPP SYSFS-NAME PRODUCT" and
# "@USB_PREFIX@ add|remove block NAME SECTORS". Polled twice a second with builtins (busybox
# runs no udev, and Debian's kernel has no uevent helper); only a guest with the
# controller pays for it.
if has_pci 0x1b36:0x000d; then
    load /lib/modules/load-order-usb
    (
        seen=""
        while :; do
            now=""
            for d in /sys/bus/usb/devices/* /sys/block/sr* /sys/block/sd*; do
                name=${d##*/}
                text=""
                if [ -f "$d/idVendor" ]; then
                    read -r v < "$d/idVendor" && read -r p < "$d/idProduct" || continue
                    [ "$v" = 1d6b ] && continue
                    key="$v:$p/$name"
                    [ -f "$d/product" ] && read -r text < "$d/product"
                elif [ -f "$d/size" ] && [ "${d%/*}" = /sys/block ]; then
                    key="block/$name"
                    read -r text < "$d/size"
                else
                    continue
                fi
                now="$now $key"
                case "$seen " in
                    *" $key "*) ;;
                    *) echo "@USB_PREFIX@ add ${key%%/*} $name $text" ;;
                esac
            done
            for key in $seen; do
                case "$now " in
                    *" $key "*) ;;
                    *) echo "@USB_PREFIX@ remove ${key%%/*} ${key#*/}" ;;
                esac
            done
            seen=$now
            sleep 0.5
        done
    ) > /dev/ttyS0 2>&1 &
fi

# Every module this guest needs is loaded now, and the kernel holds its own copy: the
# files go, which gives the guest back the memory they take in the initramfs (several MiB
# of a small guest's RAM).
rm -f /lib/modules/*.ko

# A steady picture: no blinking cursor, so an idle screen sends no display updates.
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null
printf '\033[2J\033[H' > /dev/tty0
fb=/sys/class/graphics/fb0
if [ -c /dev/fb0 ] && [ "$(cat $fb/virtual_size)" = "@WIDTH@,@HEIGHT@" ] \
        && [ "$(cat $fb/bits_per_pixel)" = @BPP@ ] && [ "$(cat $fb/stride)" = @STRIDE@ ]; then
    # Whole blocks of several rows: the DRM fbdev emulation of Linux 6.1 flushes nothing
    # for a write of exactly one full row.
    zcat /share/pattern.gz \
        | dd iflag=fullblock bs=@BLOCK@ seek=@SEEK_BLOCKS@ of=/dev/fb0 2>/dev/null
fi

banner=$(printf '    %-58s' "Nido test guest  --  Linux $(uname -r), busybox")
blank=$(printf '%62s' '')
say "\033[1;97;44m$blank\033[0m"
say "\033[1;97;44m$banner\033[0m"
say "\033[1;97;44m$blank\033[0m"
say "\033[1;93m    Press the ACPI power button (virsh shutdown) to power off.\033[0m"
say ""

# Open every power button before saying we are ready, so that a press right after the
# marker is buffered by evdev and never lost.
fd=3
buttons=""
for ev in /sys/class/input/event*; do
    [ "$(cat "$ev/device/name" 2>/dev/null)" = "Power Button" ] || continue
    eval "exec $fd</dev/input/${ev##*/}"
    buttons="$buttons $fd"
    fd=$((fd + 1))
done
[ -n "$buttons" ] || say "nido-guest: no ACPI power button found, shutdown will not work"

for fd in $buttons; do
    (
        eval "dd bs=24 count=1 of=/dev/null <&$fd" 2>/dev/null
        say "\n@POWEROFF_MARKER@: power button pressed, powering off"
        poweroff -f
    ) &
done
for fd in $buttons; do eval "exec $fd<&-"; done

# An interactive shell on the VGA console, for keyboard tests.
(
    while :; do
        setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1'
        sleep 1
    done
) &

say "@READY_MARKER@"

# Sleeping costs one wake-up a day: an idle guest should cost QEMU next to nothing.
while :; do
    sleep 86400
done
