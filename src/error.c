#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char reason[1024];

int nst_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return -1;
}

const char *nst_failure_reason(void)
{
    return reason;
}
