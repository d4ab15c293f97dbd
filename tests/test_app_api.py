"""The app as scripts and agents call it, and as a careless client does: the README's
``gradio_client`` example runs against the launched app; the MCP schema (``GRADIO_MCP_SERVER``)
lists restore, compare and the trade-off with typed, described parameters; careless inputs
(lists for names, ``"false"`` for booleans, a 1 MB name, too many layers, too many pixels,
16-bit and float images) each get a short message and no traceback in the log; refused calls
from new visitors leave memory flat."""

from __future__ import annotations

import logging
import os
import re
import uuid
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "assets" / "examples" / "digit_3_1.png"


@pytest.fixture(scope="module")
def server(app_main):
    """The app launched as an MCP server too (GRADIO_MCP_SERVER=True, as a user would set it),
    its URL and a client."""
    from gradio_client import Client

    old = os.environ.get("GRADIO_MCP_SERVER")
    os.environ["GRADIO_MCP_SERVER"] = "True"
    demo = app_main.build_demo()
    try:
        _, url, _ = demo.launch(
            prevent_thread_lock=True,
            quiet=True,
            server_name="127.0.0.1",
            **app_main.launch_kwargs(),
        )
    finally:
        if old is None:
            os.environ.pop("GRADIO_MCP_SERVER")
        else:
            os.environ["GRADIO_MCP_SERVER"] = old
    client = Client(url, verbose=False)
    try:
        yield demo, url, client
    finally:
        client.close()
        demo.close()


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- api-example.*?-->\s*```python\n(.*?)```", text, re.S)
    assert block, "the README's Python example (after <!-- api-example -->)"
    return block.group(1)


def test_the_readme_python_example_runs_against_the_launched_app(server, monkeypatch, capsys):
    _, url, _ = server
    code = readme_example()
    assert 'Client("http://127.0.0.1:7860/")' in code
    monkeypatch.chdir(ROOT)  # its image path is the checkout's
    scope: dict = {}
    exec(code.replace("http://127.0.0.1:7860/", url), scope)  # noqa: S102 - our README
    assert "done" in scope["status"]
    assert len(scope["metrics"]["psnr"]) == 2
    restoration = np.asarray(Image.open(scope["restoration"]))
    assert restoration.shape == (224, 224)
    assert Path(scope["observation"]).is_file()
    with zipfile.ZipFile(scope["archive"]) as archive:
        names = {Path(name).name for name in archive.namelist()}
    assert {"observation.png", "mean.png", "metrics.json"} <= names
    assert "MGPS: done" in capsys.readouterr().out


def test_the_mcp_schema_lists_the_tools_with_typed_documented_parameters(server):
    import httpx

    _, url, _ = server
    tools = {t["name"]: t for t in httpx.get(url + "gradio_api/mcp/schema", timeout=30).json()}
    assert {"restore", "compare", "tradeoff", "ecg"} <= set(tools)
    assert not {name for name in tools if name not in {"restore", "compare", "tradeoff", "ecg"}}
    restore = tools["restore"]
    assert restore["description"].startswith("Restore an image with a diffusion prior")
    props = restore["inputSchema"]["properties"]
    assert "mgps" in props["sampler"]["enum"] and props["sampler"]["type"] == "string"
    assert props["sigma_y"]["type"] == "number" and "noise" in props["sigma_y"]["description"]
    assert "MGPS only" in props["mgps__num_steps"]["description"]
    assert props["mgps__warm_start"]["type"] == "boolean"
    for name, tool in tools.items():
        for param, schema in tool["inputSchema"]["properties"].items():
            assert schema.get("description"), f"{name}.{param} has no description"
    assert tools["compare"]["inputSchema"]["properties"]["samplers"]["type"] == "array"
    assert tools["tradeoff"]["inputSchema"]["properties"]["eta"]["type"] == "number"


def editor(background: Path, layers: list[Path] = ()) -> dict:
    from gradio_client import handle_file

    return {
        "background": handle_file(str(background)),
        "layers": [handle_file(str(p)) for p in layers],
        "composite": None,
    }


def png16(path: Path, arr: np.ndarray) -> None:
    """A 16-bit PNG of ``arr`` ((H, W, C) uint16, C = 1..4): Pillow writes no 16-bit RGBA."""
    import struct
    import zlib

    h, w, c = arr.shape
    rows = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("careless")
    digit = np.asarray(Image.open(DIGIT).convert("L"))
    Image.fromarray(digit.astype(np.uint16) * 257).save(root / "digit16.png")  # I;16
    assert Image.open(root / "digit16.png").mode.startswith("I")
    rgba = np.stack([digit] * 3 + [np.full_like(digit, 255)], axis=-1).astype(np.uint16) * 257
    png16(root / "digit_rgba16.png", rgba)
    Image.fromarray(digit.astype(np.float32) * 4).save(root / "hot.tiff")  # F, up to 1020
    stroke = np.zeros((28, 28, 4), np.uint8)
    stroke[9:17, 4:22] = (255, 45, 85, 255)
    Image.fromarray(stroke).save(root / "stroke.png")
    Image.fromarray(np.zeros((600, 600, 4), np.uint8)).save(root / "big_layer.png")
    return root


