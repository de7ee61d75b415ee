#!/usr/bin/env bash
# Build the project's images (build context = repo root) and print how long each took.
#
#   scripts/build-images.sh [pipeline|dbt|airflow ...]      (default: all three)
#
# Env:
#   IMAGE_TAG       tag of every image (default 0.1.0, docs/interfaces.md)
#   BASE_IMAGE      FROM of every image; unset = each Dockerfile's pinned public default
#                   (offline: customer360/base:bookworm-python3.11 from scripts/make-base-image.sh)
#   BUILD_NETWORK   docker build --network (default host: the default bridge may not reach PyPI)
#   EXTRA_CA_FILES  PEM files to trust while the builder stage downloads from PyPI
#                   (default: /usr/local/share/ca-certificates/*.crt, the host's extra CAs)
#   DOCKER_BUILD_ARGS  anything else for `docker build` (e.g. --build-arg COMPILE_BYTECODE=0)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE_TAG="${IMAGE_TAG:-0.1.0}"
BUILD_NETWORK="${BUILD_NETWORK:-host}"
IMAGES=("$@")
[[ ${#IMAGES[@]} -gt 0 ]] || IMAGES=(pipeline dbt airflow)

args=(--network "$BUILD_NETWORK")
[[ -n "${BASE_IMAGE:-}" ]] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
shopt -s nullglob
ca_files=(${EXTRA_CA_FILES:-/usr/local/share/ca-certificates/*.crt})
shopt -u nullglob
if [[ ${#ca_files[@]} -gt 0 ]]; then
    args+=(--build-arg "EXTRA_CA_CERTS=$(cat "${ca_files[@]}")")
fi
# shellcheck disable=SC2206  # word splitting of extra args is intended
args+=(${DOCKER_BUILD_ARGS:-})

for image in "${IMAGES[@]}"; do
    [[ -f "images/$image/Dockerfile" ]] || { echo "error: no images/$image/Dockerfile" >&2; exit 2; }
    ref="customer360/$image:$IMAGE_TAG"
    echo ">> building $ref (base: ${BASE_IMAGE:-Dockerfile default})"
    start=$(date +%s)
    docker build "${args[@]}" -f "images/$image/Dockerfile" -t "$ref" .
    echo ">> built $ref in $(($(date +%s) - start)) s"
done
