"""Evaluate the Tiltfile offline: a Starlark-subset check plus a run against recorded Tilt builtins.

`tilt` itself cannot be installed here (its Go module is refused by the module proxy and there is
no other registry for it), so this does the next best thing, in two steps:

1. The Tiltfile is parsed with Python's parser (Starlark's grammar is a subset of Python's) and
   every construct Starlark lacks is refused: imports, classes, try/with/while, f-strings, lambda,
   `is`, chained comparisons, global/nonlocal, del, assert, raise. What is left means the same in
   both languages.
2. It is executed with only Starlark's builtins plus stubs of the Tilt API it may call, which record
   their arguments. A misspelt builtin is a NameError; `local()` runs the real `helm template` (minus
   --dry-run=server, which needs a cluster) so the Tiltfile works on the chart as it is.

On a workstation with tilt installed, `tilt ci` and `tilt alpha tiltfile-result` remain the real check.
Here, the cluster harness deploys what the evaluation says Tilt would (its images, build contexts and
values files: :mod:`harness.cluster.deploy`), so the cluster tier tests exactly that.
"""

from __future__ import annotations

import ast
import builtins
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from customer360.settings import PROJECT_ROOT

TILTFILE = PROJECT_ROOT / "Tiltfile"

NOT_STARLARK = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.ClassDef: "class",
    ast.Try: "try",
    ast.With: "with",
    ast.While: "while",
    ast.JoinedStr: "f-string",
    ast.Lambda: "lambda",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Delete: "del",
    ast.Assert: "assert",
    ast.Raise: "raise",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Await: "await",
    ast.AsyncFunctionDef: "async",
    ast.NamedExpr: ":=",
    ast.Set: "set literal",
    ast.SetComp: "set comprehension",
}

STARLARK_BUILTINS = {
    name: getattr(builtins, name)
    for name in [
        "all",
        "any",
        "bool",
        "dict",
        "enumerate",
        "getattr",
        "hasattr",
        "int",
        "len",
        "list",
        "max",
        "min",
        "print",
        "range",
        "reversed",
        "sorted",
        "str",
        "tuple",
        "type",
        "zip",
    ]
}


class StarlarkSubsetError(ValueError):
    """The Tiltfile uses a construct that Starlark (and so Tilt) does not have."""


class TiltfileFail(RuntimeError):
    """The Tiltfile called fail()."""


def check_starlark_subset(source: str, filename: str = "Tiltfile") -> ast.Module:
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        for node_type, name in NOT_STARLARK.items():
            if isinstance(node, node_type):
                raise StarlarkSubsetError(f"{filename}:{node.lineno}: `{name}` is not Starlark")
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:
                raise StarlarkSubsetError(f"{filename}:{node.lineno}: chained comparison is not Starlark")
            if isinstance(node.ops[0], ast.Is | ast.IsNot):
                raise StarlarkSubsetError(f"{filename}:{node.lineno}: `is` is not Starlark")
    return tree


@dataclass
class TiltRun:
    """What the Tiltfile asked Tilt to do."""

    docker_builds: dict[str, dict[str, Any]] = field(default_factory=dict)
    k8s_objects: list[dict[str, Any]] = field(default_factory=list)
    k8s_resources: list[dict[str, Any]] = field(default_factory=list)
    local_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    local_commands: list[dict[str, Any]] = field(default_factory=list)
    allowed_contexts: list[str] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)

    def resource(self, name: str) -> dict[str, Any]:
        return next(r for r in self.k8s_resources if r.get("new_name") == name)


def _local_runner(run: TiltRun):
    def local(command, quiet=False, stdin=None, **kwargs):
        run.local_commands.append({"command": command, "stdin": stdin, **kwargs})
        argv = command if isinstance(command, list) else None
        if argv and Path(argv[0]).name == "helm":
            # The real render, minus the cluster lookups that need a cluster (so it must be told that
            # credentials it generates are throw-away: this evaluation never applies them).
            argv = [str(PROJECT_ROOT / argv[0]), *(arg for arg in argv[1:] if arg != "--dry-run=server")]
            argv += ["--set", "allowEphemeralCredentials=true"]
            return subprocess.run(argv, cwd=PROJECT_ROOT, check=True, capture_output=True, text=True).stdout
        return ""

    return local


def evaluate_tiltfile(env: dict[str, str] | None = None, path: Path = TILTFILE) -> TiltRun:
    """Run the Tiltfile against recording stubs and return what it asked for."""
    source = path.read_text()
    tree = check_starlark_subset(source, path.name)
    run = TiltRun()
    env = env or {}

    def docker_build(ref, context, **kwargs):
        run.docker_builds[ref] = {"context": context, **kwargs}

    def k8s_yaml(blob):
        run.k8s_objects.extend(obj for obj in yaml.safe_load_all(blob) if obj)

    def k8s_resource(workload="", **kwargs):
        run.k8s_resources.append({"workload": workload, **kwargs})

    def local_resource(name, **kwargs):
        run.local_resources[name] = kwargs

    def fail(message):
        raise TiltfileFail(message)

    config = SimpleNamespace(define_string=lambda name, **kwargs: None, parse=lambda: {})
    os_module = SimpleNamespace(
        getenv=lambda name, default="": env.get(name, default),
        path=SimpleNamespace(exists=lambda p: (PROJECT_ROOT / p).exists()),
    )
    tilt_api = {
        "version_settings": lambda **kwargs: None,
        "allow_k8s_contexts": lambda contexts: run.allowed_contexts.extend(
            [contexts] if isinstance(contexts, str) else contexts
        ),
        "config": config,
        "os": os_module,
        "docker_build": docker_build,
        "sync": lambda src, dest: ("sync", src, dest),
        "run": lambda cmd, trigger=None: ("run", cmd, trigger),
        "fall_back_on": lambda files: ("fall_back_on", files),
        "watch_file": run.watched.append,
        "local": _local_runner(run),
        "decode_yaml_stream": lambda blob: [obj for obj in yaml.safe_load_all(blob) if obj],
        "encode_yaml_stream": lambda objs: yaml.safe_dump_all(objs),
        "k8s_yaml": k8s_yaml,
        "k8s_resource": k8s_resource,
        "port_forward": lambda local_port, container_port=None, name=None, **kw: {
            "local": local_port,
            "container": container_port,
            "name": name,
        },
        "local_resource": local_resource,
        "TRIGGER_MODE_MANUAL": "manual",
        "TRIGGER_MODE_AUTO": "auto",
        "fail": fail,
    }
    namespace: dict[str, Any] = {"__builtins__": STARLARK_BUILTINS, **tilt_api}
    exec(compile(tree, str(path), "exec"), namespace)
    return run
