"""The reproduction of the paper's tables and figures, and the project's own benchmark tables.

Everything that turns the library into numbers for ``results/`` lives here, apart from the
library itself (samplers, operators, priors, pipeline), which never imports it:

* :mod:`mgps.paper.gmm` — Table 1 and Figure 4 (Gaussian mixtures, SW to the exact posterior);
* :mod:`mgps.paper.gaussian_eta` — Example 3.2 / Appendix B (exact W2 of the surrogate against η,
  computed by :mod:`mgps.tradeoff`);
* :mod:`mgps.paper.tradeoff` — the trade-off tab's teaching sweep (2-D mixture, SW against η);
* :mod:`mgps.paper.images` — every sampler × operator on a folder of images;
* :mod:`mgps.paper.exact_table` — samplers against the exact posterior of ``digits-exact``;
* :mod:`mgps.paper.ecg` — the ECG table (paper §4, Tables 4 and 14, on synthetic ECGs);
* :mod:`mgps.paper.classifier` — the digit / clothing classifier that scores restorations;
* :mod:`mgps.paper.cli` — their commands, which :mod:`mgps.cli` registers.

The scripts that run the longer experiments are in ``scripts/`` (``scripts/README.md`` maps
each to the results file it writes).

The reproduction needs the ``paper`` extra (``pip install "mgps[paper]"``: plotly for its
figures, accelerate to spread its cells over processes), which the core does not install; its
table commands check for it first (:func:`needs_paper_extra`; ``validate``, ``gmm sample``
and ``tradeoff`` need neither module and run without it). The held-out images of the digit and
clothing tables (``assets/data/``) are in a checkout of the repository, not in the wheel.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable

__all__ = ["PAPER_EXTRA", "missing_paper_extra", "needs_paper_extra"]

PAPER_EXTRA = ("plotly", "accelerate")  # the modules of pyproject's ``paper`` extra


def missing_paper_extra() -> list[str]:
    """The modules of the ``paper`` extra that are not installed."""
    return [name for name in PAPER_EXTRA if importlib.util.find_spec(name) is None]


def needs_paper_extra(command: Callable[..., int]) -> Callable[..., int]:
    """A reproduction command that says, in one line and before any work, which modules of the
    extra are missing and how to install them (exit status 2)."""

    @functools.wraps(command)
    def run(args) -> int:
        missing = missing_paper_extra()
        if missing:
            print(
                "error: the paper's table commands need the paper extra, which the core of "
                f'mgps does not install (missing: {", ".join(missing)}): pip install "mgps[paper]"',
                file=sys.stderr,
            )
            return 2
        return command(args)

    return run
