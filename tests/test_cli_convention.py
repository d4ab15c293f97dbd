"""One command-line convention (mgps/arguments.py) across every ``mgps`` command and every
``scripts/*.py``: an option says what it counts, per-sampler settings go through one grammar,
and there is one device option. The parsers are built, not run: each script runs until its
first ``parse_args``, which hands the parser over instead of parsing."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from conftest import script_parser

from mgps.arguments import (
    device_name,
    param_item,
    params_for,
    sampler_overrides,
    steps_by_sampler,
    steps_for,
    steps_item,
)
from mgps.cli import build_parser, main
from mgps.registry import SAMPLERS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.py") if "argparse" in p.read_text())

# Counts spelt as a bare plural: each is --n-<noun> (a bare plural is a list: --seeds 0 1 2).
COUNTED = {"samples", "images", "instances", "problems", "runs", "slices", "digits", "seeds"}
SHARED_TYPES = {"--steps": steps_item, "--param": param_item, "--device": device_name}


def _walk(parser: argparse.ArgumentParser, name: str):
    """(command name, option) for every option of ``parser`` and its sub-commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _walk(sub, f"{name} {sub_name}")
        elif action.option_strings:
            yield name, action


def _violations(parser: argparse.ArgumentParser, name: str) -> list[str]:
    found = []
    for command, action in _walk(parser, name):
        for option in action.option_strings:
            noun = option.removeprefix("--")
            if option in ("--n", "--samples"):
                found.append(f"{command}: {option} does not say what it counts")
            elif noun in COUNTED and action.type is int and action.nargs is None:
                found.append(f"{command}: {option} is a count; name it --n-{noun}")
            shared = SHARED_TYPES.get(option)
            if shared is not None and action.type is not shared:
                found.append(
                    f"{command}: {option} is not the shared one of mgps.arguments "
                    f"({shared.__name__})"
                )
    return found


def test_every_mgps_command_follows_the_convention():
    parser = build_parser()
    assert _violations(parser, "mgps") == []
    options = {a.option_strings[0] for _, a in _walk(parser, "mgps")}
    assert {"--steps", "--param", "--device"} <= options  # the walk reaches the sub-commands


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_every_script_follows_the_convention(path, monkeypatch):
    assert _violations(script_parser(path, monkeypatch), path.name) == []


def test_the_convention_catches_a_stray_option():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int)
    p.add_argument("--seeds", type=int)
    p.add_argument("--steps", type=int)
    p.add_argument("--device", choices=["cpu", "cuda"])
    assert len(_violations(p, "x")) == 4


def test_top_level_help_states_the_convention(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for shape in ("--steps SAMPLER=K", "--param SAMPLER:NAME=VALUE", "--device", "--n-samples"):
        assert shape in text


def test_steps_one_grammar_for_one_sampler_and_many():
    items = [steps_item("100"), steps_item("mgps=50")]
    assert steps_for(items, "mgps") == 50 and steps_for(items[::-1], "mgps") == 50
    assert steps_for([steps_item("100")], "dps") == 100
    assert steps_for(None, "dps", 7) == 7
    with pytest.raises(ValueError, match="runs 'dps'"):
        steps_for(items, "dps")
    assert steps_by_sampler(items) == ({"mgps": 50}, 100)
    for bad in ("", "mgps=", "mgps=ten", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="--steps expects"):
            steps_item(bad)
    with pytest.raises(KeyError):
        steps_by_sampler([steps_item("nosuch=5")])


def test_param_one_grammar_for_one_sampler_and_many():
    mgps = SAMPLERS["mgps"]
    assert params_for(mgps, [param_item("midpoint=0.25")]) == {"midpoint": 0.25}
    assert params_for(mgps, [param_item("mgps:midpoint=0.25"), param_item("midpoint=0.5")]) == {
        "midpoint": 0.25
    }
    with pytest.raises(ValueError, match="runs 'mgps'"):
        params_for(mgps, [param_item("dps:num_steps=5")])
    table = sampler_overrides([param_item("num_steps=7"), param_item("mgps:num_steps=9")])
    assert table["mgps"] == {"num_steps": 9} and table["dps"] == {"num_steps": 7}
    assert set(sampler_overrides([param_item("num_steps=7")], ["dps"])) == {"dps"}
    with pytest.raises(ValueError, match="no sampler here"):
        sampler_overrides([param_item("nosuch=1")])
    item = param_item("path/to/file.py:fn:eta=0.5")  # validate's --sampler spec as the prefix
    assert (item.sampler, item.name, item.value) == ("path/to/file.py:fn", "eta", "0.5")
    for bad in ("eta", "=3", "mgps:=3"):
        with pytest.raises(argparse.ArgumentTypeError, match="--param expects"):
            param_item(bad)


def test_device_option_is_checked_when_parsed(capsys):
    assert device_name(" CUDA:1 ") == "cuda:1"
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["gmm", "sample", "--problem", "p", "--sampler", "mgps",
                                   "--out", "o", "--device", "gpu"])  # fmt: skip
    assert exit_.value.code == 2
    assert "unknown device 'gpu'" in capsys.readouterr().err


def test_restore_refuses_steps_for_another_sampler(capsys):
    code = main(["restore", "--prior", "digits", "--operator", "box", "--sampler", "mgps",
                 "--image", "x.png", "--steps", "dps=5", "--out", "o"])  # fmt: skip
    assert code == 2
    assert "names the sampler 'dps', but this command runs 'mgps'" in capsys.readouterr().err
