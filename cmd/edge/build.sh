#!/usr/bin/env bash
# Builds the Worker for wrangler (see wrangler.jsonc):
#
#   build/worker/  worker.mjs, runtime.mjs, wasm_exec.js (syumai/workers'
#                  glue, from its workers-assets-gen) and app.wasm (this
#                  directory's Go program, GOOS=js GOARCH=wasm)
#   build/site/    the site's files, uploaded as the Worker's static assets
#
#   build.sh                    runs `make site` first and copies ../../site
#   build.sh SITE_DIR [OUT_DIR]  copies SITE_DIR as it is, and builds into
#                                OUT_DIR instead of build (the test does)
#
# Only the files the site handler serves are copied: top-level files of the
# types it knows (site.Handler's list), no Go sources, no subdirectories.
set -euo pipefail
cd "$(dirname "$0")"
root=../..
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"

if [ $# -gt 0 ]; then
	site="$1"
else
	make -C "$root" --no-print-directory site
	site="$root/site"
fi
out="${2:-build}"
[ -f "$site/index.html" ] || { echo "build.sh: $site has no index.html" >&2; exit 1; }

rm -rf "$out"
go tool workers-assets-gen -mode=go -o "$out/worker"
GOOS=js GOARCH=wasm go build -trimpath -ldflags "-s -w -X main.buildTime=$(date +%s)" -o "$out/worker/app.wasm" .

mkdir -p "$out/site"
find "$site" -maxdepth 1 -type f ! -name '.*' \( -name '*.html' -o -name '*.js' -o -name '*.css' \
	-o -name '*.wasm' -o -name '*.json' -o -name '*.svg' -o -name '*.png' -o -name '*.ico' -o -name '*.txt' \) \
	-exec cp {} "$out/site/" \;
echo "build.sh: $out/worker/app.wasm $(wc -c < "$out/worker/app.wasm") bytes" \
	"($(gzip -9c "$out/worker/app.wasm" | wc -c) gzipped); $out/site: $(ls "$out/site" | wc -l) files, $(du -sh "$out/site" | cut -f1)"
