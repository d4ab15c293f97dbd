"""The package around the library: pyproject.toml and requirements.txt agree, the wheel's
package list is complete, the licences are stated where the Hub and PyPI read them.

Building and installing the wheel itself is checked by ``.ci/run`` (it takes minutes)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import mgps
from mgps.utils.assets import ASSETS_DIR, assets_dir
from mgps.utils.cards import DATA_LICENSES

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(lines) -> dict[str, Requirement]:
    reqs = [Requirement(line) for line in lines]
    return {r.name.lower().replace("_", "-"): r for r in reqs}


def _requirements_txt() -> dict[str, Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return _requirements(s for line in lines if (s := line.split("#")[0].strip()))


def test_requirements_txt_is_the_pinned_set_of_pyproject():
    """The Space installs requirements.txt; pip install mgps[app] reads pyproject.toml. Same
    packages; every pin of requirements.txt lies in pyproject's range, every range is the same."""
    project = PYPROJECT["project"]
    declared = _requirements([*project["dependencies"], *project["optional-dependencies"]["app"]])
    pinned = _requirements_txt()
    assert set(pinned) == set(declared)
    for name, req in pinned.items():
        spec = declared[name].specifier
        pins = [s.version for s in req.specifier if s.operator == "=="]
        if pins:
            assert spec.contains(pins[0], prereleases=True), f"{name}=={pins[0]} not in {spec}"
        else:
            assert req.specifier == spec, f"{name}: {req.specifier} vs {spec}"


def test_requirements_dev_pins_the_paper_extra():
    """requirements-dev.txt adds the paper extra's pins (inside pyproject's ranges) to
    requirements.txt and installs the project with the dev and paper extras."""
    lines = [s for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
             if (s := line.split("#")[0].strip())]  # fmt: skip
    assert "-r requirements.txt" in lines and "-e .[dev,paper]" in lines
    pinned = {**_requirements_txt(), **_requirements(s for s in lines if not s.startswith("-"))}
    for req in _requirements(PYPROJECT["project"]["optional-dependencies"]["paper"]).values():
        pins = [s.version for s in pinned[req.name].specifier if s.operator == "=="]
        assert not pins or req.specifier.contains(pins[0]), f"{req.name}: {pins} vs {req.specifier}"


def test_one_version_source_and_the_console_script():
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mgps.__version__"}
    assert mgps.__version__.count(".") == 2
    assert project["scripts"] == {"mgps": "mgps.cli:main"}
    assert set(project["optional-dependencies"]) == {"app", "dev", "paper"}


def test_the_wheel_lists_every_package_and_maps_the_assets():
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mgps").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"mgps.assets"}
    assert setuptools["package-dir"] == {"mgps.assets": "assets"}
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["mgps.assets"] == ["**/*"]


def test_assets_are_found_in_a_checkout():
    assert not (ROOT / "mgps" / "assets").exists()
    assert assets_dir() == ASSETS_DIR == ROOT / "assets"
    assert (ASSETS_DIR / "priors" / "digits" / "model_index.json").is_file()


def test_licence_file_and_space_front_matter():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the mgps authors" in text
    assert PYPROJECT["project"]["license"] == "MIT"
    readme = (ROOT / "README.md").read_text()
    front = readme.split("---")[1]
    assert "\nlicense: mit\n" in front
    assert "LICENSE" in readme.split("---", 2)[2]


CARDS = sorted(
    p.parent
    for p in [*ASSETS_DIR.glob("priors/*/README.md"), *ASSETS_DIR.glob("classifiers/*/README.md")]
)


@pytest.mark.parametrize("folder", CARDS, ids=[f"{p.parent.name}/{p.name}" for p in CARDS])
def test_model_cards_carry_hub_metadata(folder):
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md").data
    data = "ecg" if folder.name == "ecg" else folder.name.removesuffix("-exact")
    assert card.license == DATA_LICENSES[data]["license"]
    assert card.datasets == DATA_LICENSES[data].get("datasets")
    is_diffusers = (folder / "model_index.json").is_file()
    assert (card.library_name == "diffusers") == is_diffusers
    expected_tag = {
        "classifiers": "image-classification",
        "priors": "time-series-forecasting" if data == "ecg" else "unconditional-image-generation",
    }[folder.parent.name]
    assert card.pipeline_tag == expected_tag


def test_every_embedded_prior_has_a_card():
    priors = {p.name for p in (ASSETS_DIR / "priors").iterdir() if p.is_dir()}
    assert priors == {"digits", "digits-exact", "ecg", "fashion"}
    assert all(ASSETS_DIR / "priors" / name in CARDS for name in priors)


def test_hub_priors_name_their_revision_in_the_registry_and_the_space():
    """preload_from_hub lists every registered hub prior at the registry's revision:
    ``repo`` while it is the default branch, ``repo file1,file2 sha`` once a commit is pinned."""
    import re

    from mgps.priors.sources import _HUB_PRIORS

    front = (ROOT / "README.md").read_text().split("---")[1]
    block = front.split("preload_from_hub:\n", 1)[1]
    entries = []
    for line in block.splitlines():
        if not line.startswith("  - "):
            break
        entries.append(line[4:].strip())
    expected = []
    for source in _HUB_PRIORS:
        assert source.revision, f"{source.name} names no revision"
        if source.revision == "main":
            expected.append(source.hub_id)
        else:
            assert re.fullmatch(r"[0-9a-f]{40}", source.revision), source.revision
            assert source.files, f"{source.name}: a pinned revision lists the files to preload"
            expected.append(f"{source.hub_id} {','.join(source.files)} {source.revision}")
    assert entries == expected
