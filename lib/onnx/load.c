/* Reading model bytes and unpacking them with protobuf-c, defensively:
 * a bounded pre-scan refuses nesting deep enough to overflow protobuf-c's
 * recursive unpacker, and a byte budget in the allocator keeps a small
 * hostile buffer from expanding into gigabytes of message structs. */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

qsim_status qsim__onnx_read_file(const char *path, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return qsim__fail(QSIM_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qsim__fail(QSIM_ERR_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return qsim__fail(QSIM_ERR_IO, "not a regular file");
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > QSIM__MAX_MODEL_BYTES) {
        close(fd);
        return qsim__fail(QSIM_ERR_IO, "file size %lld exceeds the model size limit of %zu bytes",
                          (long long)st.st_size, QSIM__MAX_MODEL_BYTES);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = qsim__malloc(n);
    if (!buf) {
        close(fd);
        return qsim__oom();
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            close(fd);
            qsim__free(buf);
            return qsim__fail(QSIM_ERR_IO, "read failed: %s", e ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = n;
    return QSIM_OK;
}

/* ---- nesting pre-scan ---------------------------------------------------- */

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return 0;
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* 1 when the message nests no deeper than the limit (or is malformed in a
 * way protobuf-c will report itself), 0 when it is too deep. Recursion is
 * bounded by QSIM__MAX_PROTO_DEPTH. */
static int depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end,
                    int depth)
{
    if (depth > QSIM__MAX_PROTO_DEPTH)
        return 0;
    while (p < end) {
        uint64_t tag, v;
        if (!read_varint(&p, end, &tag))
            return 1; /* malformed: protobuf-c says so */
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return 1;
            break;
        case 1:
            if (end - p < 8)
                return 1;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return 1;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 1;
            const ProtobufCFieldDescriptor *f = NULL;
            if ((tag >> 3) <= UINT32_MAX)
                f = protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !depth_ok(f->descriptor, p, p + v, depth + 1))
                return 0;
            p += v;
            break;
        }
        default:
            return 1; /* groups and bad wire types: protobuf-c rejects them */
        }
    }
    return 1;
}

/* ---- budgeted allocator -------------------------------------------------- */

typedef struct budget {
    size_t used, limit;
    int over, oom;
} budget;

static void *budget_alloc(void *data, size_t size)
{
    budget *b = data;
    size_t total;
    if (!qsim__add_size(b->used, size, &total) || total > b->limit) {
        b->over = 1;
        return NULL;
    }
    void *p = qsim__malloc(size);
    if (!p) {
        b->oom = 1;
        return NULL;
    }
    b->used = total;
    return p;
}

static void plain_free(void *data, void *p)
{
    (void)data;
    qsim__free(p);
}

static void *no_alloc(void *data, size_t size)
{
    (void)data;
    (void)size;
    return NULL;
}

/* Frees what the budgeted allocator made (it used qsim__malloc). */
static ProtobufCAllocator release_allocator = {no_alloc, plain_free, NULL};

/* Legitimate models expand to about their own size (tensor bytes are
 * copied) plus small per-node structs; an empty sub-message of 2 bytes can
 * become a 200-byte struct, so the budget bounds that amplification. */
static size_t unpack_budget(size_t size)
{
    size_t b = (size_t)64 << 20, extra;
    if (!qsim__mul_size(size, 16, &extra) || !qsim__add_size(b, extra, &b))
        return SIZE_MAX;
    return b;
}

qsim_status qsim__onnx_unpack(const uint8_t *data, size_t size, Onnx__ModelProto **out)
{
    if (size == 0)
        return qsim__fail(QSIM_ERR_PARSE, "empty input: not an ONNX ModelProto");
    if (size > QSIM__MAX_MODEL_BYTES)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "model of %zu bytes exceeds the size limit of %zu",
                          size, QSIM__MAX_MODEL_BYTES);
    if (!depth_ok(&onnx__model_proto__descriptor, data, data + size, 0))
        return qsim__fail(QSIM_ERR_PARSE,
                          "cannot parse ONNX ModelProto: messages nest deeper than %d levels",
                          QSIM__MAX_PROTO_DEPTH);
    budget b = {0, unpack_budget(size), 0, 0};
    ProtobufCAllocator a = {budget_alloc, plain_free, &b};
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&a, size, data);
    if (!mp) {
        if (b.oom)
            return qsim__oom();
        if (b.over)
            return qsim__fail(QSIM_ERR_PARSE,
                              "cannot parse ONNX ModelProto: unpacking %zu bytes needs more than "
                              "%zu bytes of memory (corrupt or hostile input)",
                              size, b.limit);
        return qsim__fail(QSIM_ERR_PARSE, "cannot parse ONNX ModelProto (truncated or not ONNX)");
    }
    *out = mp;
    return QSIM_OK;
}

void qsim__onnx_proto_free(Onnx__ModelProto *p)
{
    if (p)
        onnx__model_proto__free_unpacked(p, &release_allocator);
}

void qsim__onnx_proto_release(void *p) { qsim__free(p); }
