/* Overflow-checked size arithmetic and allocation.
 * All library allocations go through qsim__malloc & co. so tests can inject
 * failures (qsim__alloc_fail_after) and every size product is checked. */
#ifndef QSIM_CORE_ALLOC_H
#define QSIM_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* a*b and a+b into *out; return 0 on overflow (out untouched), 1 on success. */
static inline int qsim__mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return 0;
    *out = r;
    return 1;
}
static inline int qsim__add_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return 0;
    *out = r;
    return 1;
}
static inline int qsim__mul_i64(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return 0;
    *out = r;
    return 1;
}

void *qsim__malloc(size_t n);
void *qsim__calloc(size_t count, size_t size); /* checks count*size */
void *qsim__realloc(void *p, size_t n);
/* count*size bytes, NULL on overflow or failure. */
void *qsim__malloc_array(size_t count, size_t size);
void *qsim__realloc_array(void *p, size_t count, size_t size);
/* 64-byte aligned (cache line / AVX), release with qsim__free_aligned. */
void *qsim__malloc_aligned(size_t n);
void qsim__free_aligned(void *p);
void qsim__free(void *p);
char *qsim__strdup(const char *s);
char *qsim__strndup(const char *s, size_t n);

/* Test hook: the Nth allocation from now (1-based) and all later ones fail;
 * 0 disables. Returns how many allocations were made since the last call. */
size_t qsim__alloc_fail_after(size_t n);

#endif
