/* Atomic whole-file writes (see fileio.h). */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

static qsim_status write_all(int fd, const char *p, size_t n, const char *path)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return qsim__fail(QSIM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return QSIM_OK;
}

/* Makes the rename durable; failure here is not worth failing the write
 * for (some file systems refuse fsync on directories). */
static void sync_parent_dir(const char *tmpl)
{
    const char *slash = strrchr(tmpl, '/');
    char *dir = slash ? qsim__strndup(tmpl, slash == tmpl ? 1 : (size_t)(slash - tmpl))
                      : qsim__strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    qsim__free(dir);
}

qsim_status qsim__write_file_atomic(const char *path, const void *data, size_t size)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t plen = strlen(path), tlen;
    if (plen == 0)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "empty output path");
    if (!qsim__add_size(plen, sizeof suffix, &tlen))
        return qsim__oom();
    char *tmp = qsim__malloc(tlen);
    if (!tmp)
        return qsim__oom();
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);

    int fd = mkstemp(tmp);
    if (fd < 0) {
        qsim_status st = qsim__fail(QSIM_ERR_IO, "%s: cannot create temporary file: %s", path,
                                    strerror(errno));
        qsim__free(tmp);
        return st;
    }
    /* mkstemp creates 0600; an exported file should be readable like any
     * other output (umask is process-global, so it is not consulted). */
    (void)fchmod(fd, 0644);
    qsim_status st = write_all(fd, data, size, path);
    if (st == QSIM_OK && fsync(fd) != 0)
        st = qsim__fail(QSIM_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && st == QSIM_OK)
        st = qsim__fail(QSIM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (st == QSIM_OK && rename(tmp, path) != 0)
        st = qsim__fail(QSIM_ERR_IO, "%s: cannot rename temporary file into place: %s", path,
                        strerror(errno));
    if (st != QSIM_OK)
        (void)unlink(tmp);
    else
        sync_parent_dir(tmp);
    qsim__free(tmp);
    return st;
}
