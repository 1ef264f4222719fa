/* Error reporting in the style of stb_image: a function that fails returns
 * NULL or -1 and leaves a one-line reason, naming the file and the problem,
 * for nst_failure_reason() to return. The reason is per thread. */
#ifndef NST_ERROR_H
#define NST_ERROR_H

#include <stddef.h>

#include "nst.h"

/* Sets the reason (printf-style) and returns -1, so callers can write
 * `return nst_fail("%s: truncated", path);`. The arguments may include
 * nst_failure_reason() itself, to add context to a callee's reason. */
int nst_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Moves this thread's reason, whole, into err (freeing the one err held;
 * err NULL: the reason is dropped), so a thread that ends after a failed
 * library call holds no memory. err->reason is then never NULL: without
 * memory for the message it is a fixed text nst_error_clear knows. */
void nst_failure_take(nst_error *err);

/* The last reason set on this thread ("" if none), whole however long it
 * is. Valid until the next nst_fail on this thread. */
const char *nst_failure_reason(void);

#endif
