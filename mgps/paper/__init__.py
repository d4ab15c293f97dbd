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
"""
