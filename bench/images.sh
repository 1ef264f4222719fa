# Sourced by the benchmark scripts, with $here the source tree: sets
# $content and $style to Tübingen and The Starry Night under $NST_SHARED
# (default ../shared beside the source tree), or exits naming the missing
# file.
images=${NST_SHARED:-$here/../shared}/images
content=$images/content_tubingen.jpg
style=$images/style_starry_night.jpg
for f in "$content" "$style"; do
    [ -r "$f" ] || { echo "$(basename "$0"): $f: not found (set NST_SHARED)" >&2
                     exit 1; }
done
