#!/bin/sh
# --shard I/N: two processes, started by GNU parallel, that share one output
# folder write exactly the tree one unsharded batch writes: every result,
# snapshot, pair.txt and log, byte for byte (the logs' last column, seconds
# of wall time, excepted: it differs between any two runs). Run by make
# check, which sets NST_BIN, NST_RUN and NST_SHARED.
set -u
tmp="${NST_TEST_TMP:-/tmp/nst-tests}/shard"
weights=$(ls "${NST_SHARED:-../shared}"/vgg/*.npz 2>/dev/null | head -n 1)
images="${NST_SHARED:-../shared}/images"
if ! command -v parallel >/dev/null 2>&1; then
    echo "SKIP: GNU parallel is not installed"
    exit 77
fi
if [ -z "$weights" ] || [ ! -f "$images/content_tubingen.jpg" ]; then
    echo "SKIP: the real weights and images are not found (set NST_SHARED)"
    exit 77
fi
rm -rf "$tmp" && mkdir -p "$tmp/data" || exit 99

# shellcheck disable=SC2086 # NST_RUN is a command prefix, split on purpose
nst() { ${NST_RUN:-} "$NST_BIN" --weights "$weights" --quiet "$@"; }

# A 4-pair batch of small images that nst itself makes from the shared ones
# (--iters 0 writes the content as loaded at --size).
side=40
[ "${NST_TEST_QUICK:-0}" = 1 ] && side=32
i=0
for c in content_tubingen content_golden_gate style_starry_night \
    style_the_scream; do
    nst --content "$images/$c.jpg" --style "$images/style_starry_night.jpg" \
        --iters 0 --size $((side + 8 * i)) --out "$tmp/data/$c.png" || exit 99
    i=$((i + 1))
done

args="--data $tmp/data --size $side --iters 3 --save-every 2 --log log.csv"
# shellcheck disable=SC2086 # args is a list of words
nst $args --out "$tmp/whole" || { echo "FAIL: the unsharded batch failed"; exit 1; }
export NST_BIN NST_RUN weights tmp args
# shellcheck disable=SC2016 # expanded by the shell that parallel starts
if ! parallel --will-cite --halt now,fail=1 \
    '${NST_RUN:-} "$NST_BIN" --weights "$weights" --quiet $args --out "$tmp/sharded" --shard {}/2' \
    ::: 0 1; then
    echo "FAIL: a shard failed"
    exit 1
fi

# The logs without their seconds column.
for tree in whole sharded; do
    for log in "$tmp/$tree"/gen_*/log.csv; do
        cut -d, -f1-5 "$log" >"$log.cut" && rm "$log" || exit 99
    done
done
if ! diff -r "$tmp/whole" "$tmp/sharded"; then
    echo "FAIL: 2 shards did not write the unsharded batch"
    exit 1
fi
# Each shard ran its own pairs only: shard 1 of 2 alone writes gen_1, gen_3.
# shellcheck disable=SC2086 # args is a list of words
nst $args --out "$tmp/one" --shard 1/2 || { echo "FAIL: shard 1/2 failed"; exit 1; }
made=$(cd "$tmp/one" && echo gen_*)
if [ "$made" != "gen_1 gen_3" ]; then
    echo "FAIL: --shard 1/2 wrote $made, not gen_1 gen_3"
    exit 1
fi
n=$(find "$tmp/whole" -type f | wc -l)
if [ "$n" -ne 16 ]; then
    echo "FAIL: $n files in the batch, not 4 pairs x (result, snapshot, pair.txt, log)"
    exit 1
fi
echo "PASS: 2 shards wrote the same $n files as the unsharded batch"
