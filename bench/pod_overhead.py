"""Section 5 of bench_pipeline.py: what a pod per step costs, on paper, from figures measured elsewhere.

Nothing here starts a cluster (the benchmark machine has none). The inputs are:
- image sizes and container start times from docs/images.md (written by `make image-sizes` and
  `scripts/bench-image-startup.sh`, docker on this machine, pod restrictions applied);
- the fixed cost of each step in the local runtime, measured by the no-op rerun of the scale run
  (a step with nothing to do costs its process start, imports and, for dbt, the partial parse);
- the dbt project's node counts from the manifest of the scale run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Scheduling + sandbox + container create on a warm node, a typical figure (not measured here:
# no cluster on the benchmark machine); stated as an assumption in the report.
ASSUMED_SCHEDULE_S = 2.0
_SIZE_ROW = re.compile(r"^\| `customer360/(\w+):[^`]+` \| (\d+) \| (\d+) \|", re.M)
# e.g. "| `dbt parse` (baked parse reused) start | 5.5 s |" or "... | 2.0-3.3 s |" (a range: the upper end)
_START_ROW = re.compile(r"^\| `([^`]+)`[^|]*? start \| (?:[\d.]+-)?([\d.]+) s \|", re.M)


def images_doc_figures(images_md: Path) -> dict[str, Any]:
    """Image sizes (MB) and start times (s) as docs/images.md records them; empty if absent."""
    if not images_md.exists():
        return {"sizes_mb": {}, "start_s": {}}
    text = images_md.read_text()
    sizes = {
        name: {"size_mb": int(size), "above_base_mb": int(above)}
        for name, size, above in _SIZE_ROW.findall(text)
    }
    starts = {command: float(seconds) for command, seconds in _START_ROW.findall(text)}
    return {"sizes_mb": sizes, "start_s": starts}


def estimate(images_md: Path, scale: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Per-stage vs per-model pod costs for the DAG, from the figures above (`scale`: every size)."""
    doc = images_doc_figures(images_md)
    ingest_start = doc["start_s"].get("c360-ingest --help")
    dbt_start = doc["start_s"].get("dbt parse")
    result: dict[str, Any] = {"images": doc, "assumed_schedule_s": ASSUMED_SCHEDULE_S}
    if scale:
        # The shortest no-op time of each step over the sizes: closest to its pure start-up cost.
        names = [name for name in scale[0]["noop"]["steps"] if name != "load"]
        result["local_step_s"] = {name: min(size["noop"]["steps"][name] for size in scale) for name in names}
        nodes = scale[-1].get("dbt_nodes", {})
        result["dbt_nodes"] = nodes
        dbt_units = nodes.get("model", 0) + nodes.get("snapshot", 0)
        tests = nodes.get("test", 0) + nodes.get("unit_test", 0)
        if dbt_start is not None:
            pod = ASSUMED_SCHEDULE_S + dbt_start
            result["per_stage_dbt_pods"] = 5
            result["per_stage_overhead_s"] = 5 * pod
            result["per_model_pods"] = dbt_units
            result["per_model_overhead_s"] = dbt_units * pod
            result["per_model_and_test_pods"] = dbt_units + tests
            result["per_model_and_test_overhead_s"] = (dbt_units + tests) * pod
            result["dbt_pod_start_s"] = pod
        if ingest_start is not None:
            result["ingest_pod_start_s"] = ASSUMED_SCHEDULE_S + ingest_start
    return result
