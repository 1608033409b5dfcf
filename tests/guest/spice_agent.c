/*
 * A minimal SPICE guest agent for Nido's test guest, built static by tests/guest/linux.py.
 *
 * The real spice-vdagent needs an X session in the guest for its clipboard and its
 * resolution changes; the busybox test guest has neither. This one speaks the same agent
 * protocol on the same virtio port ("com.redhat.spice.0", through QEMU's spicevmc
 * chardev and the SPICE server to the client), and reports on its standard output (the
 * serial port) what the client asked for, so a test can check what reached the guest:
 *
 *   nido-agent ready
 *   nido-agent client-caps 0x...         the client announced its capabilities
 *   nido-agent monitors N WxH+X+Y ...    a monitor config (the resolution asked for)
 *   nido-agent host-grab                 the host copied text (the agent asks for it)
 *   nido-agent host-text HEX             the host's text, as hex of its UTF-8 bytes
 *   nido-agent host-request              the host asked for the guest's text
 *   nido-agent host-release              the host dropped its clipboard
 *   nido-agent file-start ID NAME SIZE   the host began sending a file (saved in /tmp)
 *   nido-agent file-done ID NAME SIZE FNV  all of it came; FNV: FNV-1a 32 of its bytes, hex
 *   nido-agent file-status ID RESULT     the host ended a transfer (1: cancelled, 2: error)
 *
 * Files whose name starts with "slow-" are taken at about 256 KiB/s (a pause after each
 * data message, as long as its size asks), so that a test can cancel one half-way.
 * Having received the host's text T, the agent copies "guest-got:" T in the guest (it
 * grabs the clipboard for UTF-8 text and answers the host's request with it), so one test
 * drives both directions.
 *
 * Wire format (little-endian, packed): every write to the port is a chunk, an 8-byte
 * header {port, size} then at most 2048 bytes; the chunks' payloads together are a stream
 * of messages, a 20-byte header {protocol = 1, type, opaque (8 bytes), size} then size
 * bytes. No CLIPBOARD_SELECTION capability is announced, so clipboard messages carry no
 * selection prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CLIENT_PORT = 1, PROTOCOL = 1, HEADER = 20, CHUNK_HEADER = 8, MAX_CHUNK = 2048 };
enum {
    MONITORS_CONFIG = 2,
    REPLY = 3,
    CLIPBOARD = 4,
    ANNOUNCE_CAPABILITIES = 6,
    CLIPBOARD_GRAB = 7,
    CLIPBOARD_REQUEST = 8,
    CLIPBOARD_RELEASE = 9,
    FILE_XFER_START = 10,
    FILE_XFER_STATUS = 11,
    FILE_XFER_DATA = 12,
};
enum { XFER_CAN_SEND_DATA = 0, XFER_CANCELLED = 1, XFER_ERROR = 2, XFER_SUCCESS = 3 };
enum { CAP_MONITORS_CONFIG = 1, CAP_REPLY = 2, CAP_CLIPBOARD_BY_DEMAND = 5 };
enum { UTF8_TEXT = 1, REPLY_SUCCESS = 0 };
enum { MAX_MESSAGE = 1 << 20, MAX_TEXT = 4096 };

static const char GOT[] = "guest-got:";

static int port;

/* The one file transfer at a time this agent takes. */
static struct {
    uint32_t id;
    int fd; /* -1: none */
    char name[128];
    uint64_t size, got;
    uint32_t fnv;
    int slow;
} xfer = {.fd = -1};
static unsigned char guest_text[sizeof GOT + MAX_TEXT];
static size_t guest_len;

static uint32_t get32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static void say(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("nido-agent ", stdout);
    vprintf(format, args);
    putchar('\n');
    fflush(stdout);
    va_end(args);
}

static void write_all_to(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t done = write(fd, p, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0) {
            say("write failed: %s", strerror(errno));
            exit(1);
        }
        p += done;
        n -= (size_t)done;
    }
}

static void write_all(const unsigned char *p, size_t n)
{
    write_all_to(port, p, n);
}

static void read_all(unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t done = read(port, p, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0 && errno == EAGAIN) { /* no host side yet */
            usleep(100000);
            continue;
        }
        if (done <= 0) {
            say("read failed: %s", done ? strerror(errno) : "end of file");
            exit(1);
        }
        p += done;
        n -= (size_t)done;
    }
}

