#include "input_list.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* dir + "/" + rel (dir may be empty: the root), or a copy of an absolute rel. */
static char *resolve(const char *dir, size_t dir_len, const char *rel, size_t rel_len)
{
    if (rel[0] == '/')
        return dup_range(rel, rel_len);
    if (dir_len > SIZE_MAX - rel_len - 2)
        return NULL;
    char *p = malloc(dir_len + rel_len + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, dir_len);
    p[dir_len] = '/';
    memcpy(p + dir_len + 1, rel, rel_len);
    p[dir_len + 1 + rel_len] = 0;
    return p;
}

static void free_sample(qex_input_sample *s)
{
    for (size_t i = 0; i < s->n_entries; i++) {
        free(s->entries[i].name);
        free(s->entries[i].path);
    }
    free(s->entries);
}

void qex_input_list_free(qex_input_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n_samples; i++)
        free_sample(&list->samples[i]);
    free(list->samples);
    memset(list, 0, sizeof *list);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits one line (no '\n') into entries of a new sample. */
static int parse_line(const char *list_path, size_t lineno, const char *line, size_t len,
                      const char *dir, size_t dir_len, qex_input_sample *s, qex_err *err)
{
    size_t cap = 0;
    memset(s, 0, sizeof *s);
    s->line = lineno;
    size_t i = 0;
    for (;;) {
        while (i < len && is_blank(line[i]))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && !is_blank(line[i]))
            i++;
        const char *tok = line + start;
        size_t tlen = i - start;
        if (memchr(tok, 0, tlen))
            return qex_fail(err, "%s:%zu: NUL byte in line", list_path, lineno);
        const char *sep = NULL;
        for (size_t k = 0; k + 1 < tlen; k++) {
            if (tok[k] == ':' && tok[k + 1] == '=') {
                sep = tok + k;
                break;
            }
        }
        if (s->n_entries == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            qex_input_entry *ne = realloc(s->entries, ncap * sizeof *ne);
            if (!ne)
                return qex_fail(err, "%s:%zu: out of memory", list_path, lineno);
            s->entries = ne;
            cap = ncap;
        }
        qex_input_entry *e = &s->entries[s->n_entries];
        e->name = e->path = NULL;
        const char *ptok = tok;
        size_t plen = tlen;
        if (sep) {
            size_t nlen = (size_t)(sep - tok);
            ptok = sep + 2;
            plen = tlen - nlen - 2;
            if (nlen == 0 || plen == 0) {
                return qex_fail(err, "%s:%zu: entry '%.*s' needs a name and a path around ':='",
                                list_path, lineno, (int)(tlen > 200 ? 200 : tlen), tok);
            }
            e->name = dup_range(tok, nlen);
            if (!e->name)
                return qex_fail(err, "%s:%zu: out of memory", list_path, lineno);
        }
        e->path = resolve(dir, dir_len, ptok, plen);
        s->n_entries++; /* counted now so free_sample releases name/path */
        if (!e->path)
            return qex_fail(err, "%s:%zu: out of memory", list_path, lineno);
        if ((e->name != NULL) != (s->entries[0].name != NULL))
            return qex_fail(err, "%s:%zu: line mixes named (name:=path) and positional entries",
                            list_path, lineno);
        struct stat st;
        if (stat(e->path, &st) != 0)
            return qex_fail(err, "%s:%zu: input file %s: %s", list_path, lineno, e->path,
                            strerror(errno));
        if (!S_ISREG(st.st_mode))
            return qex_fail(err, "%s:%zu: input file %s is not a regular file", list_path,
                            lineno, e->path);
    }
    return 0;
}

