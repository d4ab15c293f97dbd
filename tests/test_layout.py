"""The shape of the code base: no import cycles in ``mgps/``, the library apart from the
reproduction code (``mgps/paper/``), no ``sys.path`` edits in the tests."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

from conftest import repository_files

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mgps"


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` for every module of ``mgps/``."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _import_graph() -> dict[str, set[str]]:
    """Module -> the ``mgps`` modules it imports, anywhere in its body (lazy imports inside
    functions count: they close a cycle as surely as top-level ones)."""
    modules = _modules()

    def known(name: str) -> str:
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, (path, is_package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                graph[module] |= {known(a.name) for a in node.names if a.name.startswith("mgps")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("mgps"):
                    continue
                for alias in node.names:  # `from . import x` imports the module mgps.x
                    sub = f"{target}.{alias.name}"
                    graph[module].add(known(sub if sub in modules else target))
    for module in graph:
        graph[module].discard(module)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_sees_the_known_edges():
    graph = _import_graph()
    assert "mgps.registry" in graph["mgps.samplers.dps"]
    assert "mgps.samplers" in graph["mgps"]  # `from . import samplers`
    assert "mgps.priors.loading" in graph["mgps.pipeline"]  # lazy, inside a function
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles_in_mgps():
    cycle = _cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_library_and_reproduction_apart():
    """The library reaches mgps.paper only through the command line's one registration point;
    the paper's code never imports the command line."""
    graph = _import_graph()
    for module, imports in graph.items():
        if module.startswith("mgps.paper"):
            assert "mgps.cli" not in imports, module
            continue
        reaches_paper = {m for m in imports if m.startswith("mgps.paper")}
        if module == "mgps.cli":
            assert reaches_paper == {"mgps.paper.cli"}
        else:
            assert not reaches_paper, f"{module} imports {sorted(reaches_paper)}"


def test_tests_do_not_edit_sys_path():
    for path in (ROOT / "tests").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path":
                value = node.value
                assert not (isinstance(value, ast.Name) and value.id == "sys"), path.name


# --------------------------------------------------------------------------- citations
_TEXT = (".py", ".md", ".sh", ".toml", ".txt", ".mjs", ".yml", ".yaml", ".cfg")
_TOKEN = re.compile(r"(?<![\w./:@~$<{*-])((?:[\w.-]+/)*[\w.-]+\.[A-Za-z]{1,12})(?![\w/])")
# files a user is told to fetch and put there, not cited as a source
_NOT_SHIPPED = {"assets/weights/GOPRO_wVAE.pth"}
# a citation of the recovered specification the project was built from (its file or sections)
_SPEC = re.compile(r"mgps-sp[e]c|\bspec §")


def _in(ref: str, files: list[str], dirs: set[str]) -> bool:
    """Whether ``ref`` is a file or folder of the repository (what git tracks or would add),
    whatever else lies in this checkout."""
    ref = ref.rstrip("/")
    return ref in files or ref in dirs


def _relative(citing: str, ref: str) -> str:
    return str(Path(os.path.normpath(Path(citing).parent / ref)))


def _ignored(ref: str) -> bool:
    return (
        subprocess.run(["git", "check-ignore", "-q", "--no-index", ref], cwd=ROOT).returncode == 0
    )


def test_nothing_cites_a_file_that_is_not_in_the_repository():
    """A path into the repository (``mgps/…``, ``scripts/…``, ``docs/…``; also ``benchmarks/``,
    a folder the repository does not have) must exist, and a Markdown document named on its own
    must be one of the repository's or one the code writes; the recovered specification the
    project was built from is never cited (the project's own notes are ``docs/algorithms.md``)."""
    files = repository_files()
    dirs = {str(parent) for f in files for parent in Path(f).parents}
    top = {f.split("/")[0] for f in files} | {"benchmarks"}
    names = {Path(f).name for f in files}
    written = set()
    for f in files:
        if f.endswith(".py"):
            written |= set(re.findall(r"[\"']([\w.-]+\.md)[\"']", (ROOT / f).read_text()))
    wrong = []
    for f in files:
        if not f.endswith(_TEXT) or f == "tests/test_layout.py":
            continue
        text = (ROOT / f).read_text(errors="ignore")
        for n, line in enumerate(text.splitlines(), 1):
            if _SPEC.search(line):
                wrong.append(f"{f}:{n}: cites the specification")
            for match in _TOKEN.finditer(line):
                ref = match.group(1).rstrip(".")
                if ref in _NOT_SHIPPED:
                    continue
                if "/" in ref and ref.split("/")[0] in top:
                    if not (_in(ref, files, dirs) or _in(_relative(f, ref), files, dirs)):
                        if not _ignored(ref):  # an output the code writes (tests/_artifacts/…)
                            wrong.append(f"{f}:{n}: {ref}")
                elif "/" not in ref and ref.endswith(".md") and ref not in names | written:
                    wrong.append(f"{f}:{n}: {ref}")
    assert not wrong, "cited but not in the repository:\n" + "\n".join(wrong)
