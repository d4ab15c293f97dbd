"""The app talks to the library through its public face, and each fact lives in one place.

Source checks (they fail when a copy comes back): the app imports no private name of ``mgps``
and nothing from ``mgps.samplers.common``; the run keywords, the default σ_y, the σ_y range
check, the 95 % interval and the GPU-time formula are each written once. Behaviour: the
compatibility query on names and tags agrees with what the samplers accept on real objects,
and the initial noise passed as ``x_init`` gives the samples the seed alone gives.
"""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import pytest
import torch

import mgps
import mgps.capabilities
from mgps.pipeline import SamplerRun, prepare, restore, restore_stream
from mgps.presets import settings
from mgps.samplers import common
from mgps.utils.assets import ASSETS_DIR

ROOT = Path(__file__).resolve().parents[1]
APP_FILES = sorted([ROOT / "app.py", *(ROOT / "app").rglob("*.py")])
CODE_FILES = sorted([*APP_FILES, *(ROOT / "mgps").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")])
IMAGE = ASSETS_DIR / "examples" / "digit_3_1.png"


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def _is(node: ast.AST | None, value: object) -> bool:
    return (
        isinstance(node, ast.Constant) and type(node.value) is type(value) and node.value == value
    )


# ---------------------------------------------------------------------------- the app's imports
def test_the_app_imports_only_public_names_and_nothing_from_sampler_internals():
    found = []
    for path in APP_FILES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mgps"):
                if node.module.startswith("mgps.samplers"):
                    found.append(f"{_where(path, node)} from {node.module}")
                found += [
                    f"{_where(path, node)} {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            elif isinstance(node, ast.Import):
                found += [
                    f"{_where(path, node)} import {a.name}"
                    for a in node.names
                    if a.name.startswith("mgps.samplers") or "._" in a.name
                ]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id == "mgps":
                    found.append(f"{_where(path, node)} mgps…{node.attr}")
    assert not found, "the app reaches into the library's internals:\n" + "\n".join(found)


# ---------------------------------------------------------------------------- one place per fact
def test_the_run_keywords_are_written_once():
    """``{"generator", "x_init", "num_samples"}`` lives in ``mgps/types.py`` only."""
    keywords = {"generator", "x_init", "num_samples"}
    homes = []
    for path in CODE_FILES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Set | ast.List | ast.Tuple) and len(node.elts) == 3:
                if {getattr(e, "value", None) for e in node.elts} == keywords:
                    homes.append(_where(path, node))
    assert len(homes) == 1 and homes[0].startswith("mgps/types.py:"), homes
    assert mgps.RUN_KEYWORDS == keywords


def _sigma_defaults(path: Path) -> list[str]:
    """Where ``path`` writes 0.05 as a σ_y: a parameter's default, a constant, a field, an
    option's default, a keyword or the noise level given to ``measure``."""
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.arguments):
            named = node.args[-len(node.defaults) :] if node.defaults else []
            pairs = list(zip(named, node.defaults, strict=True))
            pairs += list(zip(node.kwonlyargs, node.kw_defaults, strict=True))
            out += [_where(path, d) for a, d in pairs if "sigma" in a.arg and _is(d, 0.05)]
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _is(node.value, 0.05):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [ast.unparse(t).lower() for t in targets]
            out += [_where(path, node) for n in names if "sigma" in n]
        elif isinstance(node, ast.Call):
            text = ast.unparse(node.func)
            sigma_option = any(_is(a, "--sigma-y") for a in node.args)
            for kw in node.keywords:
                if _is(kw.value, 0.05) and (
                    (kw.arg or "").startswith("sigma") or (sigma_option and kw.arg == "default")
                ):
                    out.append(_where(path, node))
            if text.split(".")[-1] in ("measure", "make_instance", "_mixture"):
                if len(node.args) >= 3 and _is(node.args[2], 0.05):
                    out.append(_where(path, node))
    return out


def test_the_default_sigma_y_is_written_once():
    homes = [where for path in CODE_FILES for where in _sigma_defaults(path)]
    assert len(homes) == 1 and homes[0].startswith("mgps/types.py:"), homes
    assert mgps.DEFAULT_SIGMA_Y == 0.05


def test_the_sigma_check_the_interval_and_the_gpu_time_are_written_once():
    def files_with(text: str) -> list[str]:
        return [str(p.relative_to(ROOT)) for p in CODE_FILES if text in p.read_text()]

    assert files_with("must be in (0, 2]") == ["mgps/pipeline.py"]  # check_sigma_y
    assert files_with("ppf(0.975") == ["mgps/metrics.py"]  # t_interval
    assert files_with("1.96 *") == files_with("1.96*") == []
    gpu_times = []
    for path in APP_FILES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "min":
                if any(isinstance(a, ast.BinOp) and _is(a.left, 20) for a in node.args):
                    gpu_times.append(_where(path, node))
    assert len(gpu_times) == 1 and gpu_times[0].startswith("app/device.py:"), gpu_times


def test_the_interval_methods():
    from mgps.metrics import t_interval

    mean, half = t_interval([1.0, 2.0, 3.0, float("nan")])
    assert mean == 2.0 and half == pytest.approx(4.302652729911275 / 3**0.5)
    assert t_interval([1.0, 2.0, 3.0], method="normal")[1] == pytest.approx(1.96 / 3**0.5)
    with pytest.raises(ValueError, match="method must be one of student-t, normal"):
        t_interval([1.0, 2.0], method="z")


# ---------------------------------------------------------------------------- compatibility
def test_the_compatibility_examples_run():
    result = doctest.testmod(mgps.capabilities, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0


class _Reached(Exception):
    """Raised where a sampler has accepted its prior and operator (its time grid is next)."""


def _accepts(sampler: str, prior, problem, monkeypatch) -> tuple[bool, str]:
    """Whether ``sampler`` itself accepts ``prior`` and ``problem.operator``: its run stops
    right after the checks (no step is taken)."""

    def stop(*args, **kwargs):
        raise _Reached

    monkeypatch.setattr(common, "spaced_timesteps", stop)
    try:
        next(mgps.run(sampler, prior, problem, num_steps=2))
    except _Reached:
        return True, ""
    except ValueError as err:
        return False, str(err)
    raise AssertionError(f"{sampler} took a step without its checks")


def _operators(shape: tuple[int, ...]):
    for entry in mgps.OPERATORS:
        if "image" not in entry.tags or "needs-weights" in entry.tags:
            continue
        obj = entry.obj
        params = obj.example_params(shape) if hasattr(obj, "example_params") else {}
        yield entry.name, obj(shape, **params)


@pytest.mark.parametrize("kind", ["pixel", "latent"])
def test_the_query_agrees_with_what_every_sampler_accepts(kind, request, monkeypatch):
    """Every registered sampler × image operator, on a tiny prior of each kind: the query on
    names and tags (a registered prior of that kind, the operator's name) and on the objects
    gives the answer, and the message, of the sampler's own check."""
    prior = request.getfixturevalue(f"tiny_{kind}_prior")
    registered = next(e.name for e in mgps.PRIORS if kind in e.tags and "ecg" not in e.tags)
    assert mgps.is_latent(prior) == mgps.is_latent(registered) == (kind == "latent")
    shape = mgps.pipeline.image_shape_of(prior)
    x = torch.zeros(1, *shape)
    refused = 0
    for op_name, op in _operators(shape):
        problem = mgps.measure(x, op, mgps.DEFAULT_SIGMA_Y, torch.Generator().manual_seed(0))
        for sampler in mgps.SAMPLERS.names():
            accepted = _accepts(sampler, prior, problem, monkeypatch)
            by_name = tuple(mgps.compatibility(sampler, registered, op_name))
            by_object = tuple(mgps.compatibility(sampler, prior, op))
            assert by_name == by_object == accepted, (sampler, op_name)
            assert (sampler in mgps.compatible_samplers(registered, op_name)) == accepted[0]
            refused += not accepted[0]
    assert refused > 0  # the test saw refusals (prior kinds, nonlinear operators)


def test_the_query_names_what_is_wrong():
    ok, reason = mgps.compatibility("ddnm", "digits", "jpeg")
    assert not ok and not mgps.compatibility("ddnm", "digits", "jpeg")
    assert reason.startswith("DDNM+ needs a linear operator; 'jpeg' is nonlinear.")
    assert "Samplers that can run it: daps, dcps, dps, mgps" in reason
    ok, reason = mgps.compatibility("psld", "digits")
    assert not ok and "needs a latent diffusion prior" in reason
    # on a latent prior, the samplers offered instead are latent ones
    _, reason = mgps.compatibility("psld", "ldm-celebahq-256", "jpeg")
    assert reason.endswith("Samplers that can run it: daps, dps, mgps, pnpdm, resample.")
    assert mgps.compatibility("mgps", "digits", "jpeg") == (True, "")
    with pytest.raises(ValueError, match="unknown operator 'blurry'"):
        mgps.compatibility("mgps", "digits", "blurry")


# ---------------------------------------------------------------------------- initial noise
def test_initial_noise_as_x_init_gives_the_samples_of_the_seed():
    prior = mgps.gmm25(4, torch.Generator().manual_seed(0))
    A = mgps.MatrixOperator(torch.eye(4, dtype=torch.float64)[:2])
    problem = mgps.measure(prior.sample(1, torch.Generator().manual_seed(1)), A, 0.5)
    for sampler in ("dps", "mgps"):
        seeded = mgps.sample(
            sampler,
            prior,
            problem,
            num_steps=10,
            num_samples=3,
            generator=torch.Generator().manual_seed(2),
        )
        g = torch.Generator().manual_seed(2)
        x_init = mgps.initial_noise(prior, 3, g)
        assert x_init.shape == (3, 4) and x_init.dtype == prior.dtype
        given = mgps.sample(sampler, prior, problem, num_steps=10, x_init=x_init, generator=g)
        assert torch.equal(seeded, given), sampler
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        mgps.initial_noise(prior, 0)


def test_the_pipeline_with_the_noise_given_runs_as_with_the_seed():
    setup = prepare("digits", IMAGE, "box", seed=0)
    params = {"num_steps": 4}
    seeded = restore(setup, "dps", num_samples=2, params=params, seed=3)
    g = torch.Generator().manual_seed(3)
    x_init = mgps.initial_noise(setup.prior, 2, g)
    # what the Compare tab drew before it had the library's function: the same tensor
    old = torch.randn((2, *setup.prior.shape), generator=torch.Generator().manual_seed(3))
    assert torch.equal(x_init, old)
    given = restore(setup, "dps", num_samples=2, params=params, seed=3, generator=g, x_init=x_init)
    assert torch.equal(seeded.samples, given.samples)
    assert seeded.metrics["psnr"] == given.metrics["psnr"]
    assert "lpips" not in seeded.metrics and "lpips_note" not in seeded.metrics


def test_the_sampler_run_times_counts_and_checks():
    setup = prepare("digits", IMAGE, "box", seed=0)
    with pytest.raises(ValueError, match="DPS has no parameter\\(s\\) x_init, zeta; valid:"):
        SamplerRun("dps", setup.prior, setup.problem, params={"zeta": 1, "x_init": None})
    params = {**settings("dps", "box"), "num_steps": 3}  # what restore_stream runs
    steps = SamplerRun(
        "dps",
        setup.prior,
        setup.problem,
        params=params,
        num_samples=2,
        generator=torch.Generator().manual_seed(0),
    )
    with pytest.raises(mgps.SamplerDivergedError, match="produced no step"):
        steps.samples()
    assert [s.index for s in steps] == [0, 1, 2]
    assert steps.samples().shape == (2, *setup.prior.shape)
    assert steps.seconds > 0 and steps.network_calls == 3 and 1 <= steps.vjps <= 3
    stream = list(restore_stream(setup, "dps", num_samples=2, params={"num_steps": 3}, seed=0))
    assert torch.equal(stream[-1].samples, steps.samples().clamp(-1, 1))
