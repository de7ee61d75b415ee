"""Fixtures of the container tier: a Docker engine, the built images, a pod-like runner."""

from __future__ import annotations

import os

import pytest
from container_runner import DOCKER, ImageRefs, PodLikeRunner, docker

from customer360.settings import Settings


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """Path of the docker CLI once an engine answers; skip the tier when there is none."""
    if DOCKER is None:
        pytest.skip("no docker CLI: `make docker-engine` installs and starts one")
    info = docker("info", "--format", "{{.ServerVersion}}")
    if info.returncode != 0:
        pytest.skip(f"no Docker engine answers ({info.stderr.strip()}): run `make docker-engine`")
    return DOCKER


@pytest.fixture(scope="session")
def images(docker_engine: str, stack_settings: Settings) -> ImageRefs:
    """The refs from settings (C360_PIPELINE_IMAGE / C360_DBT_IMAGE); fail if one is not built."""
    # Settings has no Airflow image (nothing in the pipeline launches it); same repo and tag scheme.
    tag = stack_settings.pipeline_image.rsplit(":", 1)[1]
    refs = ImageRefs(
        pipeline=stack_settings.pipeline_image,
        dbt=stack_settings.dbt_image,
        airflow=os.environ.get("C360_AIRFLOW_IMAGE", f"customer360/airflow:{tag}"),
    )
    missing = [ref for ref in vars(refs).values() if docker("image", "inspect", ref).returncode != 0]
    if missing:
        pytest.fail(f"images not built: {', '.join(missing)}; run `make images` (or `make images-offline`)")
    return refs


@pytest.fixture(scope="module")
def pod_runner(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> PodLikeRunner:
    return PodLikeRunner(tmp_dir=tmp_path_factory.mktemp("container-env"))
