"""The offline stand-ins: what values-offline.yaml names is what harness/images/standins.py builds."""

from __future__ import annotations

import pytest

from harness.images.standins import STANDINS, offline_values


@pytest.mark.parametrize("standin", STANDINS, ids=lambda s: s.folder)
def test_values_offline_names_exactly_the_built_reference(standin) -> None:
    image = offline_values()[standin.values_key]
    assert f"{image['repository']}:{image['tag']}" == standin.reference()
    # A stand-in has its own digest, never the public image's.
    assert image["digest"] == ""


def test_values_offline_replaces_only_the_public_images() -> None:
    assert (
        set(offline_values()) == {standin.values_key for standin in STANDINS} == {"postgres", "minio", "mc"}
    )