/* One message, cut into chunks of at most MAX_CHUNK bytes. */
static void send_message(uint32_t type, const unsigned char *data, uint32_t size)
{
    static unsigned char message[HEADER + sizeof guest_text + 64];
    unsigned char chunk[CHUNK_HEADER + MAX_CHUNK];
    size_t total = HEADER + (size_t)size, at = 0;

    if (total > sizeof message)
        return;
    put32(message, PROTOCOL);
    put32(message + 4, type);
    memset(message + 8, 0, 8);
    put32(message + 16, size);
    memcpy(message + HEADER, data, size);
    while (at < total) {
        size_t n = total - at < MAX_CHUNK ? total - at : MAX_CHUNK;
        put32(chunk, CLIENT_PORT);
        put32(chunk + 4, (uint32_t)n);
        memcpy(chunk + CHUNK_HEADER, message + at, n);
        write_all(chunk, CHUNK_HEADER + n);
        at += n;
    }
}

static void send_u32s(uint32_t type, uint32_t a, uint32_t b, int count)
{
    unsigned char data[8];
    put32(data, a);
    put32(data + 4, b);
    send_message(type, data, (uint32_t)(4 * count));
}

static void announce(int request)
{
    send_u32s(ANNOUNCE_CAPABILITIES, (uint32_t)request,
              1u << CAP_MONITORS_CONFIG | 1u << CAP_REPLY | 1u << CAP_CLIPBOARD_BY_DEMAND, 2);
}

static void monitors(const unsigned char *data, uint32_t size)
{
    char text[512];
    size_t used;
    uint32_t count, i;

    if (size < 8)
        return;
    count = get32(data);
    used = (size_t)snprintf(text, sizeof text, "monitors %u", count);
    for (i = 0; i < count && 8 + 20 * (i + 1) <= size && used < sizeof text - 64; i++) {
        const unsigned char *m = data + 8 + 20 * i; /* height, width, depth, x, y */
        used += (size_t)snprintf(text + used, sizeof text - used, " %ux%u+%d+%d", get32(m + 4),
                                 get32(m), (int32_t)get32(m + 12), (int32_t)get32(m + 16));
    }
    say("%s", text);
    send_u32s(REPLY, MONITORS_CONFIG, REPLY_SUCCESS, 2);
}

static void host_text(const unsigned char *data, uint32_t size)
{
    char hex[2 * MAX_TEXT + 1];
    uint32_t i;

    if (size < 4 || get32(data) != UTF8_TEXT)
        return;
    data += 4;
    size -= 4;
    if (size > MAX_TEXT)
        size = MAX_TEXT;
    for (i = 0; i < size; i++)
        sprintf(hex + 2 * i, "%02x", data[i]);
    hex[2 * size] = 0;
    say("host-text %s", hex);
    memcpy(guest_text, GOT, sizeof GOT - 1);
    memcpy(guest_text + sizeof GOT - 1, data, size);
    guest_len = sizeof GOT - 1 + size;
    send_u32s(CLIPBOARD_GRAB, UTF8_TEXT, 0, 1); /* the guest copies */
}

/* "name=" or "size=" of the start message's key file, into out (NUL-terminated). */
static int key(const unsigned char *data, uint32_t size, const char *want, char *out, size_t room)
{
    size_t wlen = strlen(want), at = 0;

    while (at < size) {
        size_t end = at;
        while (end < size && data[end] != '\n')
            end++;
        if (end - at > wlen && memcmp(data + at, want, wlen) == 0) {
            size_t n = end - at - wlen < room - 1 ? end - at - wlen : room - 1;
            memcpy(out, data + at + wlen, n);
            out[n] = 0;
            return 1;
        }
        at = end + 1;
    }
    return 0;
}

static void file_start(const unsigned char *data, uint32_t size)
{
    char path[160], length[32];
    uint32_t id;

    if (size < 4)
        return;
    id = get32(data);
    if (xfer.fd >= 0 || !key(data + 4, size - 4, "name=", xfer.name, sizeof xfer.name)
        || !key(data + 4, size - 4, "size=", length, sizeof length) || strchr(xfer.name, '/')) {
        send_u32s(FILE_XFER_STATUS, id, XFER_ERROR, 2);
        return;
    }
    snprintf(path, sizeof path, "/tmp/%s", xfer.name);
    xfer.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (xfer.fd < 0) {
        send_u32s(FILE_XFER_STATUS, id, XFER_ERROR, 2);
        return;
    }
    xfer.id = id;
    xfer.size = strtoull(length, NULL, 10);
    xfer.got = 0;
    xfer.fnv = 2166136261u;
    xfer.slow = strncmp(xfer.name, "slow-", 5) == 0;
    say("file-start %u %s %llu", id, xfer.name, (unsigned long long)xfer.size);
    send_u32s(FILE_XFER_STATUS, id, XFER_CAN_SEND_DATA, 2);
}

