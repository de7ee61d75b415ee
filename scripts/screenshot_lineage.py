#!/usr/bin/env python
"""Screenshot the dbt docs site's lineage graph of customer_360 into ``assets/dbt_lineage.png``.

Reads the site that ``make demo`` generated (``dbt/target``, or ``--target-dir``), serves it on
loopback, opens the model's full-screen lineage view (``+customer_360``: the model and everything
upstream of it) in headless Chromium, checks that the graph draws every upstream node the manifest
names, then writes the PNG. Run it with ``make screenshots``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dbt_docs_site import (
    DocsSiteError,
    lineage_labels,
    lineage_url,
    load_manifest,
    model_id,
    wait_for_lineage,
)
from headless_chromium import ChromiumMissingError, launch, serve_directory
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from customer360.settings import PROJECT_ROOT
from harness.settings import get_harness_settings

DEFAULT_OUT = PROJECT_ROOT / "assets" / "dbt_lineage.png"
# Wide and short (the DAG is), at 1.5x: node labels stay readable when GitHub scales the README image down.
VIEWPORT = {"width": 1600, "height": 720}
SCALE = 1.5


def take(target_dir: Path, model: str, out: Path, host: str) -> set[str]:
    """Write the screenshot; return the labels of the nodes it shows."""
    manifest = load_manifest(target_dir)
    unique_id = model_id(manifest, model)
    expected = lineage_labels(manifest, unique_id)
    with serve_directory(target_dir, host) as base_url, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=SCALE)
            page.goto(lineage_url(base_url, unique_id, f"+{model}"))
            shown = wait_for_lineage(page, expected)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()
    return shown


def main(argv: list[str] | None = None) -> int:
    settings = get_harness_settings()
    parser = argparse.ArgumentParser(prog="scripts/screenshot_lineage.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=settings.dbt_project_dir / "target",
        help="dbt target dir holding the generated docs site (default: %(default)s)",
    )
    parser.add_argument("--model", default="customer_360", help="model whose lineage is shown")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        shown = take(args.target_dir, args.model, args.out, settings.airflow_host)
    except (DocsSiteError, ChromiumMissingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except PlaywrightError as err:  # the graph never showed what the manifest says it should
        print(f"error: the lineage graph of {args.model} did not render: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(shown)} nodes: {', '.join(sorted(shown))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
