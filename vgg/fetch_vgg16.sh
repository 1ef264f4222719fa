#!/bin/sh
# Downloads the full VGG-16 weights, vgg16_weights.npz (528 MB; Davi
# Frossard's conversion of the authors' Caffe model), and keeps the file
# only if its SHA-256 matches. See vgg/README.md for the key layout.
#
#   vgg/fetch_vgg16.sh [DEST]
#
# DEST is a directory (the file is saved there as vgg16_weights.npz) or a
# file path; the default is the folder holding this script. The download
# goes to DEST.part, which a later run resumes, and is renamed to DEST once
# verified.
#
# Environment:
#   NST_VGG16_URL     download from here instead (a mirror of the same file)
#   NST_VGG16_SHA256  expect this SHA-256 instead (for a different file)
#
# Needs curl or wget, and sha256sum (or shasum). Uses the network: never
# run it from the test suite.

set -eu

default_url=https://www.cs.toronto.edu/~frossard/vgg16/vgg16_weights.npz
# The Git LFS record of the byte-identical copy in tensorlayer/pretrained-
# models (models/vgg16_weights.npz): sha256 and size 553436134, the size
# TensorLayer also checks when it downloads default_url.
default_sha256=0b1445ee85249139b7394a068291a161e2a5d0ae67a3a7bf12a6933f5741a8c8
default_size=553436134

url=${NST_VGG16_URL:-$default_url}
want=${NST_VGG16_SHA256:-$default_sha256}
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')

die() {
    printf 'fetch_vgg16.sh: %s\n' "$*" >&2
    exit 1
}

case ${1:-} in
-h | --help)
    sed -n '2,19s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
esac
[ $# -le 1 ] || die "usage: $0 [DEST]"

case $want in
*[!0-9a-f]*) die "NST_VGG16_SHA256 is not a hex SHA-256: $want" ;;
esac
[ ${#want} -eq 64 ] || die "NST_VGG16_SHA256 is not 64 hex digits: $want"

# The size is known only for the default file.
size=
[ "$want" = "$default_sha256" ] && size=$default_size

dest=${1:-$(dirname -- "$0")}
[ -d "$dest" ] && dest=${dest%/}/vgg16_weights.npz
part=$dest.part
[ -d "$(dirname -- "$dest")" ] || die "$(dirname -- "$dest"): no such directory"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 -- "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum found"
    fi
}

size_of() {
    wc -c <"$1" | tr -d ' '
}

if [ -e "$dest" ]; then
    got=$(sha256_of "$dest")
    [ "$got" = "$want" ] ||
        die "$dest exists but its SHA-256 is $got, not $want; move it away and run again"
    printf '%s: already present and verified\n' "$dest"
    exit 0
fi

# A finished or oversized partial download cannot be resumed: a range
# request past the end fails. Verify a complete one, drop an oversized one.
need_download=yes
if [ -n "$size" ] && [ -e "$part" ]; then
    have=$(size_of "$part")
    if [ "$have" -eq "$size" ]; then
        need_download=no
    elif [ "$have" -gt "$size" ]; then
        rm -f -- "$part"
    fi
fi

if [ $need_download = yes ]; then
    printf 'downloading %s\n       to %s\n' "$url" "$part"
    if command -v curl >/dev/null 2>&1; then
        curl --fail --location --retry 3 --continue-at - \
            --output "$part" -- "$url" ||
            die "curl failed; rerun to resume $part, or delete it to start over"
    elif command -v wget >/dev/null 2>&1; then
        wget --tries=3 --continue --output-document="$part" -- "$url" ||
            die "wget failed; rerun to resume $part, or delete it to start over"
    else
        die "neither curl nor wget found"
    fi
fi

# The transfer finished, so a wrong size means a wrong file.
if [ -n "$size" ]; then
    have=$(size_of "$part")
    if [ "$have" -ne "$size" ]; then
        rm -f -- "$part"
        die "$url gave $have bytes, expected $size; download deleted"
    fi
fi

got=$(sha256_of "$part")
if [ "$got" != "$want" ]; then
    rm -f -- "$part"
    die "SHA-256 mismatch for $url: got $got, expected $want; download deleted"
fi
mv -f -- "$part" "$dest"
printf '%s: SHA-256 verified (%s)\n' "$dest" "$got"
