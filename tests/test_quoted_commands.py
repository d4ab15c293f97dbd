"""Every command the project quotes (scripts/*.sh, results/**/*.sh, and the code spans and blocks of
README.md, results/**/README.md, scripts/README.md and docs/) parses with today's options: a
renamed option cannot leave a stale command behind. The commands are parsed, not run."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
from conftest import script_parser

from mgps.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
SHELL = sorted([*ROOT.glob("scripts/*.sh"), *ROOT.glob("results/**/*.sh")])
DOCS = sorted(
    [ROOT / "README.md", ROOT / "scripts" / "README.md", *ROOT.glob("results/**/README.md")]
    + [*ROOT.glob("docs/*.md")]
)
# a span that stands for many commands, not one: placeholders and elisions
PLACEHOLDER = re.compile(r"…|\.\.\.|\bDIR\b|\bP\b|\bTASK\b|\bFILE\b|\[|<|\|")


def _shell_commands(path: Path) -> list[str]:
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    variables: dict[str, str] = {}

    def expand(line: str) -> str:
        line = re.sub(r'"?\$(@|\{[A-Za-z_]+\[@\]\})"?', "", line)  # a function's or array's words
        line = re.sub(r"\$\{[A-Za-z_]+:-([^}]*)\}", r"\1", line)  # ${VAR:-default}
        return re.sub(r"\$\{?([A-Za-z_]+)\}?", lambda m: variables.get(m[1], "x"), line)

    out = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        assignment = re.fullmatch(r"([A-Z_]+)=(\S+)", line)
        if assignment:
            variables[assignment[1]] = expand(assignment[2]).strip("\"'")
            continue
        for part in re.split(r"&&|;|\|\|", expand(line)):
            part = re.sub(r"^\s*(do|then|else)\s+", "", part.strip())
            env = r"(nice |OMP_NUM_THREADS=\S+ |HF_HUB_OFFLINE=\S+ )*"
            if re.match(env + r"(python3? (-m mgps |scripts/)|mgps )", part):
                out.append(part)
    return out


def _doc_commands(path: Path) -> list[str]:
    text = path.read_text()
    fenced = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    lines = [
        ln.split(" #")[0].strip()
        for block in fenced
        for ln in re.sub(r"\\\n\s*", " ", block).splitlines()
    ]
    spans = re.findall(
        r"`([^`\n]+)`", re.sub(r"\n(?!\n)", " ", re.sub(r"```.*?```", "", text, flags=re.S))
    )
    return [
        s
        for s in [*lines, *spans]
        if re.match(r"(nice )?(python3? (-m mgps|scripts/\S+\.py)|mgps [a-z])", s)
        and not PLACEHOLDER.search(s)
    ]


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _no_abbreviations(sub)


STALE = re.compile(
    r"unrecognized arguments|ambiguous option|invalid choice|invalid \w+ value|unknown device|expects"
)


def _check(command: str, monkeypatch, capsys) -> None:
    words = shlex.split(command)
    while words and (words[0] == "nice" or "=" in words[0]):
        words = words[1:]
    if words[0].startswith("python"):
        words = words[1:]
    if words[:2] == ["-m", "mgps"] or words[0] == "mgps":
        argv, parser = words[2:] if words[0] == "-m" else words[1:], build_parser()
    elif words[0].startswith("scripts/") and words[0].endswith(".py"):
        argv, parser = words[1:], script_parser(ROOT / words[0], monkeypatch)
    else:
        return
    argv = [a for a in argv if a not in {">", "2>&1", "&"}]
    _no_abbreviations(parser)  # a stale --n must not pass as an abbreviation of --n-images
    try:
        parser.parse_args(argv)
    except SystemExit:
        # prose names a command with some of its options ("mgps restore --observation"), so a
        # missing argument is fine; an option or value the parser no longer knows is not
        said = capsys.readouterr().err
        if not STALE.search(said):
            return
        raise AssertionError(f"does not parse today: {command}\n{said}") from None


CASES = [(p, c) for p in SHELL for c in _shell_commands(p)] + [
    (p, c) for p in DOCS for c in _doc_commands(p)
]


def test_the_quoted_commands_are_found():
    assert len(CASES) > 40, len(CASES)


@pytest.mark.parametrize(
    "path,command", CASES, ids=[f"{p.relative_to(ROOT)}:{i}" for i, (p, _) in enumerate(CASES)]
)
def test_a_quoted_command_parses(path, command, monkeypatch, capsys):
    _check(command, monkeypatch, capsys)
