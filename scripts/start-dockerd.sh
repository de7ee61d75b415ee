#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io if dockerd is missing, then start
# dockerd in the background with settings that work in this project's build sandboxes.
#
#   scripts/start-dockerd.sh          (root; prints the pid file and log path; no-op if an engine answers)
#   kill "$(cat /tmp/c360-dockerd/dockerd.pid)"    to stop the one it started
#
# Why these flags: the sandboxes are VMs/containers without systemd and with a cgroup v1 hierarchy.
# overlay2 on ext4 works (falls back to vfs via DOCKERD_STORAGE_DRIVER=vfs where it does not).
# Builds and the smoke test use --network host, so no bridge, NAT or iptables rules are needed;
# --bridge=none --iptables=false keep dockerd from touching the host's firewall and routes.
set -euo pipefail

RUN_DIR="${DOCKERD_RUN_DIR:-/tmp/c360-dockerd}"
STORAGE_DRIVER="${DOCKERD_STORAGE_DRIVER:-overlay2}"

if docker info >/dev/null 2>&1; then
    echo "a Docker engine already answers: $(docker info --format '{{.ServerVersion}} ({{.Driver}})')"
    exit 0
fi
[[ $EUID -eq 0 ]] || { echo "error: starting dockerd needs root" >&2; exit 1; }
if ! command -v dockerd >/dev/null; then
    echo ">> installing docker.io from Debian"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io
fi

mkdir -p "$RUN_DIR"
echo ">> starting dockerd (storage $STORAGE_DRIVER, log $RUN_DIR/dockerd.log)"
nohup dockerd \
    --storage-driver="$STORAGE_DRIVER" \
    --bridge=none --iptables=false --ip6tables=false \
    --pidfile="$RUN_DIR/dockerd.pid" \
    >"$RUN_DIR/dockerd.log" 2>&1 &

for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
        echo "dockerd is up (pid $(cat "$RUN_DIR/dockerd.pid")): $(docker info --format '{{.ServerVersion}}')"
        exit 0
    fi
    sleep 1
done
echo "error: dockerd did not answer within 60 s; last log lines:" >&2
tail -n 20 "$RUN_DIR/dockerd.log" >&2
exit 1
