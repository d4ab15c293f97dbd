"""The Space as it is pushed: ``mgps space deploy --dry-run`` lists exactly the files a launched
app opens when every tab is used (plus its card, requirements and licences), the upload goes
through ``HfApi.upload_folder`` (mocked: no network here) with a clear message when offline or
not logged in, and every tracked binary file is stored through LFS by ``.gitattributes``
while staying a real file in this checkout."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mgps import cli, space

ROOT = Path(__file__).resolve().parents[1]


def test_dry_run_lists_exactly_what_the_launched_app_opens(tmp_path, capsys):
    out = tmp_path / "opened.txt"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("GRADIO_MCP_SERVER", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "record_app_files.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    used = set(out.read_text().split())
    assert "app.py" in used and any(f.endswith(".safetensors") for f in used)
    assert cli.main(["space", "deploy", "--repo", "someone/mgps", "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    listed = [line.split(None, 1)[1] for line in printed[:-1]]
    assert listed == space.space_files()
    total = sum((ROOT / f).stat().st_size for f in listed)
    assert printed[-1] == f"{len(listed)} files, {total / 2**20:.1f} MB in all"
    missing = used - set(listed)
    assert not missing, f"the app opens files the Space would not get: {sorted(missing)}"
    unused = {
        f for f in set(listed) - used if not any(fnmatch.fnmatchcase(f, p) for p in space.DOCUMENTS)
    }
    assert not unused, f"dead weight in the Space (never opened): {sorted(unused)}"
    # the one result the app shows (app/tradeoff_charts.py)
    shown = "results/tradeoff_teaching/teaching.json"
    assert not any(
        f.startswith(("tests/", "results/", "assets/data/")) and f != shown for f in listed
    )


class FakeApi:
    """``HfApi`` without the network: records what deploy asks of it."""

    calls: list[tuple[str, tuple, dict]] = []
    whoami_error: Exception | None = None

    def __init__(self, *args, **kwargs) -> None:
        pass

    def whoami(self, *args, **kwargs):
        if FakeApi.whoami_error is not None:
            raise FakeApi.whoami_error
        return {"name": "someone"}

    def create_repo(self, *args, **kwargs):
        FakeApi.calls.append(("create_repo", args, kwargs))

    def upload_folder(self, *args, **kwargs):
        FakeApi.calls.append(("upload_folder", args, kwargs))
        return "https://huggingface.co/spaces/someone/mgps/commit/0"


@pytest.fixture
def fake_hub(monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    FakeApi.calls = []
    FakeApi.whoami_error = None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return FakeApi


def test_deploy_uploads_the_list_to_a_gradio_space(fake_hub, capsys):
    assert cli.main(["space", "deploy", "--repo", "someone/mgps"]) == 0
    (name, _, create), (upload_name, _, upload) = fake_hub.calls
    assert name == "create_repo" and upload_name == "upload_folder"
    assert create["repo_type"] == "space" and create["space_sdk"] == "gradio"
    assert upload["repo_id"] == "someone/mgps" and upload["repo_type"] == "space"
    assert Path(upload["folder_path"]) == ROOT
    assert upload["allow_patterns"] == space.space_files()
    assert "spaces/someone/mgps" in capsys.readouterr().out


def test_deploy_says_what_to_do_when_offline_or_not_logged_in(fake_hub, monkeypatch, capsys):
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalTokenNotFoundError

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert cli.main(["space", "deploy", "--repo", "someone/mgps"]) == 2
    assert "HF_HUB_OFFLINE is set" in capsys.readouterr().err
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    fake_hub.whoami_error = LocalTokenNotFoundError("no token")
    assert cli.main(["space", "deploy", "--repo", "someone/mgps"]) == 2
    err = capsys.readouterr().err
    assert "not logged in" in err and "hf auth login" in err and "Traceback" not in err
    fake_hub.whoami_error = OSError("Name or service not known")
    assert cli.main(["space", "deploy", "--repo", "someone/mgps"]) == 2
    assert "cannot reach the Hugging Face Hub" in capsys.readouterr().err
    assert fake_hub.calls == []  # nothing was created or uploaded


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _is_binary(path: Path) -> bool:
    with open(path, "rb") as f:
        return b"\0" in f.read(8000)  # git's own test


def test_every_tracked_binary_file_is_stored_through_lfs():
    try:
        tracked = _git("ls-files", "-z").split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    binaries = [f for f in tracked if f and (ROOT / f).is_file() and _is_binary(ROOT / f)]
    assert any(f.endswith(".safetensors") for f in binaries)
    attrs = _git("check-attr", "filter", "--", *binaries).splitlines()
    uncovered = [line.split(":")[0] for line in attrs if not line.endswith(": filter: lfs")]
    assert not uncovered, f"binary files not stored through LFS by .gitattributes: {uncovered}"
    # ... while this checkout holds the files themselves, not LFS pointers
    for f in binaries:
        with open(ROOT / f, "rb") as fh:
            assert not fh.read(40).startswith(b"version https://git-lfs"), f
