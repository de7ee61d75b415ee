#!/bin/sh
# Entrypoint of customer360/airflow: `docker run IMAGE scheduler` runs `airflow scheduler`, as in the
# upstream image, so a pod spec only lists the Airflow subcommand (api-server, scheduler,
# dag-processor, triggerer, db migrate, ...). A few programs run as given instead, for debugging
# and one-off jobs. An explicit list, not "anything on PATH": `users` is both an Airflow
# subcommand and a coreutils program.
set -eu

if [ "$#" -eq 0 ]; then
    exec airflow version
fi
case "$1" in
    airflow | python | python3 | python3.11 | bash | sh | c360-*)
        exec "$@"
        ;;
    *)
        exec airflow "$@"
        ;;
esac
