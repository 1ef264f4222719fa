/* Resampling planar float images to another size: a separable Catmull-Rom
 * cubic, widened by the scale factor when shrinking so that detail finer
 * than the output's pixel spacing is filtered out rather than aliased.
 * docs/math.md derives the weights. */
#ifndef NST_RESAMPLE_H
#define NST_RESAMPLE_H

/* Resamples `channels` planes of in_w x in_h floats (plane c starts at
 * in + c*in_h*in_w, rows of in_w) to out_w x out_h planes in out, same
 * layout. Output pixel (x, y) is centred at ((x + 0.5) * in_w / out_w - 0.5,
 * (y + 0.5) * in_h / out_h - 0.5) in input pixels; the image is extended
 * past its borders by repeating the edge pixels. Values are filtered as
 * they are, never rounded or clamped: the cubic's negative lobes overshoot
 * a sharp edge by up to 2/27 of its height. An unchanged size copies the
 * values exactly. The result does not depend on the thread count.
 * -1 with a failure reason on bad sizes or out-of-memory; out is then
 * untouched. */
int nst_resample(const float *in, int in_w, int in_h, int channels,
                 float *out, int out_w, int out_h);

#endif
