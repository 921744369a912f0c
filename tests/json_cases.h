/* Helpers shared by the JSON tests: reading files and walking the
 * data-driven case directories tests/data/<kind>/{valid,invalid}/<case>/
 * (input.json plus "expected" or "error", jansson's test-suite layout). */
#ifndef QSIM_TESTS_JSON_CASES_H
#define QSIM_TESTS_JSON_CASES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whole file, NUL-terminated, malloc'd; NULL if unreadable. */
static char *tc_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Splits "line1\nline2\n" of an error file into its two lines in place. */
static void tc_split_error(char *text, const char **status, const char **substring)
{
    char *nl = strchr(text, '\n');
    *status = text;
    *substring = "";
    if (nl) {
        *nl = '\0';
        *substring = nl + 1;
        char *nl2 = strchr(nl + 1, '\n');
        if (nl2)
            *nl2 = '\0';
    }
}

typedef void (*tc_case_fn)(const char *case_dir, const char *case_name, void *user);

/* Calls fn for every case directory under $QSIM_SOURCE_ROOT/tests/data/<sub>;
 * returns the number of cases. */
static int tc_for_each_case(const char *sub, tc_case_fn fn, void *user)
{
    const char *root = getenv("QSIM_SOURCE_ROOT");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/%s", root ? root : ".", sub);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 0;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char cd[4096 + 256];
        snprintf(cd, sizeof cd, "%s/%s", dir, de->d_name);
        fn(cd, de->d_name, user);
        n++;
    }
    closedir(d);
    return n;
}

/* An invalid case's outcome against its "error" file (status name on the
 * first line, a message substring on the second); the message must also
 * name the input file. Fails the test otherwise. */
static void tc_expect_error(const char *dir, const char *name, const char *path, qsim_status st)
{
    char err_path[8192];
    snprintf(err_path, sizeof err_path, "%s/error", dir);
    char *err = tc_read_text(err_path);
    assert_non_null(err);
    const char *want_status, *want_msg;
    tc_split_error(err, &want_status, &want_msg);
    const char *msg = qsim_last_error();
    if (st == QSIM_OK)
        fail_msg("invalid/%s: accepted", name);
    if (strcmp(qsim_status_string(st), want_status) != 0)
        fail_msg("invalid/%s: status %s, want %s (%s)", name, qsim_status_string(st), want_status,
                 msg);
    if (!strstr(msg, want_msg))
        fail_msg("invalid/%s: message \"%s\" lacks \"%s\"", name, msg, want_msg);
    if (!strstr(msg, path)) /* every message names the file */
        fail_msg("invalid/%s: message \"%s\" does not name the file", name, msg);
    free(err);
}

#endif
