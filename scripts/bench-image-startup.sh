#!/usr/bin/env bash
# Print how long each image takes to start its typical command under a pod's restrictions
# (read-only root, tmpfs /tmp, non-root), median of N runs. Compares image tags, e.g. images built
# with and without .pyc files:
#
#   scripts/bench-image-startup.sh 0.1.0 0.1.0-nopyc        (N=5 by default; env N=...)
#
# Figures only, no pass/fail: used for the bytecode trade-off in docs/images.md.
set -euo pipefail

N="${N:-5}"
TAGS=("$@")
[[ ${#TAGS[@]} -gt 0 ]] || TAGS=(0.1.0)
# dbt parse with the connection fields baked at build time = a dbt pod's start without the query.
DBT_ENV=(-e C360_PG_HOST=customer360-warehouse -e C360_PG_PORT=5432 -e C360_PG_USER=c360_dbt
    -e C360_PG_DATABASE=warehouse -e C360_PG_PASSWORD=unused)

median_seconds() {
    local times=() start
    for _ in $(seq "$N"); do
        start=$(date +%s%N)
        docker run --rm --network none --read-only --tmpfs /tmp:rw,mode=1777 \
            --tmpfs /opt/airflow/logs:rw,mode=1777 "$@" >/dev/null 2>&1
        times+=($(($(date +%s%N) - start)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)] / 1e9}'
}

printf '| command | %s |\n' "$(IFS='|'; echo "${TAGS[*]/#/tag }" | sed 's/|/ | /g')"
printf '|---|%s\n' "$(printf -- '---:|%.0s' "${TAGS[@]}")"
for spec in "pipeline|c360-ingest --help" "pipeline|c360-datagen --help" "dbt|dbt parse" "airflow|airflow version" "airflow|airflow dags --help"; do
    image=${spec%%|*}
    cmd=${spec#*|}
    row="| \`$cmd\` ($image)"
    for tag in "${TAGS[@]}"; do
        extra=()
        [[ $image == dbt ]] && extra=("${DBT_ENV[@]}")
        # shellcheck disable=SC2086  # the command is split into argv on purpose
        row+=" | $(median_seconds "${extra[@]}" "customer360/$image:$tag" $cmd) s"
    done
    echo "$row |"
done
echo
echo "median of $N runs each, wall time of \`docker run --rm\` (container start included), $(nproc) cores"
