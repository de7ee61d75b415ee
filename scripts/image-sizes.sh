#!/usr/bin/env bash
# Print the images' sizes as a Markdown table (from `docker image inspect`) and, with --update,
# write it into docs/images.md between the image-sizes markers.
#
#   scripts/image-sizes.sh [--update]
# Env: IMAGE_TAG (default 0.1.0), BASE_IMAGE (default the offline base, shown as the floor)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE_TAG="${IMAGE_TAG:-0.1.0}"
BASE_IMAGE="${BASE_IMAGE:-customer360/base:bookworm-python3.11}"
DOC=docs/images.md

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1000000 }'; }

table() {
    local base_bytes=0 ref bytes layers
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        base_bytes=$(docker image inspect --format '{{.Size}}' "$BASE_IMAGE")
    fi
    echo "| image | size (MB) | on top of the base (MB) | layers |"
    echo "|---|---:|---:|---:|"
    for ref in "$BASE_IMAGE" customer360/{pipeline,dbt,airflow}:"$IMAGE_TAG"; do
        if ! docker image inspect "$ref" >/dev/null 2>&1; then
            echo "| \`$ref\` | not built | | |"
            continue
        fi
        bytes=$(docker image inspect --format '{{.Size}}' "$ref")
        layers=$(docker image inspect --format '{{len .RootFS.Layers}}' "$ref")
        echo "| \`$ref\` | $(mb "$bytes") | $(mb $((bytes - base_bytes))) | $layers |"
    done
    echo
    echo "Measured $(date -u +%Y-%m-%d) with \`make image-sizes\` (docker $(docker info --format '{{.ServerVersion}}'), MB = 10^6 bytes)."
}

if [[ "${1:-}" == "--update" ]]; then
    body=$(table)
    python3 - "$DOC" "$body" <<'PY'
import re, sys
path, body = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- image-sizes:start -->", "<!-- image-sizes:end -->"
if start not in text or end not in text:
    sys.exit(f"{path}: markers {start} / {end} missing")
text = re.sub(re.escape(start) + ".*?" + re.escape(end), f"{start}\n{body}\n{end}", text, flags=re.S)
open(path, "w").write(text)
PY
    echo "updated $DOC"
fi
table
