#!/bin/sh
# Build stage helper shared by every image: create a virtualenv and install into it exactly the
# versions (and hashes) pinned in uv.lock, minus the dependency subtrees an image does not need.
#
#   install-from-lock.sh VENV_DIR [--prune PACKAGE ...]
#
# Why prune (a deny-list) rather than list what to keep: uv.lock has one resolution for the whole
# project, and `uv export --prune` drops a package together with every dependency only it needed,
# while still emitting hashes for what remains. A dependency added to pyproject later lands in every
# image (bigger, still working) instead of going missing in one (broken at run time).
set -eu

venv="$1"
shift

# The interpreter is whatever `python3.11` the base image has on PATH: /usr/local/bin in the public
# python:3.11-slim image, /usr/bin in the debootstrapped offline base. Never download one.
UV_PYTHON_DOWNLOADS=never uv venv --python python3.11 "$venv"
uv export --frozen --no-dev --no-emit-project --format requirements-txt "$@" -o /tmp/requirements.txt
echo "installing $(grep -c '^[a-zA-Z]' /tmp/requirements.txt) locked packages into $venv"
uv pip install --python "$venv/bin/python" --require-hashes --no-deps -r /tmp/requirements.txt
rm -f /tmp/requirements.txt