def careless_calls(images: Path) -> dict[str, tuple[dict, dict, str]]:
    """Each case: (editor, keyword arguments, what the message says)."""
    box = dict(operator="box", sampler="ddnm", num_samples=1, ddnm__num_steps=2)
    return {
        "a list for a name": (editor(DIGIT), {**box, "sampler": ["mgps"]}, "sampler takes one"),
        "a 1 MB name": (editor(DIGIT), {**box, "prior": "x" * 2**20}, "prior must be one of"),
        "a boolean that is neither": (
            editor(DIGIT),
            {**box, "sampler": "mgps", "mgps__warm_start": "maybe", "mgps__num_steps": 2},
            "mgps__warm_start must be true or false",
        ),
        "text for a number": (editor(DIGIT), {**box, "seed": "abc"}, "seed must be a number"),
        "too many layers": (
            editor(DIGIT, [images / "stroke.png"] * 3),
            {**box, "operator": "mask"},
            "at most 2",
        ),
        "too many pixels": (
            editor(DIGIT, [images / "big_layer.png"]),
            {**box, "operator": "mask"},
            "megapixels together",
        ),
        "a float image out of range": (editor(images / "hot.tiff"), box, "outside 0..1"),
    }


def test_careless_inputs_get_a_short_message_and_no_traceback(
    server, images, monkeypatch, capfd, caplog
):
    from gradio_client.exceptions import AppError

    from app import limits

    _, _, client = server
    monkeypatch.setattr(limits, "MAX_REQUEST_MEGAPIXELS", 0.3)  # 600×600 + 28×28 is over
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="app"):
        for case, (value, kwargs, says) in careless_calls(images).items():
            with pytest.raises(AppError) as err:
                client.predict(value, api_name="/restore", **kwargs)
            message = str(err.value)
            assert says in message, (case, message)
            assert len(message) <= limits.MAX_MESSAGE + 40, case
        # the other endpoints read their inputs as strictly
        with pytest.raises(AppError, match="samplers takes a list of names"):
            client.predict(editor(DIGIT), samplers="mgps", api_name="/compare")
        with pytest.raises(AppError, match="sampler takes one name"):
            client.predict(sampler=["mgps"], api_name="/tradeoff")
    log = capfd.readouterr().err
    assert "Traceback" not in log, log[-3000:]
    refused = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refused) >= 9 and all(r.levelno == logging.INFO for r in refused)
    assert all(len(r.getMessage()) < 600 for r in refused)  # the 1 MB name is not logged whole


def test_false_means_false_and_16_bit_images_keep_their_range(server, images):
    _, _, client = server
    common = dict(operator="box", num_samples=1, seed=3, api_name="/restore")
    runs = {
        flag: client.predict(
            editor(DIGIT),
            sampler="mgps",
            mgps__num_steps=2,
            mgps__warm_start=flag,
            **common,
        )[8]  # the metrics (the slider and the archive follow)
        for flag in ("false", "0")
    }
    assert all(m["params"]["warm_start"] is False for m in runs.values())
    # 16-bit PNGs (gray, RGBA) of the digit restore as the 8-bit digit does (not white)
    out8 = client.predict(editor(DIGIT), sampler="ddnm", **common)
    obs8 = np.asarray(Image.open(out8[1]), dtype=float)
    for name in ("digit16.png", "digit_rgba16.png"):
        out16 = client.predict(editor(images / name), sampler="ddnm", **common)
        obs16 = np.asarray(Image.open(out16[1]), dtype=float)
        assert obs16.mean() < 200 and np.abs(obs16 - obs8).max() <= 2, name
        assert out16[8]["psnr"] == pytest.approx(out8[8]["psnr"], abs=0.05), name


def refused_call(url: str, fn_index: int, n_inputs: int) -> str:
    """One call from a new visitor (a fresh session) that the app refuses: an unknown sampler."""
    import httpx

    session = uuid.uuid4().hex[:11]
    data: list = [None] * n_inputs
    data[3] = "no-such-sampler"
    httpx.post(
        url + "gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session},
        timeout=30,
    ).raise_for_status()
    with httpx.stream(
        "GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=30
    ) as stream:
        for line in stream.iter_lines():
            if "process_completed" in line:
                return line
    raise AssertionError("no answer")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_growth(server, calls: int) -> float:
    """RSS growth (MB) over ``calls`` refused calls from new visitors, after as many calls as
    the server keeps visitors (their state is what grows until then)."""
    from app import limits

    demo, url, _ = server
    fn_index, fn = next((i, f) for i, f in demo.fns.items() if f.api_name == "restore")
    n_inputs = len(fn.inputs)
    assert "no-such-sampler" in refused_call(url, fn_index, n_inputs)
    for _ in range(limits.STATE_SESSIONS + 5):
        refused_call(url, fn_index, n_inputs)
    before = rss_mb()
    for _ in range(calls):
        refused_call(url, fn_index, n_inputs)
    assert len(demo.state_holder.session_data) <= limits.STATE_SESSIONS
    return rss_mb() - before


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_refused_calls_from_new_visitors_leave_memory_flat(server):
    # at 0.5 MB a visitor (gradio's default capacity) 80 calls would add 40 MB
    growth = memory_growth(server, 80)
    print(f"RSS growth over 80 refused calls from new visitors: {growth:.1f} MB")
    assert growth < 12, f"{growth:.1f} MB more after 80 refused calls"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_a_thousand_refused_calls_leave_memory_flat(server):
    growth = memory_growth(server, 1000)
    print(f"RSS growth over 1000 refused calls from new visitors: {growth:.1f} MB")
    assert growth < 30, f"{growth:.1f} MB more after 1000 refused calls"
