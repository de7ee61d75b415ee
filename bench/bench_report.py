"""Turn bench_pipeline.py's results (one JSON document) into markdown tables and PNG plots.

Only the part of docs/benchmarks.md between the markers below is written; the prose around it is
kept, so the explanations stay by hand and the figures always come from a run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

START = "<!-- bench:generated:start -->"
END = "<!-- bench:generated:end -->"
SKELETON = f"# Benchmarks\n\nRerun with `make bench`.\n\n{START}\n{END}\n"

# Targets of issue 8 (the loader), checked against every run.
LOAD_VS_PSQL = 0.6
LOAD_VS_SEED = 50
RSS_FLAT = 1.5  # "flat": the largest object's peak RSS within 1.5x the smallest's
# Targets of issue 16 (a day costs what it brings): users -> the steady-state day's load + dbt as a
# fraction of the full build's; the no-op rerun's dbt seconds and the full build's dbt seconds at
# 1M users; the median fixed cost of a dbt step (its no-op rerun) at every size.
STEADY_DAY_MAX = {100_000: 0.25, 1_000_000: 0.15}
NOOP_DBT_MAX_S = {1_000_000: 20.0}
FULL_BUILD_DBT_MAX_S = {1_000_000: 90.0}
FIXED_COST_MAX_S = 3.0
DBT_STEPS = ("dbt_source_freshness", "dbt_build_staging", "dbt_snapshot", "dbt_build_marts")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def fixed_cost(size: dict[str, Any]) -> float:
    """Median over the dbt steps of their no-op rerun's wall seconds: what a step costs on an empty day."""
    return median([size["noop"]["steps"][name] for name in DBT_STEPS if name in size["noop"]["steps"]])


