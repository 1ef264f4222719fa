#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

int nst_atomic_open(nst_atomic_file *a, const char *path)
{
    a->f = NULL;
    a->err = 0;
    a->path = path;
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    const char *name = path + dir_len;
    if (!*name)
        return nst_fail("%s: not a file name", path);
    if (snprintf(a->tmp, sizeof a->tmp, "%.*s.%s.XXXXXX", dir_len, path,
                 name) >= (int)sizeof a->tmp)
        return nst_fail("%s: path too long", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        return nst_fail("%s: cannot write: %s", path, strerror(errno));
    /* mkstemp makes the file private; give it the usual mode. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        return nst_fail("%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

void nst_atomic_write(nst_atomic_file *a, const void *data, size_t n)
{
    errno = 0;
    if (fwrite(data, 1, n, a->f) != n && !a->err)
        a->err = errno ? errno : EIO;
}

int nst_atomic_commit(nst_atomic_file *a)
{
    int e = a->err ? a->err : ferror(a->f) ? EIO : 0;
    int failed = e != 0;
    if (fflush(a->f) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    if (fclose(a->f) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    a->f = NULL;
    if (!failed && rename(a->tmp, a->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(a->tmp);
        return nst_fail("%s: cannot write: %s", a->path, strerror(e));
    }
    return 0;
}

void nst_atomic_abort(nst_atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}

int nst_atomic_probe(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return nst_fail("%s: is a folder, not a file name", path);
    nst_atomic_file a;
    if (nst_atomic_open(&a, path) != 0)
        return -1;
    nst_atomic_abort(&a);
    return 0;
}
