"""The generated dbt docs site as a browser sees it: its URLs, its lineage graph, its manifest.

Shared by ``scripts/screenshot_lineage.py`` and ``tests/browser``: what counts as "the lineage of
customer_360" is computed once, from the ``manifest.json`` that the same ``dbt docs generate`` wrote,
so the picture and the tests check the same thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page


class DocsSiteError(RuntimeError):
    """The docs site is missing or does not describe the model asked for."""


def load_manifest(target_dir: Path) -> dict[str, Any]:
    """``manifest.json`` of a generated site; a clear error when the site was never generated."""
    index = target_dir / "index.html"
    manifest = target_dir / "manifest.json"
    if not index.exists() or not manifest.exists():
        raise DocsSiteError(
            f"no dbt docs site in {target_dir} (index.html + manifest.json); run `make demo` first: "
            "its last task, dbt_docs_generate, writes it"
        )
    return json.loads(manifest.read_text())


def model_id(manifest: dict[str, Any], name: str) -> str:
    """Unique id (``model.<project>.<name>``) of the model called ``name``."""
    models = {uid: node for uid, node in manifest["nodes"].items() if uid.startswith("model.")}
    found = [uid for uid, node in models.items() if node["name"] == name]
    if len(found) != 1:
        raise DocsSiteError(f"the manifest has {len(found)} models named {name!r}")
    return found[0]


def _label(manifest: dict[str, Any], unique_id: str) -> str:
    """How the docs graph labels a node: ``source_name.table`` for sources, the name otherwise."""
    if unique_id.startswith("source."):
        source = manifest["sources"][unique_id]
        return f"{source['source_name']}.{source['name']}"
    return manifest["nodes"][unique_id]["name"]


def lineage_labels(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """Labels of the node and every node upstream of it (dbt's ``+<model>`` selection)."""
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(manifest["parent_map"].get(current, []))
    return {_label(manifest, uid) for uid in seen}


def lineage_url(base_url: str, unique_id: str, select: str) -> str:
    """The site's full-screen lineage view (``g_v=1``) of one node, limited to ``select``."""
    return f"{model_url(base_url, unique_id)}?g_v=1&g_i={quote(select)}"


def model_url(base_url: str, unique_id: str) -> str:
    """The site's page of one model (description, columns, code)."""
    return f"{base_url}/index.html#!/{unique_id.split('.')[0]}/{unique_id}"


# dbt docs (AngularJS) keeps the graph it draws in its `graph` service. The picture is a canvas with
# no DOM text, so the labels of the nodes the service shows are the truth about what is drawn.
_SHOWN_NODES_JS = """() => {
  try {
    const service = angular.element(document.body).injector().get('graph');
    return (service.graph.elements || [])
      .filter(e => e.group === 'nodes' && !e.data.hidden)
      .map(e => e.data.label);
  } catch (err) { return []; }
}"""


def shown_graph_nodes(page: Page) -> set[str]:
    """Labels of the nodes the lineage graph currently draws."""
    return set(page.evaluate(_SHOWN_NODES_JS))


def wait_for_lineage(page: Page, expected: set[str], timeout_ms: float = 30_000) -> set[str]:
    """Wait until the full-screen lineage graph draws every node in ``expected``; return what it draws.

    Raises Playwright's TimeoutError when it never does.
    """
    page.get_by_text("Lineage Graph", exact=True).wait_for(state="visible", timeout=timeout_ms)
    page.wait_for_function(
        f"expected => {{ const shown = new Set(({_SHOWN_NODES_JS})()); "
        "return expected.every(label => shown.has(label)); }",
        arg=sorted(expected),
        timeout=timeout_ms,
    )
    # Cytoscape lays the graph out, then animates it to fit the screen; let that settle.
    page.wait_for_timeout(1_500)
    return shown_graph_nodes(page)
