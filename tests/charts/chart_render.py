"""Render charts/customer360 with the real `helm` and hand tests plain dicts.

Every chart test goes through :func:`render_chart`: it runs `helm template` once per distinct set
of values (cached, so a test module costs one render per variant), splits the output by the
`# Source:` comment helm writes before each document, validates every document against the
Kubernetes API schema (kubernetes-validate, strict: unknown fields fail) and returns dicts.
`show_only` filters by template path after rendering, so a template that renders nothing yields
an empty list instead of helm's "could not find template" error; that is what "off by default"
tests assert.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from customer360.settings import PROJECT_ROOT

HELM = PROJECT_ROOT / ".tools" / "bin" / "helm"
CHART_DIR = PROJECT_ROOT / "charts" / "customer360"
KIND_VALUES = CHART_DIR / "values-kind.yaml"
RELEASE = "customer360"
NAMESPACE = "customer360"
# The Kubernetes version kind-config.yaml pins; manifests must be valid for it.
KUBERNETES_VERSION = "1.34.0"

_SOURCE = re.compile(r"^# Source: [^/]+/(\S+)$", re.MULTILINE)


class HelmError(RuntimeError):
    """helm exited non-zero; the message carries its stderr (e.g. a check-values failure)."""


@dataclass(frozen=True)
class RenderedDoc:
    """One rendered document and the template file it came from (e.g. templates/lake/lake-job.yaml)."""

    template: str
    text: str


def helm_binary() -> Path:
    if not HELM.exists():
        raise RuntimeError(f"{HELM} is missing: run `make tools` (builds helm from its Go module)")
    return HELM


def run_helm(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    """Run helm; raise HelmError with its stderr when it fails."""
    result = subprocess.run([str(helm_binary()), *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HelmError(result.stderr.strip() or result.stdout.strip())
    return result


def _freeze(values: dict[str, Any] | None) -> str:
    return json.dumps(values or {}, sort_keys=True)


@cache
def _render_text(values_json: str, values_files: tuple[str, ...], chart_dir: str) -> tuple[RenderedDoc, ...]:
    args = ["template", RELEASE, chart_dir, "--namespace", NAMESPACE, "--kube-version", KUBERNETES_VERSION]
    for values_file in values_files:
        args += ["--values", values_file]
    # Values go through a file, not --set, so types (null, lists, ints) arrive exactly as written.
    args += ["--values", "-"]
    result = subprocess.run(
        [str(helm_binary()), *args],
        input=values_json,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise HelmError(result.stderr.strip())
    return tuple(_split(result.stdout))


def _split(output: str) -> list[RenderedDoc]:
    docs = []
    matches = list(_SOURCE.finditer(output))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(output)
        text = output[match.end() : end].rstrip().removesuffix("---").strip()
        docs.append(RenderedDoc(template=match.group(1), text=text))
    return docs


def render_docs(
    values: dict[str, Any] | None = None,
    values_files: tuple[Path, ...] = (),
    chart_dir: Path = CHART_DIR,
) -> tuple[RenderedDoc, ...]:
    """The raw rendered documents with their template paths (cached per values set).

    `helm template` cannot read a cluster, so the chart refuses to invent credentials unless told
    the render is a throw-away one (allowEphemeralCredentials); tests say so unless they set it.
    """
    values = {"allowEphemeralCredentials": True, **(values or {})}
    return _render_text(_freeze(values), tuple(str(path) for path in values_files), str(chart_dir))


def render_chart(
    values: dict[str, Any] | None = None,
    show_only: str | list[str] | None = None,
    values_files: tuple[Path, ...] = (),
    validate: bool = True,
) -> list[dict[str, Any]]:
    """Render the chart and return its Kubernetes objects as dicts, each schema-validated.

    ``show_only`` keeps the documents of one template (``templates/lake/lake-job.yaml``) or all
    templates under a folder (``templates/docs/``).
    """
    wanted = [show_only] if isinstance(show_only, str) else show_only
    objects = []
    for doc in render_docs(values, values_files):
        if wanted and not any(doc.template == w or doc.template.startswith(w) for w in wanted):
            continue
        for obj in yaml.safe_load_all(doc.text):
            if not obj:
                continue
            if validate:
                _validate(_freeze(obj))
            objects.append(obj)
    return objects


@cache
def _validate(obj_json: str) -> None:
    obj = json.loads(obj_json)
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        raise AssertionError(
            f"{name} is not a valid Kubernetes {KUBERNETES_VERSION} object: {error}"
        ) from error


def render_notes(values: dict[str, Any] | None, tmp_path: Path) -> str:
    """NOTES.txt as `helm install` would print it.

    `helm template` never renders NOTES.txt and needs no cluster only for manifests, so a copy of
    the chart moves NOTES.txt out of templates/ and renders it with `tpl` into a ConfigMap.
    """
    chart_copy = tmp_path / "customer360"
    shutil.copytree(CHART_DIR, chart_copy)
    (chart_copy / "templates" / "NOTES.txt").rename(chart_copy / "notes.txt")
    (chart_copy / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered-notes\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}\n'
    )
    docs = render_docs(values, chart_dir=chart_copy)
    doc = next(doc for doc in docs if doc.template == "templates/zz-notes.yaml")
    return yaml.safe_load(doc.text)["data"]["notes"]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of a kind (and name); fails with what there is otherwise."""
    hits = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    if len(hits) != 1:
        present = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(hits)}; rendered: {present}")
    return hits[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def containers(workload: dict[str, Any], include_init: bool = True) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    found = list(spec["containers"])
    if include_init:
        found += spec.get("initContainers", [])
    return found


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A container's env as name -> the entry (with `value` or `valueFrom`)."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    """The data of a Secret, base64-decoded."""
    import base64

    return {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}
