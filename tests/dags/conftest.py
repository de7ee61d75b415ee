"""DAG tests parse the real files in `dags/`; Airflow must not write into the developer's ~/airflow.

AIRFLOW_HOME is pointed at a throwaway directory before anything imports Airflow in this session
(when another module imported it first, Airflow keeps its home; parsing works the same either way).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="c360-airflow-home-"))