def marginal_cost(points: list[dict[str, Any]]) -> tuple[float, float] | None:
    """Least-squares line through (day rows, load + dbt seconds): (seconds per 1,000 rows, intercept)."""
    if len(points) < 2:
        return None
    xs = [p["rows"] for p in points]
    ys = [p["load_s"] + p["transform_s"] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope * 1000, mean_y - slope * mean_x


def _n(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _run_cells(
    meta: dict[str, Any], loadavg: list[float] | tuple[float, ...], date: str | None = None
) -> list[str]:
    """The machine, date (the section's own when it was measured by another run) and 1-min load."""
    return [meta["machine_short"], date or meta["date"], f"{loadavg[0]:.1f}"]


RUN_HEADER = ["machine", "date", "load avg"]


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each target the run measured."""
    out: list[tuple[str, str, bool | None]] = []
    load = results.get("load")
    if load:
        worst_psql = min(row["ratio_psql"] for row in load["sizes"])
        worst_seed = min(row["ratio_seed"] for row in load["sizes"])
        rss = [row["loader_peak_rss_mib"] for row in load["sizes"]]
        out.append(
            (
                f"loader >= {LOAD_VS_PSQL}x psql \\copy",
                f"{worst_psql:.2f}x (worst size)",
                worst_psql >= LOAD_VS_PSQL,
            )
        )
        out.append(
            (
                f"loader >= {LOAD_VS_SEED}x the seed's way",
                f"{worst_seed:,.0f}x (worst size)",
                worst_seed >= LOAD_VS_SEED,
            )
        )
        out.append(
            (
                "loader peak RSS flat across sizes",
                f"{min(rss):.0f}-{max(rss):.0f} MiB",
                max(rss) <= RSS_FLAT * min(rss),
            )
        )
    for size in results.get("scale", []):
        inc, users = size["incremental"], size["users"]
        if users in STEADY_DAY_MAX:
            limit = STEADY_DAY_MAX[users]
            out.append(
                (
                    f"steady-state day <= {limit:.0%} of the full build, load + dbt "
                    f"(day {inc.get('day', 1)}, {users:,} users)",
                    f"{inc['fraction_load_transform']:.1%} "
                    f"(load {inc['fraction_load']:.1%}, dbt {inc['fraction_transform']:.1%})",
                    inc["fraction_load_transform"] <= limit,
                )
            )
        if users in NOOP_DBT_MAX_S:
            limit = NOOP_DBT_MAX_S[users]
            seconds = size["noop"]["transform_s"]
            out.append(
                (f"no-op rerun, dbt <= {limit:.0f} s ({users:,} users)", f"{seconds:.1f} s", seconds <= limit)
            )
        if users in FULL_BUILD_DBT_MAX_S:
            limit = FULL_BUILD_DBT_MAX_S[users]
            seconds = size["full"]["transform_s"]
            out.append(
                (f"full build, dbt <= {limit:.0f} s ({users:,} users)", f"{seconds:.1f} s", seconds <= limit)
            )
        if "noop" in size and "steps" in size["noop"]:
            cost = fixed_cost(size)
            out.append(
                (
                    f"fixed cost of a dbt step <= {FIXED_COST_MAX_S:.0f} s, median of the no-op steps "
                    f"({users:,} users)",
                    f"{cost:.1f} s",
                    cost <= FIXED_COST_MAX_S,
                )
            )
    for size in results.get("scale", []):
        noop = size["noop"]
        out.append(
            (
                f"no-op rerun reloads and changes nothing ({size['users']:,} users)",
                f"{noop['load_events'].get('loaded', 0)} objects loaded, "
                f"{len(noop['changed'])} figures changed",
                noop["unchanged"],
            )
        )
    return out


def load_section(results: dict[str, Any], meta: dict[str, Any], png: str | None) -> list[str]:
    load = results["load"]
    seed = load["seed"]
    rows = []
    for row in load["sizes"]:
        rows.append(
            [
                f"{row['rows']:,}",
                _n(row["mib"]),
                _n(row["loader_rows_per_s"]),
                _n(row["loader_wall_rows_per_s"]),
                _n(row["loader_peak_rss_mib"], 1),
                _n(row["psql_rows_per_s"]),
                _n(row["psql_peak_rss_mib"], 1),
                f"{row['ratio_psql']:.2f}",
                f"{row['ratio_seed']:,.0f}",
                *_run_cells(meta, row["loadavg"], load.get("date")),
            ]
        )
    lines = [
        "### 1. Load: loader vs psql \\copy vs the seed's way",
        "",
        f"Orders objects (`bench/bench_load.py`'s writer); medians of {load['repeats']} loader runs, "
        "each followed by "
        "a `psql \\copy` of the same file from local disk into a plain table on the same server. "
        "Loader rows/s = rows / the object's own `_loads.seconds` (S3 read, parse, COPY, commit); "
        '"incl. start" adds the process start and S3 listing (the whole `c360-ingest` run).',
        "",
        *_table(
            [
                "rows",
                "MiB",
                "loader rows/s",
                "loader rows/s incl. start",
                "loader peak RSS MiB",
                "psql \\copy rows/s",
                "psql peak RSS MiB",
                "loader / psql",
                "loader / seed",
                *RUN_HEADER,
            ],
            rows,
        ),
        "",
        "The seed's way (Airflow `S3ToSqlOperator` = `DbApiHook.insert_rows`, `commit_every=1000`) "
        "measured once "
        f"on a {load['seed_rows']:,}-row slice: **{_n(seed['rows_per_s'])} rows/s**, peak RSS "
        f"{_n(seed['peak_rss_mib'])} MiB (the process holds the slice as a Python list; "
        "the operator holds the "
        "whole file, so its memory grows with the object). At that rate 5M rows would take "
        f"{5_000_000 / seed['rows_per_s'] / 60:,.0f} min, hence the slice; "
        "it is the rows/s reference for every size.",
        "",
    ]
    if png:
        lines += [f"![load rows/s and peak RSS]({png})", ""]
    return lines


def scale_section(results: dict[str, Any], meta: dict[str, Any], png: str | None) -> list[str]:
    rows, steps = [], []
    for size in results["scale"]:
        full = size["full"]
        per_source = ", ".join(f"{name} {count:,}" for name, count in full["rows_per_source"].items())
        rows.append(
            [
                f"{size['users']:,}",
                f"{full['rows']:,}",
                _n(full["generate_s"], 1),
                _n(full["load_s"], 1),
                _n(full["transform_s"], 1),
                _n(full["docs_s"], 1),
                _n(full["total_s"], 1),
                _n(full["generate_rows_per_s"]),
                _n(full["load_rows_per_s"]),
                _n(full["transform_rows_per_s"]),
                *_run_cells(meta, size["loadavg_start"], size.get("date")),
            ]
        )
        s = full["steps"]
        steps.append(
            [
                f"{size['users']:,}",
                per_source,
                *(
                    _n(s.get(name), 1)
                    for name in (
                        "ingest_users",
                        "ingest_orders",
                        "ingest_support_tickets",
                        "dbt_source_freshness",
                        "dbt_build_staging",
                        "dbt_snapshot",
                        "dbt_build_marts",
                    )
                ),
            ]
        )
    lines = [
        "### 2. Scale curve: the whole pipeline at growing user counts",
        "",
        "Day 0 of the generator (orders and tickets proportional to users), on a fresh embedded stack "
        "per size. Stages: generate (`c360-datagen generate --day 0` into S3); load (the three "
        "`c360-ingest load` steps "
        "in parallel, as in the DAG); dbt build = `dbt source freshness` + `build --selector staging` + "
        "`snapshot` + `build --selector marts` (all data tests included); docs = `dbt docs generate`. "
        "rows/s = the day's data rows (all three sources) / the stage's wall time. Every step runs through "
        "the local runtime's runner (`customer360.tasks.local_process`), the project parsed once before.",
        "",
        *_table(
            [
                "users",
                "rows",
                "generate s",
                "load s",
                "dbt build s",
                "docs s",
                "total s",
                "generate rows/s",
                "load rows/s",
                "dbt rows/s",
                *RUN_HEADER,
            ],
            rows,
        ),
        "",
        "Per step (seconds; the three loads overlap):",
        "",
        *_table(
            [
                "users",
                "rows per source",
                "ingest users",
                "ingest orders",
                "ingest tickets",
                "freshness",
                "build staging",
                "snapshot",
                "build marts",
            ],
            steps,
        ),
        "",
    ]
    if png:
        lines += [f"![pipeline scale curve]({png})", ""]
    return lines


def incremental_section(results: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    rows = []
    for size in results["scale"]:
        full = size["full"]
        # Older results hold one day only, under "incremental".
        for inc in size.get("incremental_days", [size["incremental"]]):
            day = inc.get("day", 1)
            steady = inc is size.get("incremental_days", [None])[-1]
            rows.append(
                [
                    f"{size['users']:,}",
                    f"{day}{' (steady state)' if steady else ' (first after the export)'}",
                    f"{inc['rows']:,} ({inc['rows_fraction']:.1%})",
                    _n(inc["load_s"], 1),
                    _n(inc["transform_s"], 1),
                    f"{_n(full['load_s'] + full['transform_s'], 1)}",
                    f"{inc['fraction_load']:.1%}",
                    f"{inc['fraction_transform']:.1%}",
                    f"**{inc['fraction_load_transform']:.1%}**"
                    if steady
                    else f"{inc['fraction_load_transform']:.1%}",
                    f"<= {STEADY_DAY_MAX[size['users']]:.0%}"
                    if steady and size["users"] in STEADY_DAY_MAX
                    else "",
                    *_run_cells(meta, size["loadavg_start"], size.get("date")),
                ]
            )
    return [
        "### 3. Incremental day",
        "",
        "After the full build, day 1 and then day 2 (`c360-datagen generate --day K`: ~1 % new users, "
        "~1 % updated users, their orders and tickets, status changes) are loaded and the same dbt steps run "
        'incrementally (docs/data-model.md, "Incremental design": staging, dimensions, facts and '
        "`customer_360` touch only what the day's loads changed; the data tests read the rows the run "
        "rewrote). Before each day every earlier load timestamp is moved one day back, as in production "
        "where a day lands a day after the previous one. Day 2 is the steady state the targets are about. "
        "Fraction = the day's time / the full build's, load + dbt build (generation excluded); the target "
        "column gives the limit where issue 16 sets one.",
        "",
        *_table(
            [
                "users",
                "day",
                "day rows (of day 0)",
                "load s",
                "dbt build s",
                "full load + dbt s",
                "load fraction",
                "dbt fraction",
                "load + dbt fraction",
                "target",
                *RUN_HEADER,
            ],
            rows,
        ),
        "",
    ]


def day_size_section(results: dict[str, Any], meta: dict[str, Any], png: str | None) -> list[str]:
    """Time against the day's size at the sizes that measured days of other volumes."""
    lines = []
    for size in results["scale"]:
        points = size.get("day_sizes")
        if not points:
            continue
        rows = [
            [
                f"{p['daily_volume']:g}x",
                f"{p['rows']:,} ({p['rows_fraction']:.2%})",
                _n(p["load_s"], 1),
                _n(p["transform_s"], 1),
                _n(p["load_s"] + p["transform_s"], 1),
                f"{p['fraction_load_transform']:.1%}",
                *(_n(p["steps"].get(name), 1) for name in DBT_STEPS),
                *_run_cells(meta, size["loadavg_end"], size.get("date")),
            ]
            for p in points
        ]
        lines += [
            f"### 3b. Time against the day's size ({size['users']:,} users)",
            "",
            "After the no-op rerun, one day at each volume (`c360-datagen generate --day K "
            "--daily-volume X`: X times the usual new users, updated users, orders and tickets; status "
            "changes of orders already in flight stay at the usual rate, so the row fraction grows a "
            "little less than X). Each day is loaded and built like day 2.",
            "",
            *_table(
                [
                    "daily volume",
                    "day rows (of day 0)",
                    "load s",
                    "dbt build s",
                    "load + dbt s",
                    "of the full build",
                    *(f"{name.removeprefix('dbt_')} s" for name in DBT_STEPS),
                    *RUN_HEADER,
                ],
                rows,
            ),
            "",
        ]
        line = marginal_cost(points)
        if line:
            per_thousand, intercept = line
            lines += [
                f"Marginal cost: **{per_thousand:.2f} s per 1,000 changed rows** (load + dbt, least "
                f"squares over the days above), on top of **{intercept:.1f} s** for a day of no rows.",
                "",
            ]
        if png:
            lines += [f"![time against day size]({png})", ""]
    return lines


def noop_section(results: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    rows = []
    for size in results["scale"]:
        noop = size["noop"]
        before, after = noop["before"], noop["after"]
        staged, staged_after = (
            sum(v for k, v in state.items() if k.startswith("staging.") and "max" not in k)
            for state in (before, after)
        )
        rows.append(
            [
                f"{size['users']:,}",
                _n(noop["total_s"], 1),
                _n(noop["load_s"], 1),
                _n(noop["transform_s"], 1),
                _n(noop["docs_s"], 1),
                f"{noop['load_events'].get('loaded', 0)} / {noop['load_events'].get('skipped', 0)}",
                f"{before['loads_objects']} -> {after['loads_objects']}",
                f"{staged:,} -> {staged_after:,}",
                f"{before['production.customer_360']:,} -> {after['production.customer_360']:,}",
                "equal" if before["customer_360_md5"] == after["customer_360_md5"] else "DIFFERENT",
                "none" if not noop["changed"] else ", ".join(sorted(noop["changed"])),
                *_run_cells(meta, size["loadavg_end"], size.get("date")),
            ]
        )
    return [
        "### 4. No-op rerun",
        "",
        "Right after the incremental day, every DAG step again (loads in parallel, then freshness, staging, "
        "snapshot, marts, docs) with nothing new in the lake. Proof that nothing was reloaded: the loaders' "
        "per-object log lines (loaded / skipped), `staging._loads` (objects, rows, last `loaded_at`), the "
        "row count and newest `_loaded_at` of each staging table, the row counts of the marts and the "
        "snapshot, and an md5 over every `customer_360` row, taken before and after.",
        "",
        *_table(
            [
                "users",
                "total s",
                "loads s",
                "dbt build s",
                "docs s",
                "objects loaded / skipped",
                "`_loads` rows",
                "staging rows",
                "customer_360 rows",
                "customer_360 md5",
                "figures changed",
                *RUN_HEADER,
            ],
            rows,
        ),
        "",
    ]


def pod_section(results: dict[str, Any]) -> list[str]:
    pods = results.get("pods", {})
    images = pods.get("images", {})
    lines = ["### 5. Pod overhead (inputs for the discussion below)", ""]
    sizes = images.get("sizes_mb", {})
    starts = images.get("start_s", {})
    if sizes:
        lines += _table(
            ["image", "size MB", "above the base MB"],
            [
                [f"`customer360/{name}`", str(v["size_mb"]), str(v["above_base_mb"])]
                for name, v in sizes.items()
            ],
        )
        lines.append("")
    if starts:
        lines += _table(
            ["command in its image", "container start to exit s"],
            [[f"`{c}`", f"{s:.1f}"] for c, s in starts.items()],
        )
        lines += [
            "",
            "(Both tables are read from `docs/images.md`: `make image-sizes`, "
            "`scripts/bench-image-startup.sh`.)",
            "",
        ]
    local = pods.get("local_step_s")
    if local:
        lines += [
            "Fixed cost of each step in the local runtime: its shortest no-op rerun over the sizes above "
            "(process start, imports, S3 listing; for dbt also the partial parse, the `on-run-start` hook "
            "and whatever work dbt repeats on unchanged data, which grows with the data):",
            "",
            *_table(["step", "seconds"], [[f"`{name}`", _n(s, 1)] for name, s in local.items()]),
            "",
        ]
    nodes = pods.get("dbt_nodes")
    if nodes and "dbt_pod_start_s" in pods:
        lines += [
            f"dbt project: {nodes.get('model', 0)} models, {nodes.get('snapshot', 0)} snapshot(s), "
            f"{nodes.get('test', 0)} data tests, {nodes.get('unit_test', 0)} unit tests, "
            f"{nodes.get('source', 0)} sources. "
            f"With a dbt pod costing ~{pods['dbt_pod_start_s']:.0f} s before its first query "
            f"({pods['assumed_schedule_s']:.0f} s scheduling, assumed, + the dbt image's start "
            "with its baked parse):",
            "",
            *_table(
                ["layout", "dbt pods per run", "start-up overhead s (serial)"],
                [
                    [
                        "one pod per stage (this DAG)",
                        str(pods["per_stage_dbt_pods"]),
                        _n(pods["per_stage_overhead_s"]),
                    ],
                    [
                        "one pod per model/snapshot",
                        str(pods["per_model_pods"]),
                        _n(pods["per_model_overhead_s"]),
                    ],
                    [
                        "one pod per model and per test",
                        str(pods["per_model_and_test_pods"]),
                        _n(pods["per_model_and_test_overhead_s"]),
                    ],
                ],
            ),
            "",
        ]
    return lines


def render(results: dict[str, Any], pngs: dict[str, str]) -> str:
    """The generated block (without the markers)."""
    meta = results["meta"]
    lines = [
        f"Run {meta['date']} {meta['time']} UTC, `{meta['command']}` "
        f"({meta['mode']} run, {meta['duration_min']:.0f} min). "
        f"Machine: {meta['machine']}. Load average (1/5/15 min) at start {meta['loadavg_start']}, "
        f"at end {meta['loadavg_end']}: the machine was shared with other test runs, so absolute "
        "figures are pessimistic; the ratios are measured in the same process, interleaved.",
        "",
        *(
            [f"Reused from an earlier run (not measured by this one): {meta['reused']}.", ""]
            if meta.get("reused")
            else []
        ),
        "#### Targets",
        "",
        *_table(
            ["target", "measured", "met"],
            [
                [t, m, "yes" if ok else ("**no**" if ok is not None else "n/a")]
                for t, m, ok in targets(results)
            ],
        ),
        "",
    ]
    if results.get("load"):
        lines += load_section(results, meta, pngs.get("load"))
    if results.get("scale"):
        lines += scale_section(results, meta, pngs.get("scale"))
        lines += incremental_section(results, meta)
        lines += day_size_section(results, meta, pngs.get("day_size"))
        lines += noop_section(results, meta)
    lines += pod_section(results)
    return "\n".join(lines).rstrip() + "\n"


def write_doc(doc: Path, block: str) -> None:
    """Replace the generated block of `doc` (or create `doc` from a skeleton)."""
    text = doc.read_text() if doc.exists() else SKELETON
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    text = pattern.sub(lambda _: f"{START}\n{block}{END}", text)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scale(results: dict[str, Any], path: Path) -> None:
    """Wall time per stage and rows/s per stage against users (log-log), one figure, two panels."""
    sizes = results["scale"]
    users = [s["users"] for s in sizes]
    stages = (("generate", "generate"), ("load", "load"), ("transform", "dbt build"), ("docs", "docs"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2))
    for key, label in stages:
        left.plot(users, [s["full"][f"{key}_s"] for s in sizes], marker="o", label=label)
        if key != "docs":
            right.plot(users, [s["full"][f"{key}_rows_per_s"] for s in sizes], marker="o", label=label)
    left.plot(users, [s["full"]["total_s"] for s in sizes], marker="s", color="black", label="total")
    left.plot(
        users, [s["incremental"]["load_s"] + s["incremental"]["transform_s"] for s in sizes],
        marker="^", linestyle="--", color="grey", label="incremental day (load + dbt)",
    )  # fmt: skip
    for axis, title, unit in (
        (left, "wall time per stage", "seconds"),
        (right, "throughput per stage", "rows/s"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("users (day 0)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        # Below the axes: inside, the legend hides the lines of the small sizes.
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    meta = results["meta"]
    fig.suptitle(f"Customer 360 pipeline, {meta['machine']}, {meta['date']}", fontsize=10)
    _save(fig, path)


def plot_day_size(results: dict[str, Any], path: Path) -> bool:
    """Load + dbt seconds against the day's rows (share of day 0), per stage; False if nothing to plot."""
    sizes = [size for size in results.get("scale", []) if size.get("day_sizes")]
    if not sizes:
        return False
    size = sizes[-1]
    points = sorted(size["day_sizes"], key=lambda p: p["rows"])
    shares = [100 * p["rows_fraction"] for p in points]
    fig, axis = plt.subplots(figsize=(7, 4.6))
    axis.plot(
        shares,
        [p["load_s"] + p["transform_s"] for p in points],
        marker="s",
        color="black",
        label="load + dbt",
    )
    axis.plot(shares, [p["transform_s"] for p in points], marker="o", label="dbt build (4 steps)")
    axis.plot(shares, [p["load_s"] for p in points], marker="o", label="load (3 loads in parallel)")
    full = size["full"]["load_s"] + size["full"]["transform_s"]
    axis.axhline(full, linestyle="--", color="grey", label=f"full build ({full:.0f} s)")
    axis.set_xscale("log")
    axis.set_xlabel("day's rows, % of day 0")
    axis.set_ylabel("seconds")
    axis.set_ylim(bottom=0)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    meta = results["meta"]
    axis.set_title(f"A day's run against its size, {size['users']:,} users, {meta['date']}", fontsize=10)
    _save(fig, path)
    return True


def plot_load(results: dict[str, Any], path: Path) -> None:
    """Rows/s of loader, psql \\copy and the seed's way per object size, and the peak RSS of each."""
    load = results["load"]
    sizes = [row["rows"] for row in load["sizes"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(
        sizes, [r["loader_rows_per_s"] for r in load["sizes"]], marker="o", label="loader (S3 -> staging)"
    )
    left.plot(
        sizes, [r["psql_rows_per_s"] for r in load["sizes"]], marker="o", label="psql \\copy (local file)"
    )
    left.plot(
        sizes, [load["seed"]["rows_per_s"]] * len(sizes), linestyle="--", label="seed's way (insert_rows)"
    )
    right.plot(sizes, [r["loader_peak_rss_mib"] for r in load["sizes"]], marker="o", label="loader")
    right.plot(sizes, [r["psql_peak_rss_mib"] for r in load["sizes"]], marker="o", label="psql")
    for axis, title, unit in ((left, "rows/s", "rows/s"), (right, "peak RSS of the client process", "MiB")):
        axis.set_xscale("log")
        axis.set_xlabel("rows in the orders object")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    left.set_yscale("log")
    meta = results["meta"]
    machine, date = load.get("machine", meta["machine"]), load.get("date", meta["date"])
    fig.suptitle(f"Loading one orders object, {machine}, {date}", fontsize=10)
    _save(fig, path)
