#include "input_file.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* O_NONBLOCK keeps open() from waiting for a FIFO's writer; fstat then
 * tells what was opened. For a regular file the flag changes nothing. */
int nst_input_open(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return nst_fail("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return nst_fail("%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nst_fail("%s: not a regular file (%s)", path,
                        S_ISDIR(st.st_mode)    ? "a folder"
                        : S_ISFIFO(st.st_mode) ? "a FIFO"
                                               : "a device or socket");
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

unsigned char *nst_input_read_all(const char *path, uint64_t max,
                                  size_t *size)
{
    uint64_t n;
    int fd = nst_input_open(path, &n);
    if (fd < 0)
        return NULL;
    unsigned char *buf = NULL;
    if (n > max) {
        nst_fail("%s: %llu bytes is larger than the %llu accepted", path,
                 (unsigned long long)n, (unsigned long long)max);
        goto out;
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        nst_fail("%s: out of memory for %llu bytes", path,
                 (unsigned long long)n);
        goto out;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, (size_t)n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            nst_fail("%s: %s", path,
                     r < 0 ? strerror(errno) : "file shrank while reading");
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)r;
    }
    buf[n] = 0;
    *size = (size_t)n;
out:
    close(fd);
    return buf;
}
