#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* The temporary files that exist (or are being created), for a signal
 * handler to delete. A slot holds a pointer to an nst_atomic_file's tmp;
 * lock-free atomic pointers are safe to read in a handler on any thread. */
#define MAX_TEMPS 16
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2,
               "a signal handler can read the list only if it is lock-free");
static _Atomic(const char *) temps[MAX_TEMPS];

static int list_temp(const char *tmp)
{
    for (int i = 0; i < MAX_TEMPS; i++) {
        const char *none = NULL;
        if (atomic_compare_exchange_strong(&temps[i], &none, tmp))
            return i;
    }
    return -1;
}

void nst_atomic_remove_temps(void)
{
    for (int i = 0; i < MAX_TEMPS; i++) {
        const char *tmp = atomic_load(&temps[i]);
        if (tmp)
            unlink(tmp);
    }
}

/* "dir/.NAME.XXXXXX" for "dir/NAME", with NAME cut to fit NAME_MAX. */
static int temp_name(const char *path, char *tmp, size_t size)
{
    const char *slash = strrchr(path, '/');
    const int dir_len = slash ? (int)(slash - path) + 1 : 0;
    const char *name = path + dir_len;
    if (!*name)
        return nst_fail("%s: not a file name", path);
    if (strlen(name) > NAME_MAX)
        return nst_fail("%s: file name longer than %d bytes", path, NAME_MAX);
    const int keep = (int)strnlen(name, NAME_MAX - 8); /* "." ".XXXXXX" */
    if (snprintf(tmp, size, "%.*s.%.*s.XXXXXX", dir_len, path, keep, name) >=
        (int)size)
        return nst_fail("%s: path too long", path);
    return 0;
}

/* The permission bits the written file gets: the target's if it exists,
 * else what a new file gets under the umask. */
static mode_t target_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 07777;
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

int nst_atomic_open(nst_atomic_file *a, const char *path)
{
    a->f = NULL;
    a->err = 0;
    a->path = path;
    if (temp_name(path, a->tmp, sizeof a->tmp) != 0)
        return -1;
    /* Listed before it exists: a handler then deletes either a name that
     * is not there yet or the finished file, never leaves it behind. */
    if ((a->slot = list_temp(a->tmp)) < 0)
        return nst_fail("%s: too many files open for writing", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        atomic_store(&temps[a->slot], NULL);
        return nst_fail("%s: cannot write: %s", path, strerror(e));
    }
    fchmod(fd, target_mode(path));
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        nst_atomic_abort(a);
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

/* Makes the rename in path's folder durable. Folders that cannot be synced
 * (EINVAL) are taken as they are. */
static int sync_folder(const nst_atomic_file *a)
{
    const char *slash = strrchr(a->tmp, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - a->tmp) + 1 : 1,
             slash ? a->tmp : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return errno;
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return e;
}

int nst_atomic_commit(nst_atomic_file *a)
{
    int e = a->err ? a->err : ferror(a->f) ? EIO : 0;
    if (fflush(a->f) != 0 && !e)
        e = errno;
    if (fsync(fileno(a->f)) != 0 && !e)
        e = errno;
    if (fclose(a->f) != 0 && !e)
        e = errno;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0)
        e = errno;
    if (e) {
        nst_atomic_abort(a);
        return nst_fail("%s: cannot write: %s", a->path, strerror(e));
    }
    atomic_store(&temps[a->slot], NULL);
    if ((e = sync_folder(a)) != 0)
        return nst_fail("%s: written, but its folder cannot be synced: %s",
                        a->path, strerror(e));
    return 0;
}

void nst_atomic_abort(nst_atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
    atomic_store(&temps[a->slot], NULL);
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
