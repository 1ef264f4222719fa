#!/bin/sh
# Colour fringing in the sky against --tv-weight: the default nst run
# (optimizer, pyramid, weights) on Tübingen and The Starry Night, once per
# weight, each result measured by bench/fringe over the clear sky of the
# content (see bench/fringe.c). Prints one row per weight: the fringing
# figures and the last row of the run's loss log (the unweighted losses),
# after a row for the content photo itself fitted to the same size.
#
# Usage: bench/fringe.sh [-s SIZE] [-t THREADS] [WEIGHT ...]
#   SIZE     --size of every run (default 512)
#   THREADS  --threads (default: nst's)
#   WEIGHT   the --tv-weight values (default 0.01 0.1 1 10 100)
# Environment: NST (the program, default ./nst), FRINGE (the helper,
# default bench/fringe), NST_SHARED (folder with images/, default ../shared
# beside the source tree), NST_WEIGHTS (passed on as --weights when set),
# BENCH_TMP (folder for the results and logs, default a new one under
# ${TMPDIR:-/tmp}; they are kept to be looked at).
set -eu

size=512
threads=
while getopts s:t: opt; do
    case $opt in
    s) size=$OPTARG ;;
    t) threads="--threads $OPTARG" ;;
    *) echo "usage: $0 [-s SIZE] [-t THREADS] [WEIGHT ...]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 0.01 0.1 1 10 100

here=$(cd "$(dirname "$0")/.." && pwd)
nst=${NST:-./nst}
fringe=${FRINGE:-bench/fringe}
. "$here/bench/images.sh"
tmp=${BENCH_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/nst-fringe.XXXXXX")}
mkdir -p "$tmp"
weights=
[ -z "${NST_WEIGHTS:-}" ] || weights="--weights $NST_WEIGHTS"

echo "nst --size $size, --tv-weight swept; results in $tmp; $(date -u)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
printf '%-10s %s\n' photo "$("$fringe" "$content" "$size")"
for g in "$@"; do
    # shellcheck disable=SC2086
    if ! "$nst" --quiet --content "$content" --style "$style" --size "$size" \
        $threads $weights --tv-weight "$g" --out "$tmp/tv_$g.png" \
        --log "$tmp/tv_$g.csv" 2>"$tmp/tv_$g.err"; then
        echo "fringe.sh: nst --tv-weight $g: failed:" >&2
        cat "$tmp/tv_$g.err" >&2
        exit 1
    fi
    printf '%-10s %s  %s\n' "$g" "$("$fringe" "$tmp/tv_$g.png")" \
        "$(awk -F, 'END { printf "total %s content %s style %s tv %s",
                          $2, $3, $4, $5 }' "$tmp/tv_$g.csv")"
done
