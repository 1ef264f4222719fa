/* Ctrl-C and kill: SIGINT and SIGTERM delete every temporary file still
 * open (atomic_file.c) and end the program with status 128 + the signal's
 * number (130, 143), leaving no partial file. While an optimisation runs,
 * SIGINT instead asks it to stop, so that the image so far can be saved as
 * the result; a second SIGINT ends the program at once. */
#ifndef NST_INTERRUPT_H
#define NST_INTERRUPT_H

/* Installs the handlers; nst_interrupt_restore puts the previous ones
 * back. */
void nst_interrupt_install(void);
void nst_interrupt_restore(void);

/* on: SIGINT only asks to stop (nst_interrupt_requested); off: it exits. */
void nst_interrupt_defer(int on);

/* The signal that asked to stop, or 0. */
int nst_interrupt_requested(void);

#endif
