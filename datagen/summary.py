"""What a run wrote and injected, per object and per source, as the JSON written by `--summary`.

Rules that hold for every object (tests and the loader/dbt engineers assert against them):
- data_rows = lines after the header (no field ever contains a newline, so lines = records);
- data_rows = clean_rows + the extra-row kinds (duplicate_row, later_version, orphan_user_id,
  resolved_before_created, negative_amount, unknown_status, unparseable);
  email_case_space and empty_optional mutate clean rows in place;
- rejected_rows = dirt.unparseable (rows the loader must reject); loadable_rows = data_rows - rejected_rows;
- distinct_ids = distinct ids among loadable rows = clean_rows + anomaly rows (ids never repeat
  among a day's clean rows; anomalies get new ids); new_ids = those ids that never appeared before.
Per source, distinct_ids of the run = sum of new_ids when the run starts at day 0, else (a single
`--day K`) the sum of the objects' distinct_ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from datagen.config import UNPARSEABLE_VARIANTS, GeneratorConfig, kinds_for

SUMMARY_FORMAT = 1


@dataclass
class ObjectSummary:
    source: str
    day: int
    date: str
    batch: str
    key: str  # the contract key, raw/<source>/dt=YYYY-MM-DD/<source>-<batch>.csv
    location: str  # where it was written: s3://bucket/key or a file path
    bytes: int = 0
    md5: str = ""
    data_rows: int = 0
    clean_rows: int = 0
    rejected_rows: int = 0
    loadable_rows: int = 0
    distinct_ids: int = 0
    new_ids: int = 0
    dirt: dict[str, int] = field(default_factory=dict)
    unparseable: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, source: str, day: int, date: str, batch: str, key: str, location: str) -> ObjectSummary:
        return cls(
            source,
            day,
            date,
            batch,
            key,
            location,
            dirt={kind.name: 0 for kind in kinds_for(source)},
            unparseable=dict.fromkeys(UNPARSEABLE_VARIANTS, 0),
        )

    def line(self) -> str:
        """The one line printed per object written."""
        dirty = sum(self.dirt.values())
        return (
            f"wrote {self.location} rows={self.data_rows} loadable={self.loadable_rows} "
            f"rejected={self.rejected_rows} dirt={dirty} bytes={self.bytes}"
        )


def run_summary(
    config: GeneratorConfig, days: list[int], target: str, objects: list[ObjectSummary]
) -> dict[str, Any]:
    """The `--summary` document: parameters, one entry per object, totals per source."""
    sources: dict[str, dict[str, Any]] = {}
    for obj in objects:
        total = sources.setdefault(
            obj.source,
            {
                "objects": 0,
                "data_rows": 0,
                "clean_rows": 0,
                "rejected_rows": 0,
                "loadable_rows": 0,
                "new_ids": 0,
                "distinct_ids": 0,
                "dirt": dict.fromkeys(obj.dirt, 0),
            },
        )
        total["objects"] += 1
        for name in ("data_rows", "clean_rows", "rejected_rows", "loadable_rows", "new_ids"):
            total[name] += getattr(obj, name)
        total["distinct_ids"] += obj.new_ids if days[0] == 0 else obj.distinct_ids
        for kind, count in obj.dirt.items():
            total["dirt"][kind] += count
    return {
        "format": SUMMARY_FORMAT,
        "parameters": {
            "users": config.users,
            "seed": config.seed,
            "start_date": config.start_date.isoformat(),
            "days": days,
            "dirt_rates": config.dirt_rates,
            "rows_per_object": config.rows_per_object,
            "daily_volume": config.daily_volume,
            "target": target,
        },
        "objects": [asdict(obj) for obj in objects],
        "sources": sources,
    }
