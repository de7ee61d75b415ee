"""The repository stands alone: no file points at a file that is not in it.

The project owns its contract in docs/; a comment or page that cites a file outside the repository
(the founding design notes lived next to it once) or a path that was renamed misleads the reader.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from customer360.settings import PROJECT_ROOT

TOP = "customer360|datagen|ingest|harness|dags|dbt|charts|images|scripts|bench|tests|docs|assets"
# A repository path as prose and comments write it: a top-level folder, then a file with a suffix.
PATH = re.compile(
    rf"(?<![\w./-])((?:{TOP})/[\w./-]*\w\.(?:py|md|sql|ya?ml|sh|json|tpl|txt|toml|dot|png|cfg))\b"
)
OUTSIDE = re.compile(r"\.\./shared|DESIGN\.md")


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.split() if not name.endswith((".png", ".lock"))]


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    found = {}
    for name in tracked_text_files():
        try:
            found[name] = (PROJECT_ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
    return found


def test_nothing_cites_a_file_outside_the_repository(texts: dict[str, str]) -> None:
    this_file = "tests/repo/test_repo_references.py"
    citing = sorted(name for name, text in texts.items() if OUTSIDE.search(text) and name != this_file)
    assert citing == []


def test_every_repository_path_that_is_mentioned_exists(texts: dict[str, str]) -> None:
    missing = sorted(
        {
            f"{name}: {path}"
            for name, text in texts.items()
            for path in PATH.findall(text)
            if not (PROJECT_ROOT / path).exists() and "*" not in path
        }
    )
    assert missing == []
