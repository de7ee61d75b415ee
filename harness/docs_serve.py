"""``make docs-serve``: ``dbt docs serve`` for the site ``dbt_docs_generate`` wrote, on loopback only.

dbt loads the project and its profile even to serve static files, so it runs with the task env
(``HarnessSettings.task_env()``) like every step; host and port come from settings.
"""

from __future__ import annotations

import os
import sys

from customer360.tasks.local_process import local_step_env
from harness.settings import get_harness_settings


def main() -> int:
    settings = get_harness_settings()
    index = settings.dbt_project_dir / "target" / "index.html"
    if not index.exists():
        print(f"no docs site at {index}; run `make demo` first (its last task generates it)", file=sys.stderr)
        return 1
    print(f"dbt docs: http://{settings.airflow_host}:{settings.dbt_docs_port}  (Ctrl-C to stop)", flush=True)
    argv = ["dbt", "docs", "serve", "--host", settings.airflow_host, "--port", str(settings.dbt_docs_port)]
    env = local_step_env({"DBT_USE_COLORS": "false"})
    os.chdir(settings.dbt_project_dir)
    os.execvpe(argv[0], [*argv, "--no-browser"], env)  # dbt owns the terminal until Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
