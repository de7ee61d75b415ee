"""The dbt docs site that the DAG's last task generated: it loads and documents customer_360.

Served from the run's own target dir over loopback HTTP (the site fetches its JSON with XHR), the
way `make docs-serve` and `scripts/screenshot_lineage.py` show it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_session import EltRun
from dbt_docs_site import lineage_labels, lineage_url, load_manifest, model_id, model_url, wait_for_lineage
from headless_chromium import serve_directory
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# The columns customer_360 must have (docs/data-model.md), as a reader of the docs looks for them.
CUSTOMER_360_COLUMNS = (
    "customer_id",
    "full_name",
    "email",
    "country",
    "signed_up_at",
    "order_count",
    "lifetime_value",
    "avg_order_value",
    "first_order_at",
    "last_order_at",
    "ticket_count",
    "open_ticket_count",
    "avg_resolution_hours",
    "avg_csat",
)
SOURCES_IN_GRAPH = {"user_db.users", "ecommerce.orders", "support_desk.support_tickets"}


@pytest.fixture(scope="module")
def docs_url(elt_run: EltRun) -> Iterator[str]:
    with serve_directory(elt_run.dbt_target, elt_run.settings.airflow_host) as base_url:
        yield base_url


def test_model_page_documents_customer_360_and_its_columns(
    docs_url: str, elt_run: EltRun, page: Page
) -> None:
    unique_id = model_id(load_manifest(elt_run.dbt_target), "customer_360")
    page.goto(model_url(docs_url, unique_id))

    expect(page.locator("h1:visible .break")).to_have_text("customer_360")
    expect(page.get_by_text("One row per known customer").first).to_be_visible()
    column_cells = page.locator("tr.column-row > td:first-child")
    expect(column_cells.first).to_be_visible()
    shown = [text.strip() for text in column_cells.all_inner_texts()]
    missing = [column for column in CUSTOMER_360_COLUMNS if column not in shown]
    assert not missing, f"columns the docs do not list: {missing}; listed: {shown}"
    # Types come from the catalog, i.e. from the table dbt built in the warehouse.
    lifetime_value = page.locator("tr.column-row").filter(
        has=page.locator("td:first-child").get_by_text("lifetime_value", exact=True)
    )
    expect(lifetime_value).to_contain_text("numeric(14,2)")


def test_lineage_graph_draws_customer_360_and_everything_upstream(
    docs_url: str, elt_run: EltRun, page: Page
) -> None:
    manifest = load_manifest(elt_run.dbt_target)
    unique_id = model_id(manifest, "customer_360")
    expected = lineage_labels(manifest, unique_id)
    assert SOURCES_IN_GRAPH | {"dim_customers", "fct_orders", "fct_support_tickets"} <= expected

    page.goto(lineage_url(docs_url, unique_id, "+customer_360"))
    shown = wait_for_lineage(page, expected)

    assert shown == expected  # +customer_360: nothing downstream (tests), nothing unrelated (dim_date)
    expect(page.get_by_text("Lineage Graph", exact=True)).to_be_visible()
