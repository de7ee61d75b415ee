"""Build binaries from their Go modules, once per machine, into the shared cache.

Each :class:`GoBuild` is built in a throw-away wrapper module that
requires the component's module at its pinned version. A dependency's ``replace`` directives are
ignored by Go, which is what makes this work for modules that cannot be ``go install``-ed: the
Kubernetes module replaces its ``k8s.io/*`` staging modules with folders its zip lacks, so the
wrapper pins each of them to the matching published version instead.

The output lands in ``<cache>/go/<name>-<version>-<recipe digest>/``; a finished folder is never
rebuilt, an interrupted build leaves only a ``.partial`` folder that the next build replaces.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from harness.cache import cache_root, exclusive, recipe_digest
from harness.errors import BuildError


@dataclass(frozen=True)
class GoBuild:
    """Binaries built from one Go module at one version (``go build`` in a wrapper module).

    ``packages`` maps each binary's name to its main package. ``staging_version`` pins the
    ``k8s.io/*`` modules that the Kubernetes module replaces with local folders its zip lacks.
    """

    name: str
    module: str
    version: str
    packages: dict[str, str]
    ldflags: tuple[str, ...] = ()
    # The version the staging modules are pinned to (empty: the module has none).
    staging_version: str = ""
    env: dict[str, str] = field(default_factory=lambda: {"CGO_ENABLED": "0"})


_STAGING_REPLACE = re.compile(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/", re.MULTILINE)


@cache
def go_version() -> str:
    """``go env GOVERSION`` (part of every recipe: a new toolchain builds afresh)."""
    if shutil.which("go") is None:
        raise BuildError("the cluster's binaries are built from Go modules: install Go first")
    return subprocess.run(
        ["go", "env", "GOVERSION"], check=True, capture_output=True, text=True
    ).stdout.strip()


def build_dir(build: GoBuild) -> Path:
    digest = recipe_digest({"build": asdict(build), "go": go_version()})
    return cache_root() / "go" / f"{build.name}-{build.version}-{digest}"


def is_built(build: GoBuild) -> bool:
    folder = build_dir(build)
    return all((folder / binary).is_file() for binary in build.packages)


def _go(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> str:
    with log.open("a") as sink:
        sink.write(f"$ go {' '.join(args)}\n")
        sink.flush()
        result = subprocess.run(
            ["go", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=sink, text=True, check=False
        )
    if result.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise BuildError(
            f"`go {' '.join(args[:3])} ...` failed (exit {result.returncode}); log {log}:\n{tail}"
        )
    return result.stdout


def _module_info(module: str, version: str, cwd: Path, env: dict[str, str], log: Path) -> dict[str, str]:
    return json.loads(_go(["mod", "download", "-json", f"{module}@{version}"], cwd, env, log))


def _wrapper_go_mod(build: GoBuild, staging: list[str]) -> str:
    lines = ["module customer360.local/build", "", "go 1.24", "", f"require {build.module} {build.version}"]
    if staging:
        lines += ["", "replace ("]
        lines += [f"\t{module} => {module} {build.staging_version}" for module in staging]
        lines += [")"]
    return "\n".join(lines) + "\n"


def build_go(build: GoBuild, progress: bool = True) -> Path:
    """The folder holding ``build``'s binaries, building them first if this machine lacks them."""
    target = build_dir(build)
    if is_built(build):
        return target
    with exclusive(target.parent / f".{build.name}.lock"):
        if is_built(build):  # another clone built it while we waited
            return target
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        work = partial / "module"
        work.mkdir(parents=True)
        log = partial / "build.log"
        env = {**os.environ, **build.env, "GOFLAGS": "-mod=mod", "GOWORK": "off", "GOTOOLCHAIN": "local"}
        started = time.monotonic()
        if progress:
            print(
                f"building {build.name} {build.version} from its Go module (log: {log}) ...", file=sys.stderr
            )
        info = _module_info(build.module, build.version, work, env, log)
        staging = _STAGING_REPLACE.findall(Path(info["GoMod"]).read_text()) if build.staging_version else []
        (work / "go.mod").write_text(_wrapper_go_mod(build, staging))
        out = partial / "out"
        out.mkdir()
        flags = ["-trimpath", *(["-ldflags", " ".join(build.ldflags)] if build.ldflags else [])]
        if len(build.packages) == 1:
            ((binary, package),) = build.packages.items()
            _go(["build", *flags, "-o", str(out / binary), package], work, env, log)
        else:
            # One invocation shares the compilation of common packages; each binary is then named
            # after its package's last path element, which the catalogue uses as the binary's name.
            _go(["build", *flags, "-o", f"{out}/", *build.packages.values()], work, env, log)
        (out / "build.log").write_text(log.read_text())
        shutil.rmtree(target, ignore_errors=True)
        out.rename(target)
        shutil.rmtree(partial, ignore_errors=True)
        if progress:
            print(f"built {build.name} in {time.monotonic() - started:.0f} s -> {target}", file=sys.stderr)
    return target


def module_dir(build: GoBuild) -> Path:
    """The (read-only) source folder of a build's module in Go's module cache."""
    scratch = cache_root() / "go" / ".scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "download.log"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOWORK": "off", "GOTOOLCHAIN": "local"}
    return Path(_module_info(build.module, build.version, scratch, env, log)["Dir"])
