"""Tables through ``accelerate launch``: N processes write the numbers one process writes, a
killed run resumes without recomputing its finished cells, and a device that is not there is
refused at once. The commands run as a user runs them, in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mgps.cli import main
from mgps.paper.cells import Cell, deal, run_cells

ROOT = Path(__file__).resolve().parents[1]
# The command, with fewer sampler steps so that a run takes seconds on 2 cores.
TABLE = [
    *("gmm", "table", "--settings", "8x2", "--n-instances", "2", "--samplers", "mgps,dps"),
    *("--n-samples", "200", "--param", "mgps:num_gradient_steps_initial=2"),
    *("--param", "mgps:num_steps=20", "--param", "dps:num_steps=50"),
]


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("ACCELERATE_USE_CPU", None)
    return env


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _mgps(*args: str, launch: list[str] | None = None, **kw) -> subprocess.CompletedProcess:
    if launch is None:
        cmd = [sys.executable, "-m", "mgps", *args]
    else:
        port = ["--main_process_port", _free_port()]
        cmd = [sys.executable, "-m", "accelerate.commands.launch", *launch, *port, "-m", "mgps"]
        cmd += args
    return subprocess.run(
        cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600, **kw
    )


def _numbers(out: Path) -> tuple[dict, list]:
    result = json.loads((out / "gmm_table.json").read_text())
    summary = {
        setting: {name: (row["sw_mean"], row["sw_ci95"], row["runs"]) for name, row in rows.items()}
        for setting, rows in result["summary"].items()
    }
    records = [(r["instance"], r["sampler"], r["sw"]) for r in result["records"]]
    return summary, records


def test_two_processes_write_the_numbers_of_one(tmp_path):
    one = _mgps(*TABLE, "--out", str(tmp_path / "B"))
    assert one.returncode == 0, one.stderr
    assert "%|" not in one.stderr  # no bars when stderr is not a terminal
    assert "d=8 d_y=2 instance 1: dps" in one.stdout  # a line per finished cell
    # The command: accelerate launch --cpu starts one process (several only through
    # mpirun), and the table says so.
    cpu = _mgps(*TABLE, "--out", str(tmp_path / "A"), launch=["--num_processes", "2", "--cpu"])
    assert cpu.returncode == 0, cpu.stderr
    assert "accelerate launch started one process" in cpu.stderr
    # Two CPU processes on a machine without GPUs.
    two = _mgps(
        *TABLE, "--out", str(tmp_path / "C"), launch=["--multi_gpu", "--num_processes", "2"]
    )
    assert two.returncode == 0, two.stderr
    assert _numbers(tmp_path / "A") == _numbers(tmp_path / "B") == _numbers(tmp_path / "C")
    for run, processes in (("B", {0}), ("C", {0, 1})):
        cells = [json.loads(p.read_text()) for p in (tmp_path / run / "cells/gmm_table").iterdir()]
        assert len(cells) == 6 and {c["process"] for c in cells} == processes
    assert two.stdout.count("| d=8, d_y=2 |") == 2  # the table, printed once (and its seconds)
    assert "[1/2]" in two.stdout and "[2/2]" in two.stdout
    assert json.loads((tmp_path / "C/gmm_table.json").read_text())["config"]["processes"] == 2


def test_a_killed_table_resumes_without_redoing_finished_cells(tmp_path):
    out = tmp_path / "T"
    cells = out / "cells" / "gmm_table"
    slow = [*TABLE[:-4], "--param", "mgps:num_steps=100", "--param", "dps:num_steps=300"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgps", *slow, "--out", str(out)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (cells.is_dir() and any(cells.glob("*.json"))):
            assert proc.poll() is None and time.monotonic() < deadline, "no cell was written"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    finished = {p.name: p.read_bytes() for p in cells.glob("*.json")}
    assert 1 <= len(finished) < 6, sorted(finished)
    again = _mgps(*slow, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert f"{len(finished)} of 6 cells already in" in again.stdout
    for name, content in finished.items():  # not recomputed: the same file, byte for byte
        assert (cells / name).read_bytes() == content
    assert len(list(cells.glob("*.json"))) == 6
    result = json.loads((out / "gmm_table.json").read_text())
    assert [r["sampler"] for r in result["records"]] == 2 * [
        "exact posterior",
        "prior",
        "mgps",
        "dps",
    ]
    assert all(row["runs"] == 2 for row in result["summary"]["d=8,d_y=2"].values())


def test_a_cell_is_recomputed_when_its_settings_change(tmp_path):
    cells = [Cell("a", {"x": 1}), Cell("b", {"x": 2})]
    calls = []

    def compute(cell, on_step):
        calls.append(cell.key)
        return [{"key": cell.key, "value": cell.spec["x"] * 10.0}]

    assert run_cells(tmp_path, "t", cells, compute, log=None) == [
        {"key": "a", "value": 10.0},
        {"key": "b", "value": 20.0},
    ]
    changed = [Cell("a", {"x": 1}), Cell("b", {"x": 3})]
    assert run_cells(tmp_path, "t", changed, compute, log=None)[1]["value"] == 30.0
    assert calls == ["a", "b", "b"]
    with pytest.raises(ValueError, match="share the file name"):
        run_cells(tmp_path, "t", [Cell("a/b", {}), Cell("a b", {})], compute, log=None)


def test_cells_are_dealt_like_cards():
    assert deal(list(range(7)), 3) == [0, 3, 6, 1, 4, 2, 5]
    assert deal([1, 2], 4) == [1, 2]


def test_restore_on_a_device_that_is_not_there_says_which_are(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    image = str(ROOT / "assets" / "examples" / "digit_3_1.png")
    args = ["restore", "--prior", "digits", "--operator", "box", "--sampler", "mgps"]
    run = _mgps(*args, "--device", "cuda", "--image", image, "--out", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.startswith("error: device 'cuda' is not available")
    assert "Devices here: cpu" in run.stderr and "Traceback" not in run.stderr
    assert not any(tmp_path.iterdir())
    with pytest.raises(SystemExit) as exit_:  # not a device name: refused by the parser
        main([*args, "--device", "tpu", "--image", image, "--out", str(tmp_path)])
    assert exit_.value.code == 2


def test_progress_bars_count_the_steps_and_keep_quiet_when_asked(capsys):
    import mgps
    from mgps.progress import bars_wanted, step_bar

    prior = mgps.gmm25(2, torch.Generator().manual_seed(0))
    A = mgps.MatrixOperator(torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    problem = mgps.measure(prior.sample(1, torch.Generator().manual_seed(1)), A, 0.5)
    kwargs = dict(num_steps=12, num_samples=3, generator=torch.Generator().manual_seed(2))
    assert not bars_wanted(quiet=True)
    with step_bar(enabled=True, desc="dps") as on_step:
        x = mgps.sample("dps", prior, problem, on_step=on_step, **kwargs)
    assert "| 0/12 [" in capsys.readouterr().err  # a bar of 12 steps, cleared when done

    kwargs["generator"] = torch.Generator().manual_seed(2)
    with step_bar(enabled=False) as on_step:
        assert on_step is None
        assert torch.equal(mgps.sample("dps", prior, problem, on_step=on_step, **kwargs), x)
    assert capsys.readouterr().err == ""


def test_pick_device_names_the_devices_that_are_there(monkeypatch):
    from mgps.devices import DeviceUnavailableError, parse_dtype, pick_device

    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        pick_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with 2 GPUs
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert pick_device("auto") == torch.device("cuda", 0)
    assert pick_device("cuda", index=3) == torch.device("cuda", 1)  # 4 processes on 2 GPUs
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(
        DeviceUnavailableError, match="has 2 CUDA devices. Devices here: cpu, cuda:0, cuda:1"
    ):
        pick_device("cuda:2")
    assert parse_dtype("bfloat16") is torch.bfloat16 and parse_dtype(None) is torch.float32
    with pytest.raises(ValueError, match="use one of float32, float16, bfloat16"):
        parse_dtype("float64")
