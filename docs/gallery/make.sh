#!/bin/sh
# Makes the pictures of docs/gallery.md, one nst run each: Tübingen in the
# style of The Starry Night (and The Scream where a control needs a second
# painting) at 256 pixels (384 to show a step up in size), with the flags
# every picture shares (2 threads, seed 0, JPEG quality 85). Each file must
# stay within 60 KB; the script stops at the first run that fails or
# writes a larger file.
#
# Usage: docs/gallery/make.sh [NAME ...]
#   NAME  only the pictures of these names (default: all), e.g. `default
#         pool-max`; init-file starts from default.jpg as it is in the
#         folder.
# Environment: NST (the program, default ./nst), NST_SHARED (folder with
# images/, default ../shared beside the source tree), NST_WEIGHTS (passed
# on as --weights when set). About ten minutes of two cores: run it
# under `nice -n 10`.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
gallery=$here/docs/gallery
nst=${NST:-./nst}
images=${NST_SHARED:-$here/../shared}/images
tubingen=$images/content_tubingen.jpg
starry=$images/style_starry_night.jpg
scream=$images/style_the_scream.jpg
for f in "$tubingen" "$starry" "$scream"; do
    [ -r "$f" ] || { echo "make.sh: $f: not found (set NST_SHARED)" >&2
                     exit 1; }
done
weights=
[ -z "${NST_WEIGHTS:-}" ] || weights="--weights $NST_WEIGHTS"
limit=61440 # bytes: 60 KB
only=" $* "
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nst-gallery.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# rows N VALUE: N rows of 64 grey pixels of VALUE, 0 or 255
rows() {
    dd if=/dev/zero bs=64 count="$1" 2>/dev/null |
        if [ "$2" = 255 ]; then tr '\0' '\377'; else cat; fi
}

# split_mask FILE TOP BOTTOM: a 64x48 grey TGA (4:3, as the photo), its top
# 20 rows (the sky above the roofs) TOP and the 28 below BOTTOM.
split_mask() {
    # Header: no id or colour map, type 3 (grey, uncompressed), origin 0,0,
    # 64x48 as little-endian 16-bit numbers, 8 bits a pixel, top row first.
    printf '\0\0\3\0\0\0\0\0\0\0\0\0\100\0\60\0\10\40' >"$1"
    rows 20 "$2" >>"$1"
    rows 28 "$3" >>"$1"
}
split_mask "$tmp/sky.tga" 255 0
split_mask "$tmp/town.tga" 0 255

# pic NAME SIZE ARGS...: docs/gallery/NAME.jpg, Tübingen at SIZE pixels
# with ARGS (the styles and the control shown).
pic() {
    name=$1
    size=$2
    shift 2
    [ "$only" = "  " ] || case $only in *" $name "*) ;; *) return 0 ;; esac
    echo "$name: --size $size $*"
    # shellcheck disable=SC2086 # the flags are words
    if ! "$nst" --quiet --threads 2 --seed 0 --quality 85 $weights \
        --content "$tubingen" --size "$size" --out "$gallery/$name.jpg" \
        "$@"; then
        echo "make.sh: $name: nst failed" >&2
        exit 1
    fi
    bytes=$(wc -c <"$gallery/$name.jpg")
    if [ "$bytes" -gt "$limit" ]; then
        echo "make.sh: $gallery/$name.jpg: $bytes bytes, more than" \
            "$limit" >&2
        exit 1
    fi
}

pic default 256 --style "$starry"
pic colors-luminance 256 --style "$starry" --preserve-colors luminance
pic colors-histogram 256 --style "$starry" --preserve-colors histogram
pic blend 256 --style "$starry" --style "$scream"
pic blend-3-1 256 --style "$starry" --style "$scream" --style-blend 3,1
pic mask 256 --style "$starry" --style "$scream" \
    --style-mask "$tmp/sky.tga" --style-mask "$tmp/town.tga"
pic init-noise 256 --style "$starry" --init noise
pic init-noise-1 256 --style "$starry" --init noise --init-noise-ratio 1
pic init-file 384 --style "$starry" --init "$gallery/default.jpg" \
    --start-size 0 --iters 20
pic style-layers-shallow 256 --style "$starry" \
    --style-layers relu1_1,relu1_2,relu2_1
pic style-layers-deep 256 --style "$starry" \
    --style-layers relu2_2:0.5,relu3_1,relu3_2,relu3_3
pic content-layers 256 --style "$starry" --content-layers relu1_2
pic tv-0 256 --style "$starry" --tv-weight 0
pic tv-10 256 --style "$starry" --tv-weight 10
pic style-scale-half 256 --style "$starry" --style-scale 0.5
pic style-scale-2 256 --style "$starry" --style-scale 2
pic start-128 256 --style "$starry" --start-size 128
pic adam 256 --style "$starry" --optimizer adam
pic pool-max 256 --style "$starry" --pool max