static void file_end(void)
{
    close(xfer.fd);
    xfer.fd = -1;
}

static void file_data(const unsigned char *data, uint32_t size)
{
    uint64_t n;
    uint32_t i;

    if (size < 12 || xfer.fd < 0 || get32(data) != xfer.id)
        return;
    n = (uint64_t)get32(data + 4) | (uint64_t)get32(data + 8) << 32;
    if (n > size - 12 || xfer.got + n > xfer.size) {
        say("file-data out of bounds");
        file_end();
        send_u32s(FILE_XFER_STATUS, xfer.id, XFER_ERROR, 2);
        return;
    }
    write_all_to(xfer.fd, data + 12, (size_t)n);
    for (i = 0; i < n; i++)
        xfer.fnv = (xfer.fnv ^ data[12 + i]) * 16777619u;
    xfer.got += n;
    if (xfer.slow) /* 256 KiB/s, whatever the size of the messages */
        usleep((useconds_t)(n * 1000000 / (256 * 1024)));
    if (xfer.got == xfer.size) {
        file_end();
        say("file-done %u %s %llu %08x", xfer.id, xfer.name, (unsigned long long)xfer.size,
            xfer.fnv);
        send_u32s(FILE_XFER_STATUS, xfer.id, XFER_SUCCESS, 2);
    }
}

static void file_status(const unsigned char *data, uint32_t size)
{
    char path[160];

    if (size < 8)
        return;
    say("file-status %u %u", get32(data), get32(data + 4));
    if (xfer.fd >= 0 && get32(data) == xfer.id) {
        file_end();
        snprintf(path, sizeof path, "/tmp/%s", xfer.name);
        unlink(path); /* a transfer that did not finish leaves nothing behind */
    }
}

static void handle(uint32_t type, const unsigned char *data, uint32_t size)
{
    switch (type) {
    case ANNOUNCE_CAPABILITIES:
        say("client-caps 0x%x", size >= 8 ? get32(data + 4) : 0);
        if (size >= 4 && get32(data))
            announce(0);
        break;
    case MONITORS_CONFIG:
        monitors(data, size);
        break;
    case CLIPBOARD_GRAB:
        say("host-grab");
        send_u32s(CLIPBOARD_REQUEST, UTF8_TEXT, 0, 1);
        break;
    case CLIPBOARD:
        host_text(data, size);
        break;
    case CLIPBOARD_REQUEST: {
        unsigned char reply[4 + sizeof guest_text];
        say("host-request");
        put32(reply, UTF8_TEXT);
        memcpy(reply + 4, guest_text, guest_len);
        send_message(CLIPBOARD, reply, (uint32_t)(4 + guest_len));
        break;
    }
    case CLIPBOARD_RELEASE:
        say("host-release");
        break;
    case FILE_XFER_START:
        file_start(data, size);
        break;
    case FILE_XFER_DATA:
        file_data(data, size);
        break;
    case FILE_XFER_STATUS:
        file_status(data, size);
        break;
    default:
        say("message %u of %u bytes", type, size);
    }
}

int main(int argc, char **argv)
{
    static unsigned char stream[MAX_MESSAGE + MAX_CHUNK];
    unsigned char header[CHUNK_HEADER];
    size_t have = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s /dev/vportNpM\n", argv[0]);
        return 2;
    }
    port = open(argv[1], O_RDWR);
    if (port < 0) {
        say("cannot open %s: %s", argv[1], strerror(errno));
        return 1;
    }
    announce(1);
    say("ready");
    for (;;) {
        uint32_t size;
        read_all(header, CHUNK_HEADER);
        size = get32(header + 4);
        if (size > MAX_CHUNK || have + size > sizeof stream) {
            say("chunk of %u bytes refused", size);
            return 1;
        }
        read_all(stream + have, size);
        have += size;
        while (have >= HEADER && have >= HEADER + (size_t)get32(stream + 16)) {
            uint32_t length = get32(stream + 16);
            if (length > MAX_MESSAGE) {
                say("message of %u bytes refused", length);
                return 1;
            }
            handle(get32(stream + 4), stream + HEADER, length);
            memmove(stream, stream + HEADER + length, have - HEADER - length);
            have -= HEADER + length;
        }
    }
}
