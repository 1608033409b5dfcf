/* nido-drm: the test guest's DRM client, for the display tests. It shows a known pointer
 * shape through the guest's DRM cursor plane (VNC's Cursor pseudo-encoding, SPICE's cursor
 * channel), then follows the monitor's preferred mode, as a desktop session would when the
 * console asks for a new guest resolution (VNC's SetDesktopSize, which QEMU hands to the
 * virtio GPU as a new preferred mode).
 *
 * Run by the test guest's /init when the machine has a virtio GPU (PCI 1af4:1050). It
 * opens /dev/dri/card0 (becoming DRM master, as the first opener), creates a 64x64 dumb
 * buffer (virtio-gpu cursors are always 64x64), fills it with the cursor pattern below,
 * sets it on the first CRTC with its hotspot and says "nido-cursor shown" on stdout. It
 * holds the descriptor for ever: closing it would let the fbdev emulation restore its own
 * mode, which takes the cursor away.
 *
 * The pattern, in 32x32 quadrants: opaque red at the top left, opaque green at the top
 * right, opaque blue at the bottom left, fully transparent at the bottom right. Hotspot
 * (5, 7). tests/guest/linux.py describes the same shape for the tests to compare.
 *
 * Mode following: it notes the connector's preferred mode at start and leaves the console
 * as the kernel set it. Whenever the preferred mode changes (woken by the kernel's hotplug
 * uevent, or at the latest a second later), it says "nido-mode preferred WxH", sets that
 * mode on the CRTC with a new framebuffer filled with FOLLOW_COLOUR, and says
 * "nido-mode set WxH" (or "nido-mode failed: ...").
 *
 * No libdrm in the initramfs and no DRM headers on the build host: the few ioctl
 * structures are declared here, as <drm/drm_mode.h> of Linux 6.1 has them.
 */
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define SIDE 64
#define HOT_X 5
#define HOT_Y 7
/* The new framebuffer's colour after a mode change (XRGB8888). */
#define FOLLOW_COLOUR 0xff2060a0u

struct mode_card_res {
    uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
    uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
    uint32_t min_width, max_width, min_height, max_height;
};
struct mode_info {
    uint32_t clock;
    uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
    uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
    uint32_t vrefresh, flags, type;
    char name[32];
};
struct mode_get_connector {
    uint64_t encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
    uint32_t count_modes, count_props, count_encoders;
    uint32_t encoder_id, connector_id, connector_type, connector_type_id;
    uint32_t connection, mm_width, mm_height, subpixel, pad;
};
struct mode_crtc {
    uint64_t set_connectors_ptr;
    uint32_t count_connectors, crtc_id, fb_id, x, y, gamma_size, mode_valid;
    struct mode_info mode;
};
struct mode_fb_cmd {
    uint32_t fb_id, width, height, pitch, bpp, depth, handle;
};
struct mode_fb_dirty {
    uint32_t fb_id, flags, color, num_clips;
    uint64_t clips_ptr;
};
struct mode_create_dumb {
    uint32_t height, width, bpp, flags, handle, pitch;
    uint64_t size;
};
struct mode_map_dumb {
    uint32_t handle, pad;
    uint64_t offset;
};
struct mode_destroy_dumb {
    uint32_t handle;
};
struct mode_cursor2 {
    uint32_t flags, crtc_id;
    int32_t x, y;
    uint32_t width, height, handle;
    int32_t hot_x, hot_y;
};

#define DRM_BASE 'd'
#define IOCTL_GETRESOURCES _IOWR(DRM_BASE, 0xA0, struct mode_card_res)
#define IOCTL_SETCRTC _IOWR(DRM_BASE, 0xA2, struct mode_crtc)
#define IOCTL_GETCONNECTOR _IOWR(DRM_BASE, 0xA7, struct mode_get_connector)
#define IOCTL_ADDFB _IOWR(DRM_BASE, 0xAE, struct mode_fb_cmd)
#define IOCTL_RMFB _IOWR(DRM_BASE, 0xAF, uint32_t)
#define IOCTL_DIRTYFB _IOWR(DRM_BASE, 0xB1, struct mode_fb_dirty)
#define IOCTL_CREATE_DUMB _IOWR(DRM_BASE, 0xB2, struct mode_create_dumb)
#define IOCTL_MAP_DUMB _IOWR(DRM_BASE, 0xB3, struct mode_map_dumb)
#define IOCTL_DESTROY_DUMB _IOWR(DRM_BASE, 0xB4, struct mode_destroy_dumb)
#define IOCTL_CURSOR2 _IOWR(DRM_BASE, 0xBB, struct mode_cursor2)
#define CURSOR_BO 0x01
#define CURSOR_MOVE 0x02
#define MODE_TYPE_PREFERRED (1 << 3)

