/* nido-cursor: shows a known pointer shape through the guest's DRM cursor plane, for the
 * display tests' cursor checks (VNC's Cursor pseudo-encoding, SPICE's cursor channel).
 *
 * Run by the test guest's /init when the machine has a virtio GPU (PCI 1af4:1050), whose
 * cursor plane QEMU hands to its display servers. It opens /dev/dri/card0 (becoming DRM
 * master, as the first opener), creates a 64x64 dumb buffer (virtio-gpu cursors are always
 * 64x64), fills it with CURSOR_PATTERN below, sets it on the first CRTC with its hotspot,
 * says "nido-cursor shown" on stdout and then holds the descriptor for ever: closing it
 * would let the fbdev emulation restore its own mode, which takes the cursor away.
 *
 * The pattern, in 32x32 quadrants: opaque red at the top left, opaque green at the top
 * right, opaque blue at the bottom left, fully transparent at the bottom right. Hotspot
 * (5, 7). tests/guest/linux.py describes the same shape for the tests to compare.
 *
 * No libdrm in the initramfs and no DRM headers on the build host: the few ioctl
 * structures are declared here, as <drm/drm_mode.h> of Linux 6.1 has them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIDE 64
#define HOT_X 5
#define HOT_Y 7

struct mode_card_res {
    uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
    uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
    uint32_t min_width, max_width, min_height, max_height;
};
struct mode_create_dumb {
    uint32_t height, width, bpp, flags, handle, pitch;
    uint64_t size;
};
struct mode_map_dumb {
    uint32_t handle, pad;
    uint64_t offset;
};
struct mode_cursor2 {
    uint32_t flags, crtc_id;
    int32_t x, y;
    uint32_t width, height, handle;
    int32_t hot_x, hot_y;
};

#define DRM_BASE 'd'
#define IOCTL_GETRESOURCES _IOWR(DRM_BASE, 0xA0, struct mode_card_res)
#define IOCTL_CREATE_DUMB _IOWR(DRM_BASE, 0xB2, struct mode_create_dumb)
#define IOCTL_MAP_DUMB _IOWR(DRM_BASE, 0xB3, struct mode_map_dumb)
#define IOCTL_CURSOR2 _IOWR(DRM_BASE, 0xBB, struct mode_cursor2)
#define CURSOR_BO 0x01
#define CURSOR_MOVE 0x02

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

int main(void) {
    int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return fail("open /dev/dri/card0");

    uint32_t crtcs[8];
    struct mode_card_res res = {0};
    if (ioctl(fd, IOCTL_GETRESOURCES, &res) < 0)
        return fail("GETRESOURCES");
    if (res.count_crtcs == 0)
        return fail("no CRTC");
    res = (struct mode_card_res){.crtc_id_ptr = (uintptr_t)crtcs, .count_crtcs = 1};
    if (ioctl(fd, IOCTL_GETRESOURCES, &res) < 0)
        return fail("GETRESOURCES (ids)");

    struct mode_create_dumb dumb = {.height = SIDE, .width = SIDE, .bpp = 32};
    if (ioctl(fd, IOCTL_CREATE_DUMB, &dumb) < 0)
        return fail("CREATE_DUMB");
    struct mode_map_dumb map = {.handle = dumb.handle};
    if (ioctl(fd, IOCTL_MAP_DUMB, &map) < 0)
        return fail("MAP_DUMB");
    uint8_t *pixels = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map.offset);
    if (pixels == MAP_FAILED)
        return fail("mmap");
    for (int y = 0; y < SIDE; y++) {
        uint32_t *row = (uint32_t *)(pixels + (size_t)y * dumb.pitch);
        for (int x = 0; x < SIDE; x++)
            row[x] = pattern(x, y);
    }

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
    for (;;)
        pause();
}
