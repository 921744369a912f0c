/* Shared helpers of the quantizer-layer tests: model paths, running the
 * Python references, small file utilities. Header-only (static). */
#ifndef QSIM_TESTS_QS_COMMON_H
#define QSIM_TESTS_QS_COMMON_H

#include <qsim/qsim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* argv[1]: the folder with qs_cnn.onnx, qs_misc.onnx; argv[2]: the one with
 * resnet18.onnx. */
static const char *qs_models_dir __attribute__((unused)) = ".";
static const char *qs_resnet_dir __attribute__((unused)) = ".";

static inline void qs_path(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static inline const char *qs_python(void)
{
    const char *p = getenv("PYTHON3");
    return p && *p ? p : "/usr/bin/python3";
}

static inline const char *qs_source_root(void)
{
    const char *p = getenv("QSIM_SOURCE_ROOT");
    return p && *p ? p : ".";
}

/* 1 under valgrind (its preload library is in LD_PRELOAD): full-size
 * resnet18 inference is skipped there, it would take many minutes. */
static inline int qs_under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

/* A scratch folder under QSIM_TEST_DATA (or /tmp), created. */
static inline void qs_scratch(char *buf, size_t size, const char *name)
{
    const char *base = getenv("QSIM_TEST_DATA");
    char cmd[1200];
    snprintf(buf, size, "%s/quantsim/%s", base && *base ? base : "/tmp/qsim-test", name);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", buf);
    if (system(cmd) != 0)
        fprintf(stderr, "# mkdir failed: %s\n", buf);
}

static inline int qs_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline char *qs_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    if (size)
        *size = (size_t)n;
    return buf;
}

#endif