static int fail(const char *what) {
    printf("nido-cursor failed: %s: %m\n", what);
    fflush(stdout);
    return 1;
}

/* One pixel of the pattern, as DRM's ARGB8888 (0xAARRGGBB in a little-endian word). */
static uint32_t pattern(int x, int y) {
    if (y < SIDE / 2)
        return x < SIDE / 2 ? 0xffff0000u : 0xff00ff00u;
    return x < SIDE / 2 ? 0xff0000ffu : 0x00000000u;
}

/* A dumb buffer of width x height, mapped; NULL on failure. */
static uint32_t *dumb_buffer(int fd, uint32_t width, uint32_t height, struct mode_create_dumb *d) {
    *d = (struct mode_create_dumb){.height = height, .width = width, .bpp = 32};
    if (ioctl(fd, IOCTL_CREATE_DUMB, d) < 0)
        return NULL;
    struct mode_map_dumb map = {.handle = d->handle};
    if (ioctl(fd, IOCTL_MAP_DUMB, &map) < 0)
        return NULL;
    void *p = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map.offset);
    return p == MAP_FAILED ? NULL : p;
}

/* The connector's preferred mode; 0 if it has none. The kernel copies the modes only into
 * an array that holds them all, and their number can grow between two calls: ask again
 * until it fits. */
static int preferred_mode(int fd, uint32_t connector, struct mode_info *out) {
    struct mode_info *modes = NULL;
    uint32_t room = 0;
    struct mode_get_connector c;
    for (;;) {
        c = (struct mode_get_connector){
            .connector_id = connector, .modes_ptr = (uintptr_t)modes, .count_modes = room};
        if (ioctl(fd, IOCTL_GETCONNECTOR, &c) < 0) {  /* count_modes 0: the kernel probes */
            free(modes);
            return 0;
        }
        if (c.count_modes <= room)
            break;
        room = c.count_modes;
        free(modes);
        modes = calloc(room, sizeof *modes);
        if (modes == NULL)
            return 0;
    }
    int found = 0;
    for (uint32_t i = 0; i < c.count_modes && !found; i++)
        if (modes[i].type & MODE_TYPE_PREFERRED) {
            *out = modes[i];
            found = 1;
        }
    free(modes);
    return found;
}

static uint32_t shown_fb;

/* Shows `mode` on `crtc` from a new framebuffer of FOLLOW_COLOUR; says what happened. The
 * dumb buffer's handle is let go once the framebuffer holds it, and the framebuffer shown
 * before is removed, so following many sizes holds one buffer at a time. */
