#!/bin/sh
# Whole runs of the nst program, timed by the operating system:
#
# 1. Seconds to a finished picture at 512 px: how long `nst --optimizer
#    adam` (300 iterations, the article's method) and `nst --optimizer
#    lbfgs` take at that one size (--start-size 0) to reach the loss of
#    Adam's iterate 300, read from the `seconds` column of each run's loss
#    log (start-up and weight loading excluded; the whole process's wall
#    time is printed beside it); then the whole process time of the
#    default run (coarse to fine), which paints a different picture and
#    so has no loss target.
# 2. Seconds per iteration and peak RSS against size (one level each,
#    --start-size 0), untiled and tiled
#    (`--max-memory 2048`, and `--tile 512` tiles; the untiled rows then
#    pass the machine's memory as --max-memory), the per-iteration time
#    being the median of the differences of the log's `seconds` column.
#    The tiled rows are skipped, saying so, when this nst has no --tile or
#    --max-memory option.
#
# The configurations run alternately (A B A B ...), RUNS times each, and
# every figure is the median over the runs; peak RSS is the largest of the
# runs (/usr/bin/time -v: "Maximum resident set size").
#
# Usage: bench/whole.sh [-r RUNS] [-i ITERS] [-t THREADS] [-l SIZE] [SIZE ...]
#   RUNS     runs of each configuration (default 3)
#   -l SIZE  size of part 1 (default 512)
#   ITERS    iterations per size-sweep run (default 6; the first interval
#            is dropped as warm-up)
#   THREADS  --threads for every run (default 2)
#   SIZE     longest sides of the sweep (default 512 1024 2048 4096)
# Environment: NST (the program, default ./nst), NST_SHARED (folder with
# images/, default ../shared beside the source tree), NST_WEIGHTS (passed
# on as --weights when set), BENCH_TMP (scratch folder, default a new
# one under ${TMPDIR:-/tmp}), SKIP_TIME_TO_LOSS=1 (part 2 only).
set -eu

runs=3
loss_size=512
iters=6
threads=2
while getopts r:i:t:l: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    l) loss_size=$OPTARG ;;
    i) iters=$OPTARG ;;
    t) threads=$OPTARG ;;
    *) echo "usage: $0 [-r RUNS] [-i ITERS] [-t THREADS] [-l SIZE]" \
            "[SIZE ...]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 512 1024 2048 4096

here=$(cd "$(dirname "$0")/.." && pwd)
nst=${NST:-./nst}
. "$here/bench/images.sh"
[ -x /usr/bin/time ] || { echo "whole.sh: /usr/bin/time: not found" >&2
                          exit 1; }
tmp=${BENCH_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/nst-bench.XXXXXX")}
mkdir -p "$tmp"
weights=
[ -z "${NST_WEIGHTS:-}" ] || weights="--weights $NST_WEIGHTS"

has_option() {
    "$nst" --help 2>&1 | grep -q -- "$1"
}

# run NAME ARGS...: one nst run; leaves NAME.csv (the loss log) and NAME.rss
# (peak RSS in KiB) and NAME.wall (seconds) in $tmp. Fails loudly.
run() {
    name=$1
    shift
    # shellcheck disable=SC2086
    if ! /usr/bin/time -v -o "$tmp/$name.time" "$nst" --quiet \
        --content "$content" --style "$style" --threads "$threads" \
        $weights --out "$tmp/$name.png" --log "$tmp/$name.csv" "$@" \
        2>"$tmp/$name.err"; then
        echo "whole.sh: nst $*: failed:" >&2
        cat "$tmp/$name.err" >&2
        exit 1
    fi
    awk -F': ' '/Maximum resident set size/ { print $2 }' \
        "$tmp/$name.time" >"$tmp/$name.rss"
    awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, t, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + t[i]
        print s }' "$tmp/$name.time" >"$tmp/$name.wall"
}

# median of the numbers on stdin, one a line
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "-";
              else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# the log's seconds at the first row whose total is at most $2
