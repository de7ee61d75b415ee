"""``python -m harness.embedded_airflow up|down|status|airflow ...``: the embedded Airflow.

Thin: parse the command, call :mod:`harness.embedded_airflow.services`, print the result.
"""

from __future__ import annotations

import argparse
import sys

from harness.embedded_airflow import services
from harness.embedded_airflow.cli import run_airflow
from harness.settings import get_harness_settings
from harness.stack import stack
from harness.stack.errors import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.embedded_airflow")
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "airflow"],
        help="start, stop or show the services; `airflow ARGS...` runs the Airflow CLI with this config",
    )
    parser.add_argument("airflow_args", nargs=argparse.REMAINDER, help="arguments for `airflow`")
    args = parser.parse_args(argv)
    settings = get_harness_settings()
    if args.command == "airflow":
        return run_airflow(settings, args.airflow_args, on_line=print)
    if args.command == "up":
        try:
            stack.up(settings)
            started = services.start(settings)
        except (StackError, services.ServiceError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"started: {', '.join(started) or 'none (all running)'}")
        print(services.login_hint(settings))
        print("stop with: make ui-stop")
        return 0
    if args.command == "down":
        stopped = services.stop(settings)
        print(f"stopped: {', '.join(stopped) or 'none were running'}")
        return 0
    all_up = True
    for state in services.states(settings):
        all_up &= state.running
        print(f"  {state.name:<14} {'up, pid ' + str(state.pid) if state.running else 'DOWN'}")
    return 0 if all_up else 1


if __name__ == "__main__":
    sys.exit(main())
