"""The size and the names of the rooms: no module of ``mgps/`` or ``app/`` over 600 lines, and no
two modules (or packages) there whose names differ by no more than an ending (``sampling.py``
beside ``samplers/``, ``toy.py`` in both trees), so that a name says which room it is."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREES = ("mgps", "app")
MAX_LINES = 600

# Names rooms share on purpose, each group exactly as it is (a further room with the name, or a
# new shared name, fails the test), with the reason.
SHARED_NAMES: dict[str, tuple[set[str], str]] = {
    "cli": (
        {"mgps/cli.py", "mgps/paper/cli.py"},
        "the command line, and the reproduction's commands it registers (the modules of "
        "mgps/paper/ take the names of their command groups)",
    ),
    "ecg": (
        {"mgps/ecg", "mgps/paper/ecg.py", "app/tabs/ecg.py"},
        "the ECG library, its table (`mgps ecg table`) and its tab (app/tabs/ has one module "
        "per tab, named after the tab)",
    ),
    "tradeoff": (
        {"mgps/tradeoff.py", "mgps/paper/tradeoff.py", "app/tabs/tradeoff.py"},
        "Example 3.2's exact trade-off, the η sweep (`mgps tradeoff sweep`) and the tab",
    ),
    "image": (
        {"mgps/utils/images.py", "mgps/paper/images.py"},
        "reading and writing images, and the image tables (`mgps images …`)",
    ),
    "mgp": (
        {"mgps", "mgps/samplers/mgps.py"},
        "the package, and the MGPS sampler (a sampler's file takes its registry name)",
    ),
    "operator": (
        {"mgps/operators", "mgps/ecg/operators.py"},
        "the operators, and the ECG ones (mgps/ecg/ keeps one domain's prior and operators "
        "together; they go into the same registries)",
    ),
    "prior": (
        {"mgps/priors", "mgps/ecg/prior.py"},
        "the priors, and the ECG one (as for the operators)",
    ),
    "device": (
        {"mgps/devices.py", "app/device.py"},
        "the device choice everything shares, and what the app adds to it (ZeroGPU, jobs at "
        "once), which imports before torch",
    ),
}


def _python_files() -> list[Path]:
    return sorted(p for tree in TREES for p in (ROOT / tree).rglob("*.py"))


def _stem(name: str) -> str:
    """A name without its plural and an -ing or -er ending: ``samplers`` and ``sampling`` are
    both ``sampl``."""
    name = name.removesuffix("s")
    for ending in ("ing", "er"):
        if name.endswith(ending) and len(name) > len(ending) + 3:
            return name[: -len(ending)]
    return name


def _rooms() -> dict[str, set[str]]:
    """Stem -> the modules and packages that bear it (a package by its folder; the ``mgps``
    package counts, so that a module called mgps inside it is a second room of that name)."""
    rooms: dict[str, set[str]] = defaultdict(set)
    for path in _python_files():
        rel = path.relative_to(ROOT)
        if path.name == "__init__.py":
            if len(rel.parts) > 2:  # the roots app/ and mgps/ are what they are
                rooms[_stem(rel.parent.name)].add(rel.parent.as_posix())
            continue
        rooms[_stem(path.stem)].add(rel.as_posix())
    rooms[_stem("mgps")].add("mgps")
    return rooms


def test_the_stem_catches_near_names():
    assert _stem("sampling") == _stem("samplers") == _stem("sampler")
    assert _stem("toy") == "toy" and _stem("images") == _stem("image")
    assert _stem("other") == "other"  # short words keep their ending


def test_no_module_is_over_600_lines():
    long = {}
    for path in _python_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long[path.relative_to(ROOT).as_posix()] = lines
    assert not long, (
        f"modules over {MAX_LINES} lines (split them where a part has its own reason to "
        f"change): {long}"
    )


def test_no_two_modules_share_a_name():
    shared = {stem: paths for stem, paths in _rooms().items() if len(paths) > 1}
    unexpected = {
        stem: sorted(paths)
        for stem, paths in shared.items()
        if stem not in SHARED_NAMES or paths != SHARED_NAMES[stem][0]
    }
    assert not unexpected, (
        "modules whose names differ by no more than an ending (rename one so that its name "
        f"says what it holds, or add the group to SHARED_NAMES with the reason): {unexpected}"
    )
    unused = sorted(set(SHARED_NAMES) - set(shared))
    assert not unused, f"SHARED_NAMES lists names only one module bears: {unused}"
