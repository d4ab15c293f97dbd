"""The README's library quick start runs as printed and prints the output the README quotes."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Library quick start", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    quoted = re.search(r"It prints.*?```text\n(.*?)```", section, re.S).group(1)
    return code, quoted


def test_readme_snippet_prints_what_the_readme_quotes():
    code, quoted = _blocks()
    assert "num_gradient_steps_initial=20" in code  # the Table 1 configuration it names
    done = subprocess.run(
        [sys.executable, "-c", code],  # as printed
        capture_output=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == quoted.splitlines()
    assert [line.split()[0] for line in quoted.splitlines()] == ["MGPS", "PGDM", "exact", "prior"]
