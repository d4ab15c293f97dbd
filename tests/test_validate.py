"""``mgps validate`` on a sampler written outside the package, as a user would write it."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from mgps.cli import main

USER_MODULE = textwrap.dedent(
    '''
    """A posterior sampler written outside mgps, against its generator interface only."""
    import math

    import torch

    from mgps import Step


    def guided_ddim(prior, problem, *, num_steps=100, step_size=0.5, num_samples=1, generator=None):
        """DDIM with a DPS-like likelihood step on the Tweedie estimate."""
        acp = prior.alphas_cumprod
        T = acp.numel() - 1
        times = [round(k * T / num_steps) for k in range(num_steps + 1)]
        dtype = getattr(prior, "dtype", torch.float32)
        x = torch.randn((num_samples, *prior.shape), generator=generator, dtype=dtype)
        for k in range(num_steps, 0, -1):
            t, s = times[k], times[k - 1]
            with torch.enable_grad():
                x = x.detach().requires_grad_(True)
                x0 = prior.x0_pred(x, t)
                loss = problem.residual(x0).flatten(1).pow(2).sum()
                (grad,) = torch.autograd.grad(loss, x)
            a_t, a_s = float(acp[t]), float(acp[s])
            eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
            x = (math.sqrt(a_s) * x0 + math.sqrt(1 - a_s) * eps).detach()
            x = x - step_size * (1 - a_t) * grad / (2 * problem.sigma_y**2 * num_steps)
            yield Step(num_steps - k, num_steps, s, x, x0.detach())


    def wrong_shape(prior, problem, *, num_samples=1, generator=None):
        yield Step(0, 1, 0, torch.zeros(num_samples, 3), torch.zeros(num_samples, 3))


    def not_a_generator(prior, problem, *, num_samples=1, generator=None):
        return torch.zeros(num_samples, *prior.shape)
    '''
)


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my_sampler.py"
    path.write_text(USER_MODULE)
    return path


def test_validate_a_sampler_from_a_file(user_file, tmp_path, capsys):
    out = tmp_path / "report"
    args = ["validate", "--sampler", f"{user_file}:guided_ddim", "--param", "num_steps=60"]
    args += ["--compare", "ddnm", "--problems", "mixture-d10,gaussian-d16", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"**{user_file}:guided_ddim** (checked)" in printed
    assert "| DDNM+ |" in printed and "exact (Monte-Carlo floor)" in printed
    report = json.loads((out / "validate.json").read_text())
    rows = {(r["problem"], r["sampler"]): r for r in report["records"]}
    for problem in ("mixture-d10", "gaussian-d16"):
        mine = rows[(problem, f"{user_file}:guided_ddim")]
        floor, prior = (
            rows[(problem, "exact (Monte-Carlo floor)")],
            rows[(problem, "prior (scale)")],
        )
        assert mine["error"] == "" and mine["params"] == {"num_steps": 60}
        assert floor["sw"] < prior["sw"] and mine["seconds"] > 0
        assert mine["sw"] < prior["sw"]  # it uses the observation: closer than the prior
    assert (out / "validate.md").read_text().startswith("| sampler |")


def test_validate_a_module_on_the_path_and_failures(user_file, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(user_file.parent))
    assert (
        main(
            [
                "validate",
                "--sampler",
                "my_sampler:wrong_shape",
                "--compare",
                "none",
                "--problems",
                "gaussian-d16",
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "failed" in printed
    assert "it returned samples of shape (1000, 3), expected (1000, 16)" in printed
    assert (
        main(
            [
                "validate",
                "--sampler",
                "my_sampler:not_a_generator",
                "--compare",
                "none",
                "--problems",
                "gaussian-d16",
                "--quiet",
            ]
        )
        == 0
    )
    assert "not a generator of mgps.Step" in capsys.readouterr().out


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nonsense", "is neither a registered sampler"),
        ("no_such_module_xyz:fn", "cannot import 'no_such_module_xyz'"),
        ("missing.py:fn", "the file 'missing.py' does not exist"),
        ("{file}:nope", "has no 'nope'; its functions: .*guided_ddim"),
    ],
)
def test_validate_bad_specs_have_clear_messages(spec, message, user_file, capsys):
    spec = spec.format(file=user_file)
    assert main(["validate", "--sampler", spec, "--problems", "gaussian-d16"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --sampler") and re.search(message, err)


def test_validate_bad_params_and_problems(user_file, capsys):
    base = ["validate", "--sampler", f"{user_file}:guided_ddim", "--compare", "none"]
    assert main([*base, "--param", "steps=3"]) == 2
    assert (
        "has no parameter 'steps'; its parameters: prior, problem, num_steps"
        in capsys.readouterr().err
    )
    assert main([*base, "--problems", "mixture-d7"]) == 2
    assert "unknown problem(s) mixture-d7; choose from mixture-d10" in capsys.readouterr().err
    assert main([*base, "--compare", "dpss"]) == 2
    assert "unknown sampler 'dpss'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # refused by the parser, with the usage line
        main([*base, "--device", "tpu9"])
    assert exit_.value.code == 2 and "unknown device 'tpu9'" in capsys.readouterr().err


def test_validate_a_registered_sampler_uses_its_benchmark_settings(capsys):
    assert (
        main(
            [
                "validate",
                "--sampler",
                "dcps",
                "--compare",
                "none",
                "--problems",
                "gaussian-d16",
                "--param",
                "num_steps=50",
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "| **DCPS** (checked) |" in printed
