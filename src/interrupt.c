#include "interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"

static volatile sig_atomic_t deferring, requested;
static struct sigaction old_int, old_term;

/* Async-signal-safe only: unlink, write, _exit. */
static void on_signal(int sig)
{
    if (sig == SIGINT && deferring && !requested) {
        requested = sig;
        return;
    }
    nst_atomic_remove_temps();
    static const char msg[] = "nst: stopped by a signal; unfinished files "
                              "removed\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
        /* nothing more to do on the way out */
    }
    _exit(128 + sig);
}

void nst_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a stop request must not fail a write */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    requested = 0;
    deferring = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void nst_interrupt_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

void nst_interrupt_defer(int on)
{
    deferring = on;
}

int nst_interrupt_requested(void)
{
    return requested;
}
