#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char reason[1024];

/* Formatted aside first, so the old reason may be an argument (a caller
 * adding context: nst_fail("style image: %s", nst_failure_reason())). */
int nst_fail(const char *fmt, ...)
{
    char next[sizeof reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(next, sizeof next, fmt, ap);
    va_end(ap);
    memcpy(reason, next, sizeof reason);
    return -1;
}

const char *nst_failure_reason(void)
{
    return reason;
}
