#include "strmap.h"

#include "alloc.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

struct entry {
    char *key;
    void *value;
    uint64_t hash;
};

struct qsim__strmap {
    struct entry *entries; /* insertion order */
    size_t count, cap;
    uint32_t *slots;       /* open addressing: entry index + 1, 0 = empty */
    size_t nslots;         /* power of two */
    uint64_t seed;
};

/* FNV-1a mixed with a per-map seed and a final avalanche. */
static uint64_t hash_str(const char *s, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint64_t new_seed(const void *addr)
{
    static _Thread_local uint64_t counter;
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)addr ^
                 (++counter * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 29);
}

qsim__strmap *qsim__strmap_create(void)
{
    qsim__strmap *m = qsim__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->seed = new_seed(m);
    return m;
}

void qsim__strmap_free(qsim__strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        qsim__free(m->entries[i].key);
    qsim__free(m->entries);
    qsim__free(m->slots);
    qsim__free(m);
}

static size_t find_slot(const qsim__strmap *m, const char *key, uint64_t h, int *found)
{
    size_t mask = m->nslots - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        uint32_t s = m->slots[i];
        if (s == 0) {
            *found = 0;
            return i;
        }
        const struct entry *e = &m->entries[s - 1];
        if (e->hash == h && strcmp(e->key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow_slots(qsim__strmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 16;
    uint32_t *slots = qsim__calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    qsim__free(m->slots);
    m->slots = slots;
    m->nslots = n;
    for (size_t k = 0; k < m->count; k++) {
        size_t i = (size_t)m->entries[k].hash & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    return 0;
}

static int put(qsim__strmap *m, const char *key, void *value, int replace)
{
    if (m->count >= UINT32_MAX - 1)
        return -1;
    /* keep the load factor below 1/2 */
    if ((m->count + 1) * 2 > m->nslots && grow_slots(m) != 0)
        return -1;
    uint64_t h = hash_str(key, m->seed);
    int found;
    size_t slot = find_slot(m, key, h, &found);
    if (found) {
        if (!replace)
            return 1;
        m->entries[m->slots[slot] - 1].value = value;
        return 0;
    }
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct entry *e = qsim__realloc_array(m->entries, cap, sizeof *e);
        if (!e)
            return -1;
        m->entries = e;
        m->cap = cap;
    }
    char *k = qsim__strdup(key);
    if (!k)
        return -1;
    m->entries[m->count] = (struct entry){k, value, h};
    m->slots[slot] = (uint32_t)(m->count + 1);
    m->count++;
    return 0;
}

int qsim__strmap_put(qsim__strmap *m, const char *key, void *value) { return put(m, key, value, 1); }

int qsim__strmap_put_new(qsim__strmap *m, const char *key, void *value) { return put(m, key, value, 0); }

void *qsim__strmap_get(const qsim__strmap *m, const char *key, int *found)
{
    int f = 0;
    void *v = NULL;
    if (m && m->nslots) {
        size_t slot = find_slot(m, key, hash_str(key, m->seed), &f);
        if (f)
            v = m->entries[m->slots[slot] - 1].value;
    }
    if (found)
        *found = f;
    return v;
}

size_t qsim__strmap_count(const qsim__strmap *m) { return m ? m->count : 0; }

const char *qsim__strmap_key_at(const qsim__strmap *m, size_t i)
{
    return i < m->count ? m->entries[i].key : NULL;
}

void *qsim__strmap_value_at(const qsim__strmap *m, size_t i)
{
    return i < m->count ? m->entries[i].value : NULL;
}