seconds_to() {
    awk -F, -v target="$2" 'NR > 1 && $2 <= target { print $6; exit }' "$1"
}

# the median interval between rows of a log, the first interval dropped
per_iteration() {
    awk -F, 'NR > 2 { if (NR > 3) print $6 - prev; prev = $6 }' "$1" | median
}

echo "nst whole runs: $threads threads, $runs alternating runs each, $(date -u)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

if [ "${SKIP_TIME_TO_LOSS:-0}" != 1 ]; then
    echo
    echo "Seconds to Adam-300's loss at $loss_size px (log seconds; process" \
        "wall)"
    r=1
    while [ "$r" -le "$runs" ]; do
        run "adam$r" --size "$loss_size" --start-size 0 --optimizer adam \
            --iters 300
        run "lbfgs$r" --size "$loss_size" --start-size 0 --optimizer lbfgs \
            --iters 100
        run "default$r" --size "$loss_size"
        r=$((r + 1))
    done
    # Every Adam run is the same bytes, so any run's row 300 is the target.
    target=$(awk -F, 'END { print $2 }' "$tmp/adam1.csv")
    for opt in adam lbfgs; do
        r=1
        : >"$tmp/$opt.to" && : >"$tmp/$opt.walls"
        while [ "$r" -le "$runs" ]; do
            seconds_to "$tmp/$opt$r.csv" "$target" >>"$tmp/$opt.to"
            cat "$tmp/$opt$r.wall" >>"$tmp/$opt.walls"
            r=$((r + 1))
        done
        reached=$(median <"$tmp/$opt.to")
        printf '  %-6s target %s: %s s (process %s s)\n' "$opt" "$target" \
            "$reached" "$(median <"$tmp/$opt.walls")"
    done
    r=1
    : >"$tmp/default.walls"
    while [ "$r" -le "$runs" ]; do
        cat "$tmp/default$r.wall" >>"$tmp/default.walls"
        r=$((r + 1))
    done
    printf '  default (coarse to fine): final loss %s at %s px, process %s s\n' \
        "$(awk -F, 'END { print $2 }' "$tmp/default1.csv")" \
        "$(awk -F, 'END { print $7 }' "$tmp/default1.csv")" \
        "$(median <"$tmp/default.walls")"
fi

echo
echo "Seconds per iteration and peak RSS against size ($iters iterations a run)"
configs="untiled"
untiled=
if has_option --max-memory && has_option --tile; then
    configs="untiled max-memory-2048 tile-512"
    # Untiled whenever the whole machine holds the run.
    untiled="--max-memory $(awk '/^MemTotal/ { print int($2 / 1024) }' \
        /proc/meminfo)"
else
    echo "  (tiled rows skipped: this nst has no --tile / --max-memory)"
fi
for size in "$@"; do
    r=1
    while [ "$r" -le "$runs" ]; do
        for c in $configs; do
            case $c in
            untiled) extra=$untiled ;;
            max-memory-2048) extra="--max-memory 2048" ;;
            tile-512) extra="--tile 512" ;;
            esac
            # shellcheck disable=SC2086
            run "$c-$size-$r" --size "$size" --start-size 0 \
                --iters "$iters" $extra
        done
        r=$((r + 1))
    done
    for c in $configs; do
        r=1
        : >"$tmp/$c.it" && : >"$tmp/$c.rss"
        while [ "$r" -le "$runs" ]; do
            per_iteration "$tmp/$c-$size-$r.csv" >>"$tmp/$c.it"
            cat "$tmp/$c-$size-$r.rss" >>"$tmp/$c.rss"
            r=$((r + 1))
        done
        rss=$(sort -g "$tmp/$c.rss" | tail -n 1)
        printf '  %5d px  %-16s %8s s/iteration  peak RSS %7.1f MiB\n' \
            "$size" "$c" "$(median <"$tmp/$c.it")" "$(echo "$rss" |
            awk '{ print $1 / 1024 }')"
    done
done
[ -n "${BENCH_TMP:-}" ] || rm -rf "$tmp"
