/* The settings of a transfer, checked field by field for callers that
 * fill nst_options themselves (the command line checks each option as it
 * parses it, against the same limits, option_limits.h). */
#ifndef NST_OPTIONS_CHECK_H
#define NST_OPTIONS_CHECK_H

#include "nst.h"

/* 0 if o's transfer settings are valid for n_styles styles, else -1 with
 * a failure reason naming the field and its allowed values. The fields
 * naming files, the network's and the output's are not looked at. */
int nst_options_check(const nst_options *o, int n_styles);

#endif
