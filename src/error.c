#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The reason is formatted into a fresh buffer of its exact size, then
 * replaces the old one: no length limit, and a message that embeds the
 * previous reason (nst_fail("...: %s", nst_failure_reason())) reads it
 * before it is freed. */
static _Thread_local char *reason;
static _Thread_local int reason_lost; /* no memory to format the last one */

/* The reason without memory to format one; what a caller's nst_error then
 * holds (not malloc'd: nst_error_clear leaves it). */
static char no_memory[] = "out of memory for the error message";

int nst_fail(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    free(reason);
    reason = s;
    reason_lost = !s;
    return -1;
}

const char *nst_failure_reason(void)
{
    return reason ? reason : reason_lost ? no_memory : "";
}

void nst_error_clear(nst_error *err)
{
    if (!err)
        return;
    if (err->reason != no_memory)
        free(err->reason);
    err->reason = NULL;
}

void nst_failure_take(nst_error *err)
{
    char *s = reason;
    if (!s && !reason_lost) /* a failure that set no reason */
        s = calloc(1, 1);
    reason = NULL;
    reason_lost = 0;
    if (!err) {
        free(s);
        return;
    }
    nst_error_clear(err);
    err->reason = s ? s : no_memory;
}