/* Named samples: unique names, and the same set as the first sample. */
static int check_names(const char *list_path, const qex_input_sample *first,
                       const qex_input_sample *s, qex_err *err)
{
    for (size_t i = 0; i < s->n_entries; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->entries[i].name, s->entries[j].name) == 0)
                return qex_fail(err, "%s:%zu: input '%s' given twice", list_path, s->line,
                                s->entries[i].name);
        if (first != s && !qex_input_sample_find(first, s->entries[i].name))
            return qex_fail(err, "%s:%zu: input '%s' is not among the names of line %zu",
                            list_path, s->line, s->entries[i].name, first->line);
    }
    return 0;
}

int qex_input_list_read(const char *path, qex_input_list *out, qex_err *err)
{
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (qex_read_file(path, QEX_INPUT_LIST_MAX_BYTES, &buf, &len, err) != 0)
        return -1;
    /* The list's folder: everything before the last '/', or "." without one. */
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? path : ".";
    size_t dir_len = slash ? (size_t)(slash - path) : 1;
    const char *text = (const char *)buf;
    size_t cap = 0, lineno = 0, pos = 0;
    qex_input_list l;
    memset(&l, 0, sizeof l);
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *line = text + pos;
        size_t llen = end - pos;
        pos = end + 1;
        lineno++;
        size_t k = 0;
        while (k < llen && is_blank(line[k]))
            k++;
        if (k == llen || line[k] == '#')
            continue;
        if (l.n_samples == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > SIZE_MAX / sizeof *l.samples)
                goto oom;
            qex_input_sample *ns = realloc(l.samples, ncap * sizeof *ns);
            if (!ns)
                goto oom;
            l.samples = ns;
            cap = ncap;
        }
        qex_input_sample *s = &l.samples[l.n_samples];
        int r = parse_line(path, lineno, line, llen, dir, dir_len, s, err);
        l.n_samples++;
        if (r != 0)
            goto fail;
        if (l.n_samples == 1) {
            l.n_inputs = s->n_entries;
            l.named = s->entries[0].name != NULL;
        } else if (s->n_entries != l.n_inputs) {
            qex_fail(err, "%s:%zu: %zu inputs, but line %zu has %zu", path, lineno,
                     s->n_entries, l.samples[0].line, l.n_inputs);
            goto fail;
        } else if ((s->entries[0].name != NULL) != l.named) {
            qex_fail(err, "%s:%zu: %s entries, but line %zu uses %s ones", path, lineno,
                     l.named ? "positional" : "named", l.samples[0].line,
                     l.named ? "named" : "positional");
            goto fail;
        }
        if (l.named && check_names(path, &l.samples[0], s, err) != 0)
            goto fail;
    }
    free(buf);
    if (l.n_samples == 0) {
        qex_input_list_free(&l);
        return qex_fail(err, "%s: no samples (only blank or comment lines)", path);
    }
    *out = l;
    return 0;
oom:
    qex_fail(err, "%s: out of memory", path);
fail:
    free(buf);
    qex_input_list_free(&l);
    return -1;
}

const char *qex_input_sample_find(const qex_input_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (s->entries[i].name && strcmp(s->entries[i].name, name) == 0)
            return s->entries[i].path;
    return NULL;
}

int qex_raw_read_f32(const char *path, size_t count, float *dst, qex_err *err)
{
    size_t want;
    if (qex_mul_size(count, sizeof(float), &want) != 0)
        return qex_fail(err, "%s: %zu floats is too many", path, count);
    unsigned char *buf;
    size_t len;
    if (qex_read_file(path, want, &buf, &len, err) != 0) {
        /* Name the expected size when the file is just too big. */
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > want)
            return qex_fail(err, "%s: %jd bytes, expected %zu float32 values (%zu bytes)",
                            path, (intmax_t)st.st_size, count, want);
        return -1;
    }
    if (len != want) {
        free(buf);
        return qex_fail(err, "%s: %zu bytes, expected %zu float32 values (%zu bytes)", path,
                        len, count, want);
    }
    for (size_t i = 0; i < count; i++) {
        const unsigned char *b = buf + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&dst[i], &u, 4);
    }
    free(buf);
    return 0;
}
