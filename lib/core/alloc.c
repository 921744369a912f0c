#include "alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_MIN ((size_t)4 << 20)   /* buffers from this size get huge-page advice */

/* Fault injection for the out-of-memory tests; thread-local so tests that
 * use several threads are not disturbed. */
static _Thread_local size_t fail_after;  /* 0: never fail */
static _Thread_local size_t alloc_count;

size_t qsim__alloc_fail_after(size_t n)
{
    size_t made = alloc_count;
    fail_after = n;
    alloc_count = 0;
    return made;
}

static int should_fail(void)
{
    alloc_count++;
    return fail_after != 0 && alloc_count >= fail_after;
}

void *qsim__malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *qsim__calloc(size_t count, size_t size)
{
    size_t total;
    if (!qsim__mul_size(count, size, &total) || should_fail())
        return NULL;
    return calloc(total ? total : 1, 1);
}

void *qsim__realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *qsim__malloc_array(size_t count, size_t size)
{
    size_t total;
    if (!qsim__mul_size(count, size, &total))
        return NULL;
    return qsim__malloc(total);
}

void *qsim__realloc_array(void *p, size_t count, size_t size)
{
    size_t total;
    if (!qsim__mul_size(count, size, &total))
        return NULL;
    return qsim__realloc(p, total);
}

void *qsim__malloc_aligned(size_t n)
{
    void *p = NULL;
    if (n > SIZE_MAX - 64 || should_fail())
        return NULL;
    /* round up: aligned_alloc wants a multiple of the alignment */
    size_t rounded = (n + 63) & ~(size_t)63;
#ifdef MADV_HUGEPAGE
    if (rounded >= HUGE_MIN) {
        /* big buffers (the arena, packed weights, workspaces) on 2 MiB
         * pages where the system allows it (THP "madvise" mode): fewer TLB
         * misses in the kernels' strided walks; advice only */
        if (rounded > SIZE_MAX - HUGE_PAGE)
            return NULL;
        rounded = (rounded + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        if (posix_memalign(&p, HUGE_PAGE, rounded) != 0)
            return NULL;
        (void)madvise(p, rounded, MADV_HUGEPAGE);
        return p;
    }
#endif
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        return NULL;
    return p;
}

void qsim__free_aligned(void *p) { free(p); }

void qsim__free(void *p) { free(p); }

char *qsim__strndup(const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = qsim__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *qsim__strdup(const char *s) { return qsim__strndup(s, strlen(s)); }
