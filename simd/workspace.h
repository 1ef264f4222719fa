/* A kernel's scratch buffer kept from call to call: grown when a call needs
 * more room, never freed on the hot path, and held by one call at a time
 * (calls from several threads at once run one after the other). */
#ifndef NST_WORKSPACE_H
#define NST_WORKSPACE_H

#include <pthread.h>
#include <stddef.h>

typedef struct nst_workspace {
    pthread_mutex_t lock;
    float *data; /* 64-byte aligned */
    size_t floats;
} nst_workspace;

#define NST_WORKSPACE_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, 0}

/* Locks w and returns room for at least `floats` floats; NULL, with w
 * unlocked again, if memory runs out. */
float *nst_workspace_acquire(nst_workspace *w, size_t floats);

/* Unlocks w; the buffer stays for the next call. */
void nst_workspace_release(nst_workspace *w);

#endif
