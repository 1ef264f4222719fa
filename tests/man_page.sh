#!/bin/sh
# The man page and `nst --help` name the same options: every --option in one
# appears in the other. Run by make check, which sets NST_BIN and NST_RUN.
set -u
man_page="${srcdir:-.}/nst.1"
tmp="${NST_TEST_TMP:-/tmp/nst-tests}/man_page"
rm -rf "$tmp" && mkdir -p "$tmp" || exit 99

# Every --option-name a text mentions, one per line, sorted and unique.
options() {
    grep -o -e '--[a-z][a-z-]*[a-z]' | sort -u
}

# shellcheck disable=SC2086 # NST_RUN is a command prefix, split on purpose
if ! ${NST_RUN:-} "$NST_BIN" --help >"$tmp/help"; then
    echo "FAIL: $NST_BIN --help failed"
    exit 1
fi
options <"$tmp/help" >"$tmp/help_options"
# In roff a hyphen is written \-.
sed 's/\\-/-/g' "$man_page" | options >"$tmp/man_options"

if [ "$(wc -l <"$tmp/help_options")" -lt 20 ]; then
    echo "FAIL: only $(wc -l <"$tmp/help_options") options found in --help"
    exit 1
fi
status=0
for o in $(comm -23 "$tmp/help_options" "$tmp/man_options"); do
    echo "FAIL: $o is in nst --help but not in $man_page"
    status=1
done
for o in $(comm -13 "$tmp/help_options" "$tmp/man_options"); do
    echo "FAIL: $o is in $man_page but not in nst --help"
    status=1
done
[ $status -eq 0 ] && echo "PASS: nst.1 and --help name the same $(wc -l <"$tmp/help_options") options"
exit $status
