#!/bin/sh
# Build stage only: trust an extra CA if one is given, then install the pinned uv.
#
#   EXTRA_CA_CERTS="<PEM text>" builder-setup.sh UV_VERSION
#
# Why: where HTTPS to PyPI goes through a TLS-inspecting egress proxy (as on this project's build
# machines), pip and uv must trust the proxy's CA. It is passed as a build argument of the builder
# stage only (`make images` fills it from /usr/local/share/ca-certificates), so no final image
# carries it. Empty = trust the base image's CA store as is.
set -eu

uv_version="$1"

if [ -n "${EXTRA_CA_CERTS:-}" ]; then
    printf '%s\n' "$EXTRA_CA_CERTS" >/usr/local/share/ca-certificates/c360-build-extra.crt
    update-ca-certificates >/dev/null
fi

python3.11 -m venv /opt/uv
# PIP_CERT/SSL_CERT_FILE (set by the Dockerfile) point pip's and uv's TLS at the system store.
/opt/uv/bin/pip install --quiet --no-compile "uv==${uv_version}"
/opt/uv/bin/uv --version
