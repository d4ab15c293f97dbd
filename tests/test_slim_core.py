"""A slim core: the wheel's requirements without extras hold what sampling needs (no plotly, no
accelerate: those are the ``paper`` extra, plotly also the ``app`` one); the core runs without
them, and the reproduction commands say in one line how to get them; the training data stays in
the checkout; the app imports nothing of mgps.paper and scripts import only public names.

Installing the built wheel into a fresh environment is ``.ci/run``'s check (it takes minutes)."""

from __future__ import annotations

import ast
import email
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRA_ONLY = {"plotly", "accelerate"}


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_pyproject_keeps_plotly_and_accelerate_in_extras():
    project = PYPROJECT["project"]

    def names(reqs: list[str]) -> set[str]:
        return {Requirement(r).name.lower() for r in reqs}

    assert not names(project["dependencies"]) & EXTRA_ONLY
    extras = project["optional-dependencies"]
    assert EXTRA_ONLY <= names(extras["paper"])
    assert "plotly" in names(extras["app"]) and "accelerate" not in names(extras["app"])


def test_the_wheel_metadata_requires_no_plotly_or_accelerate(tmp_path):
    """The METADATA setuptools writes for the wheel: Requires-Dist without an extra marker
    names neither; the paper extra names both, the app extra plotly. (Needs the setuptools the
    build asks for; a venv's bundled older one cannot read this pyproject.toml.)"""
    import setuptools
    from packaging.version import Version

    wanted = Requirement(PYPROJECT["build-system"]["requires"][0])
    if not wanted.specifier.contains(Version(setuptools.__version__)):
        pytest.skip(f"setuptools {setuptools.__version__} here; the build needs {wanted}")
    code = (
        "import sys; from setuptools import build_meta; "
        "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    info = tmp_path / run.stdout.strip().splitlines()[-1]
    metadata = email.message_from_string((info / "METADATA").read_text())
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist")]
    core = {r.name.lower() for r in requires if r.marker is None}
    assert "torch" in core and "diffusers" in core
    assert not core & EXTRA_ONLY, f"core requirements hold {core & EXTRA_ONLY}"

    def extra(name: str) -> set[str]:
        return {r.name.lower() for r in requires if r.marker and r.marker.evaluate({"extra": name})}

    assert EXTRA_ONLY <= extra("paper")
    assert "plotly" in extra("app") and "accelerate" not in extra("app")
    assert set(metadata.get_all("Provides-Extra")) >= {"app", "paper", "dev"}


def test_the_wheel_leaves_the_training_data_out():
    excluded = PYPROJECT["tool"]["setuptools"]["exclude-package-data"]["mgps.assets"]
    assert "data/*" in excluded
    assert (ROOT / "assets" / "data" / "digits.npz").is_file()  # it is in the checkout


def test_the_core_imports_neither_outside_mgps_paper():
    for path in sorted((ROOT / "mgps").rglob("*.py")):
        if "paper" in path.relative_to(ROOT).parts:
            continue
        roots = {m.split(".")[0] for m in _imports(path)}
        assert not roots & EXTRA_ONLY, f"{path.relative_to(ROOT)} imports {roots & EXTRA_ONLY}"


def test_the_app_imports_nothing_of_mgps_paper():
    for path in sorted([ROOT / "app.py", *(ROOT / "app").rglob("*.py")]):
        paper = {m for m in _imports(path) if m == "mgps.paper" or m.startswith("mgps.paper.")}
        assert not paper, f"{path.relative_to(ROOT)} imports {paper}"


def test_scripts_import_only_public_names():
    """A script uses the library through names a module lists in ``__all__``."""
    for path in sorted((ROOT / "scripts").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mgps")):
                continue
            public = getattr(importlib.import_module(node.module), "__all__", None)
            assert public is not None, f"{path.name}: {node.module} has no __all__"
            for alias in node.names:
                assert alias.name in public, f"{path.name} imports {node.module}.{alias.name}"


BLOCKED = """
import sys
for name in ("plotly", "accelerate"):
    sys.modules[name] = None  # as if not installed: import fails, find_spec finds nothing
from mgps.cli import main
"""


def _without_extra(body: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED + body],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
    )


def test_the_core_commands_run_without_plotly_and_accelerate(tmp_path):
    from mgps.utils.assets import ASSETS_DIR

    image = ASSETS_DIR / "examples" / "digit_3_1.png"
    run = _without_extra(
        f"""
assert main(["priors"]) == 0
assert main(["samplers"]) == 0
assert main(["restore", "--prior", "digits", "--operator", "box", "--sampler", "mgps",
             "--image", {str(image)!r}, "--steps", "2", "--n-samples", "1", "--out", "run",
             "--quiet"]) == 0
""",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()


@pytest.mark.parametrize(
    "command",
    [
        ["gmm", "table", "--out", "t", "--n-instances", "1"],
        ["images", "defaults", "--out", "t"],
        ["gaussian-eta", "--out", "t.csv"],
        ["ecg", "table", "--out", "t"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_table_without_the_extra_says_how_to_get_it(command, tmp_path):
    run = _without_extra(f"raise SystemExit(main({command!r}))", tmp_path)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "mgps[paper]"' in lines[0], run.stderr
    assert "plotly" in lines[0] and "accelerate" in lines[0]
    assert not (tmp_path / "t").exists()  # refused before any work


def test_held_out_images_outside_a_checkout_say_so(tmp_path, monkeypatch):
    from mgps.paper import defaults

    monkeypatch.setattr(defaults, "ASSETS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="checkout"):
        defaults.held_out("digits", 2)


def test_validate_outside_a_checkout_skips_the_digits_problem(tmp_path, monkeypatch):
    """``mgps validate`` works from the wheel: the one problem that needs a held-out digit is
    left out, with a note, when no problem is named."""
    from mgps.paper import defaults, validate

    monkeypatch.setattr(defaults, "ASSETS_DIR", tmp_path)
    subset = {n: validate.PROBLEMS[n] for n in ("gaussian-d16", "digits-exact")}
    monkeypatch.setattr(validate, "PROBLEMS", subset)
    said: list[str] = []
    result = validate.validate("dps", params={"num_steps": 5}, compare=[], log=said.append)
    assert "digits-exact" not in result["table"] and "gaussian-d16" in result["table"]
    assert any("skipping the digits-exact problem" in line for line in said)
