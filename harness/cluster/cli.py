"""`c360-cluster`: a real single-node Kubernetes on this machine (up, down, status, load-images, kubectl).

A thin layer over :mod:`harness.cluster.lifecycle`: parse, call, print one line per fact.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from harness.cluster import lifecycle
from harness.cluster.components import CLUSTER_BUILDS, KUBERNETES_VERSION
from harness.cluster.settings import ClusterSettings
from harness.errors import HarnessError

app = typer.Typer(
    help=(
        f"A single-node Kubernetes {KUBERNETES_VERSION} made of the upstream components, built from their Go "
        "modules once per machine and run in a network namespace of its own (settings: C360_CLUSTER_*). "
        "Needs root."
    ),
    no_args_is_help=True,
    add_completion=False,
)


def _fail(err: HarnessError) -> typer.Exit:
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(1)


def _print_access(settings: ClusterSettings) -> None:
    layout = settings.layout
    typer.echo(f"kubeconfig: {layout.kubeconfig} (context {settings.context}, API server {settings.api_url})")
    typer.echo(
        f"  export KUBECONFIG={layout.kubeconfig}   # then .tools/bin/kubectl ..., or: make kubectl ARGS=..."
    )
    for forward in settings.forwards()[1:]:
        typer.echo(
            f"  {forward.name:<13} http://127.0.0.1:{forward.host_port}  "
            f"(node port {forward.node_port}; {forward.env_var})"
        )


@app.command()
def up() -> None:
    """Start the cluster (building its binaries first on a new machine); reuse it when it runs."""
    settings = ClusterSettings()
    try:
        report = lifecycle.up(settings)
    except HarnessError as err:
        raise _fail(err) from None
    if report.reused:
        typer.echo(f"cluster {settings.name} already running, reused")
    else:
        if report.cleared_dead:
            typer.echo("cleared what a dead cluster of this name had left behind")
        typer.echo(
            f"cluster {settings.name} up in {report.seconds:.0f} s: "
            "node Ready, CoreDNS serving, StorageClass standard"
        )
    _print_access(settings)


@app.command()
def down() -> None:
    """Stop the cluster; leaves no process, mount, namespace, cgroup or containerd state (logs stay)."""
    settings = ClusterSettings()
    began = time.monotonic()
    try:
        existed = lifecycle.down(settings)
    except HarnessError as err:
        raise _fail(err) from None
    if existed:
        typer.echo(
            f"cluster {settings.name} stopped and removed in {time.monotonic() - began:.0f} s "
            f"(logs kept in {settings.layout.logs})"
        )
    else:
        typer.echo("no cluster was running")


@app.command()
def status() -> None:
    """Each component's process, the node's readiness, a dead component's log. Exit 1 unless healthy."""
    settings = ClusterSettings()
    state = lifecycle.read_status(settings, check_node=True)
    if not state.exists:
        typer.echo(f"cluster {settings.name}: not running")
        raise typer.Exit(1)
    agent = f"pid {state.agent_pid}" if state.agent_alive else "DEAD"
    typer.echo(f"cluster {settings.name}: {state.phase} (node agent {agent}; state {state.state_dir})")
    if state.error:
        typer.echo(f"  error: {state.error}")
    for component in state.components:
        mark = "up" if component.alive else "DOWN"
        detail = f"pid {component.pid}" if component.alive else f"exit code {component.exit_code}"
        typer.echo(f"  {component.name:<24} {mark:<5} {detail}  log: {component.log}")
    for component in state.dead_components:
        typer.echo(f"--- last lines of {component.log} ---\n{component.log_tail()}")
    if state.node_ready is not None:
        typer.echo(f"  node {settings.name}: {'Ready' if state.node_ready else 'NOT Ready'}")
    if state.healthy:
        _print_access(settings)
    if not (state.healthy and state.node_ready):
        raise typer.Exit(1)


@app.command("load-images")
def load_images(
    images: Annotated[list[str], typer.Argument(help="image references in the local Docker engine")],
) -> None:
    """Import locally built images into the node's containerd, as `kind load docker-image` does."""
    settings = ClusterSettings()
    try:
        loaded = lifecycle.load_images(settings, images)
    except HarnessError as err:
        raise _fail(err) from None
    for image, seconds in loaded:
        typer.echo(f"loaded {image} in {seconds:.1f} s")


@app.command()
def deploy(
    build: Annotated[
        bool, typer.Option(help="build the images first (--no-build: load what Docker has)")
    ] = True,
) -> None:
    """Build, load and helm-install the platform as `tilt up` would (the Tiltfile's images and values)."""
    from harness.cluster import deploy as deployment

    settings = ClusterSettings()
    try:
        report = deployment.deploy(settings, build=build)
    except HarnessError as err:
        raise _fail(err) from None
    typer.echo(
        f"release {deployment.RELEASE} installed in namespace {deployment.NAMESPACE}: images built in "
        f"{report.build_seconds:.0f} s, loaded in {report.load_seconds:.0f} s, "
        f"helm --wait {report.install_seconds:.0f} s"
    )


@app.command()
def build() -> None:
    """Build (or find in the machine cache) every binary of the cluster, and link .tools/bin/kubectl."""
    try:
        binaries = lifecycle.binaries()
    except HarnessError as err:
        raise _fail(err) from None
    lifecycle.link_tools(binaries)
    for build in CLUSTER_BUILDS:
        typer.echo(f"{build.name} {build.version}: {', '.join(build.packages)}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def kubectl(ctx: typer.Context) -> None:
    """Run kubectl against this cluster: c360-cluster kubectl -- get pods -A."""
    settings = ClusterSettings()
    path = str(lifecycle.kubectl_path())
    sys.stdout.flush()
    os.execve(path, [path, *ctx.args], lifecycle.kubectl_env(settings))


if __name__ == "__main__":
    app()
