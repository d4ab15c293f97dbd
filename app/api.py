"""The app's API as scripts and agents see it: the endpoints ``/restore``, ``/compare``,
``/tradeoff`` and ``/ecg`` with a description of each parameter, for ``gradio_client``'s
``view_api()`` and for the MCP tools that ``GRADIO_MCP_SERVER=True`` serves (gradio reads
both from the handler's name and docstring).

The sampler and operator parameters (``mgps__num_steps``, ``jpeg__quality``, ...) are
described by the registry's own ``Param.help``: written once, in the library.
"""

from __future__ import annotations

from typing import Any

import mgps

from . import catalog, limits

__all__ = ["TOOLS", "param_doc", "document"]

IMAGE = (
    "the image, as an editor value {'background': <image file>, 'layers': [<strokes>], "
    "'composite': None}; with gradio_client, handle_file(path) for each file. The strokes are "
    "RGBA images whose opaque pixels mark the region to restore (operator 'mask'); at most "
    f"{limits.MAX_LAYERS} layers, {catalog.MAX_MEGAPIXELS} megapixels an image"
)
COMMON = {
    "editor": IMAGE,
    "operator": "the degradation y = A(x) + sigma_y * noise: "
    + ", ".join(e.name for e in catalog.image_operators()),
    "prior": "the diffusion prior: " + ", ".join(p.name for p in catalog.priors() if p.available),
    "sigma_y": "observation noise std, in [-1, 1] image units (0.001 to 1)",
    "num_samples": f"posterior samples drawn at once (1 to {catalog.MAX_SAMPLES})",
    "seed": "seed of the observation noise and of the sampler (0 to 2**31 - 1)",
}

TOOLS: dict[str, tuple[str, dict[str, str], str]] = {
    "restore": (
        "Restore an image with a diffusion prior: degrade it (operator), then sample the "
        "posterior with one sampler; streams x̂0, the midpoint and x_t, then the results.",
        {
            **COMMON,
            "sampler": "the posterior sampler: "
            + ", ".join(e.name for e in mgps.SAMPLERS)
            + " (MGPS is midpoint guidance)",
            "input_mode": "'degrade': the app degrades the clean image with the operator; "
            "'observation': the image is already degraded, it is y itself (no truth, so no "
            "PSNR: the data fit against the noise level is reported)",
            "strokes": "what the editor's strokes are: 'mask' (the region to restore) or "
            "'image' (white ink drawn into the image, e.g. your own digit)",
        },
        "status line, observation y, x̂0, midpoint, x_t (images), the restoration (the "
        "sample that fits y best), a gallery of the samples with their mean and std, a "
        "markdown table of metrics, the metrics as JSON (PSNR, SSIM, residuals, seconds).",
    ),
    "compare": (
        "Run several samplers on one image from the same seed and initial noise, side by "
        "side; streams their x̂0, the residual per step, and a table of metrics and time.",
        {
            **COMMON,
            "samplers": f"the samplers to compare (a list of names, at most {catalog.MAX_COMPARE})",
            "num_steps": f"diffusion steps of each sampler (2 to {catalog.MAX_STEPS}); under "
            "budget 'cost', the first sampler's, the others get the steps that cost as much",
            "budget": "'cost' (equal cost: network calls, a vector-Jacobian product at its "
            "measured price), 'steps' (equal steps) or 'defaults' (each sampler's own)",
        },
        "status line, observation y, x̂0 of each sampler, the residual plot, the metrics "
        "table, the posterior means and stds.",
    ),
    "tradeoff": (
        "The midpoint trade-off on a 2-D Gaussian mixture whose posterior is known exactly: "
        "run a sampler at a midpoint eta and get its samples against the exact posterior, "
        "and the sliced Wasserstein distance against eta over several problems.",
        {
            "sampler": "the sampler (mgps uses eta; the others ignore it)",
            "eta": "MGPS midpoint: l = floor(eta * t); 0 trusts the prior, 1 is DPS-like (0 to 1)",
            "sigma_y": "observation noise std (0.1 to 2)",
            "seed": "the problem: the seed of the projection and the observation (0 to 10000)",
            "steps": "diffusion steps (10 to 300)",
            "spacing": "the distance between neighbouring modes of the 5x5 prior grid (2 to 16)",
            "yours": "this visitor's earlier runs (kept by the page; an API call starts empty)",
        },
        "a summary, the samples' scatter plot, the animation, the snapshot slider, the SW and "
        "W2 charts against eta with their words.",
    ),
    "ecg": (
        "Reconstruct a held-out synthetic 12-lead ECG window with the embedded ECG prior "
        "(lead I observed, or the second half of every lead missing); streams the 12-lead "
        "figure, then the samples and an error table.",
        {
            "window": "which held-out window (an index, from 0)",
            "task": "missing_leads (only lead I observed) or missing_block (second half missing)",
            "sampler": "the posterior sampler: " + ", ".join(e.name for e in mgps.SAMPLERS),
            "num_steps": "diffusion steps",
            "num_samples": "posterior samples drawn at once",
            "seed": "seed of the sampler",
        },
        "status line, the 12-lead figure, the samples and the error table.",
    ),
}


def param_doc(key: str) -> str:
    """The description of a ``<sampler or operator>__<param>`` keyword, from the registry."""
    owner, _, name = key.partition("__")
    for registry in (mgps.SAMPLERS, mgps.OPERATORS):
        if owner in registry:
            p = registry[owner].param(name)
            bounds = f" ({p.low:g} to {p.high:g})" if None not in (p.low, p.high) else ""
            return (
                f"{registry[owner].label} only: {p.help or name}{bounds}; "
                f"empty: its default ({p.default!r})"
            )
    return ""


def _docstring(description: str, params: dict[str, str], returns: str, names: list[str]):
    lines = [description, "", "Args:"]
    for name in names:
        doc = params.get(name) or param_doc(name)
        lines.append(f"    {name}: {' '.join(doc.split())}")
    lines += ["", "Returns:", f"    {returns}"]
    return "\n".join(lines)


def document(blocks: Any) -> Any:
    """Name each endpoint's handler after its endpoint and give it a docstring with every
    parameter described (what ``view_api()`` and the MCP schema show). Returns ``blocks``."""
    import inspect

    for block_fn in blocks.fns.values():
        if block_fn.api_name not in TOOLS or block_fn.fn is None:
            continue
        description, params, returns = TOOLS[block_fn.api_name]
        fn = block_fn.fn
        names = [p.name for p in inspect.signature(fn).parameters.values() if p.name != "request"]
        fn.__name__ = block_fn.api_name
        fn.__doc__ = _docstring(description, params, returns, names)
    return blocks
