#!/usr/bin/env bash
# Build a Python 3.11 base image with no container registry: debootstrap a minimal Debian bookworm
# from the apt mirror this machine already uses, add python3.11 + venv, strip docs/caches, and
# `docker import` the tree. The project's Dockerfiles then build FROM it via
#   --build-arg BASE_IMAGE=customer360/base:bookworm-python3.11
#
# Why debootstrap: the project's machines reach only the package registries (Debian, PyPI), no container registry (docs/images.md), so the public
# `python:3.11-slim-bookworm` cannot be pulled. Debian's python lives in /usr/bin (the public image's
# in /usr/local/bin); the Dockerfiles call `python3.11` from PATH so both bases work.
#
# Usage: scripts/make-base-image.sh [image-ref]       (needs root and a running dockerd; installs debootstrap)
# Env:   DEBIAN_MIRROR  (default: the first deb.debian.org-style URI in the apt sources)
#        SUITE          (default: bookworm)
set -euo pipefail

IMAGE="${1:-${C360_BASE_IMAGE:-customer360/base:bookworm-python3.11}}"
SUITE="${SUITE:-bookworm}"
# Packages on top of minbase: the interpreter, venv (ensurepip for the builder stage),
# CA certificates (pip/uv over HTTPS), tzdata (timestamps in Airflow/dbt). python3-distutils is
# named because debootstrap's resolver ignores virtual packages: python3.11-venv depends on the
# virtual `python3.11-distutils`, which only python3-distutils provides.
PACKAGES="python3.11,python3.11-venv,python3-distutils,ca-certificates,tzdata"

detect_mirror() {
    # The mirror apt already uses (deb822 `URIs:` or one-line `deb URI suite`), never a guessed one.
    local uri
    uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
    if [[ -z "$uri" ]]; then
        uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$3 ~ /^'"$SUITE"'$/ {print $2}' | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"

[[ $EUID -eq 0 ]] || { echo "error: debootstrap needs root" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    echo ">> installing debootstrap from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
fi
docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers (start dockerd first)" >&2; exit 1; }

ROOTFS=$(mktemp -d /tmp/c360-base-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

echo ">> debootstrap $SUITE from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR"

# Point the image's apt at the same mirror and suite (+ security) so later `apt-get` works offline too.
cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
EOF

# Keep it small: nothing here is needed at run time.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
    "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
find "$ROOTFS/usr/lib/python3.11" -depth -name __pycache__ -type d -exec rm -rf {} + 2>/dev/null || true
# The public image answers `python3`/`python`; so does this one.
ln -sf python3.11 "$ROOTFS/usr/bin/python"

echo ">> docker import as $IMAGE"
tar -C "$ROOTFS" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3.11"]' \
    --message "debootstrap $SUITE minbase + $PACKAGES from $MIRROR" \
    - "$IMAGE"

docker run --rm --network none "$IMAGE" python3.11 -c 'import sys, venv, ssl; print("base ok:", sys.version)'
docker image ls "$IMAGE"
