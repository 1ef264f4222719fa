#include "workspace.h"

#include <stdlib.h>

float *nst_workspace_acquire(nst_workspace *w, size_t floats)
{
    pthread_mutex_lock(&w->lock);
    if (floats > w->floats) {
        /* aligned_alloc wants a multiple of the alignment. */
        const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        free(w->data);
        w->data = aligned_alloc(64, bytes);
        w->floats = w->data ? floats : 0;
    }
    if (!w->data)
        pthread_mutex_unlock(&w->lock);
    return w->data;
}

void nst_workspace_release(nst_workspace *w)
{
    pthread_mutex_unlock(&w->lock);
}