static void set_mode(int fd, uint32_t crtc, uint32_t connector, const struct mode_info *mode) {
    struct mode_create_dumb d;
    uint32_t *px = dumb_buffer(fd, mode->hdisplay, mode->vdisplay, &d);
    if (px == NULL) {
        printf("nido-mode failed: dumb buffer: %m\n");
        if (d.handle)
            ioctl(fd, IOCTL_DESTROY_DUMB, &(struct mode_destroy_dumb){.handle = d.handle});
        return;
    }
    for (uint32_t y = 0; y < mode->vdisplay; y++)
        for (uint32_t x = 0; x < mode->hdisplay; x++)
            px[(size_t)y * (d.pitch / 4) + x] = FOLLOW_COLOUR;
    munmap(px, d.size);
    struct mode_fb_cmd fb = {.width = mode->hdisplay, .height = mode->vdisplay,
                             .pitch = d.pitch, .bpp = 32, .depth = 24, .handle = d.handle};
    int added = ioctl(fd, IOCTL_ADDFB, &fb);
    ioctl(fd, IOCTL_DESTROY_DUMB, &(struct mode_destroy_dumb){.handle = d.handle});
    if (added < 0) {
        printf("nido-mode failed: ADDFB: %m\n");
        return;
    }
    struct mode_crtc set = {.set_connectors_ptr = (uintptr_t)&connector, .count_connectors = 1,
                            .crtc_id = crtc, .fb_id = fb.fb_id, .mode_valid = 1, .mode = *mode};
    if (ioctl(fd, IOCTL_SETCRTC, &set) < 0) {
        printf("nido-mode failed: SETCRTC: %m\n");
        ioctl(fd, IOCTL_RMFB, &fb.fb_id);
        return;
    }
    struct mode_fb_dirty dirty = {.fb_id = fb.fb_id};  /* no clips: all of it */
    ioctl(fd, IOCTL_DIRTYFB, &dirty);
    if (shown_fb)
        ioctl(fd, IOCTL_RMFB, &shown_fb);
    shown_fb = fb.fb_id;
    printf("nido-mode set %ux%u\n", mode->hdisplay, mode->vdisplay);
}

/* The kernel's uevents (hotplug among them); -1 if they cannot be had. */
static int uevents(void) {
    int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1};
    if (s >= 0 && bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(s);
        return -1;
    }
    return s;
}

static void follow_modes(int fd, uint32_t crtc, uint32_t connector) {
    struct mode_info now, was = {0};
    preferred_mode(fd, connector, &was);
    struct pollfd p = {.fd = uevents(), .events = POLLIN};
    char buf[4096];
    for (;;) {
        if (poll(&p, p.fd >= 0, 1000) > 0)
            while (recv(p.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                ;
        if (!preferred_mode(fd, connector, &now))
            continue;
        if (now.hdisplay == was.hdisplay && now.vdisplay == was.vdisplay)
            continue;
        was = now;
        printf("nido-mode preferred %ux%u\n", now.hdisplay, now.vdisplay);
        set_mode(fd, crtc, connector, &now);
        fflush(stdout);
    }
}

int main(void) {
    int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return fail("open /dev/dri/card0");

    uint32_t crtcs[8], connectors[8];
    struct mode_card_res res = {0};
    if (ioctl(fd, IOCTL_GETRESOURCES, &res) < 0)
        return fail("GETRESOURCES");
    if (res.count_crtcs == 0 || res.count_connectors == 0)
        return fail("no CRTC or connector");
    res = (struct mode_card_res){.crtc_id_ptr = (uintptr_t)crtcs, .count_crtcs = 1,
                                 .connector_id_ptr = (uintptr_t)connectors,
                                 .count_connectors = 1};
    if (ioctl(fd, IOCTL_GETRESOURCES, &res) < 0)
        return fail("GETRESOURCES (ids)");

    struct mode_create_dumb dumb;
    uint32_t *pixels = dumb_buffer(fd, SIDE, SIDE, &dumb);
    if (pixels == NULL)
        return fail("cursor buffer");
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            pixels[(size_t)y * (dumb.pitch / 4) + x] = pattern(x, y);

    struct mode_cursor2 cursor = {
        .flags = CURSOR_BO,
        .crtc_id = crtcs[0],
        .width = SIDE,
        .height = SIDE,
        .handle = dumb.handle,
        .hot_x = HOT_X,
        .hot_y = HOT_Y,
    };
    if (ioctl(fd, IOCTL_CURSOR2, &cursor) < 0)
        return fail("CURSOR2");
    /* A position inside the screen: some display paths show no cursor left at (0, 0). */
    struct mode_cursor2 move = {.flags = CURSOR_MOVE, .crtc_id = crtcs[0], .x = 100, .y = 100};
    if (ioctl(fd, IOCTL_CURSOR2, &move) < 0)
        return fail("CURSOR2 move");
    printf("nido-cursor shown %dx%d hot %d,%d\n", SIDE, SIDE, HOT_X, HOT_Y);
    fflush(stdout);
    follow_modes(fd, crtcs[0], connectors[0]);
}
