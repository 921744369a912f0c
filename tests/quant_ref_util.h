/* Shared helpers for the quantization tests: seeded data, and running the
 * independent numpy reference tests/tools/quant_ref.py through $PYTHON3
 * with raw binary files in a private temporary directory. */
#ifndef QSIM_TESTS_QUANT_REF_UTIL_H
#define QSIM_TESTS_QUANT_REF_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char qt_dir[64];

static uint64_t qt_state = 0x9e3779b97f4a7c15ull;
static inline void qt_seed(uint64_t s) { qt_state = s * 0x9e3779b97f4a7c15ull + 1; }
static inline uint64_t qt_next(void)
{
    uint64_t z = (qt_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline double qt_uniform(void) { return (double)(qt_next() >> 11) * 0x1.0p-53; }
static inline float qt_normal(void)
{
    double u = qt_uniform(), v = qt_uniform();
    if (u < 1e-300)
        u = 1e-300;
    return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* Creates the temp dir; 0 on failure. */
static inline int qt_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(qt_dir, sizeof qt_dir, "%s/qsimq-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    return mkdtemp(qt_dir) != NULL;
}
static inline void qt_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", qt_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", qt_dir);
}
static const char *qt_path(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/%s", qt_dir, name);
    return buf[k];
}

static inline int qt_write(const char *name, const void *p, size_t bytes)
{
    FILE *f = fopen(qt_path(name), "wb");
    if (!f)
        return 0;
    size_t w = fwrite(p, 1, bytes, f);
    return fclose(f) == 0 && w == bytes;
}
static inline int qt_read(const char *name, void *p, size_t bytes)
{
    FILE *f = fopen(qt_path(name), "rb");
    if (!f)
        return 0;
    size_t r = fread(p, 1, bytes, f);
    int extra = fgetc(f);
    fclose(f);
    return r == bytes && extra == EOF;
}

/* Runs quant_ref.py with the given arguments; file names are relative to
 * the temp dir (written as {name}); returns 1 on exit status 0. */
__attribute__((format(printf, 1, 2))) static inline int qt_ref(const char *fmt, ...)
{
    const char *py = getenv("PYTHON3"), *root = getenv("QSIM_SOURCE_ROOT");
    if (!py || !root) {
        fprintf(stderr, "PYTHON3 and QSIM_SOURCE_ROOT must be set\n");
        return 0;
    }
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && '%s' '%s/tests/tools/quant_ref.py' %s", qt_dir,
                     py, root, args);
    if (n <= 0 || (size_t)n >= sizeof cmd)
        return 0;
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "reference failed (%d): %s\n", rc, cmd);
    return rc == 0;
}

static inline uint32_t qt_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#endif
