"""Hugging Face model-card metadata for the embedded priors and classifiers (``assets/``), so
each folder could be pushed to the Hub as it is. The scripts that write the cards
(``scripts/prior_quality.py``, ``scripts/fit_exact_prior.py``, ``scripts/ecg_train.py``) put
:func:`card_header` at their top; ``huggingface_hub.ModelCard.load`` reads it back."""

from __future__ import annotations

from typing import Any

__all__ = ["DATA_LICENSES", "card_header"]

DATA_LICENSES: dict[str, dict[str, Any]] = {
    # MNIST (LeCun, Cortes, Burges) is distributed under CC BY-SA 3.0 (assets/data/README.md)
    "digits": {"license": "cc-by-sa-3.0", "datasets": ["ylecun/mnist"]},
    # Fashion-MNIST: MIT, Copyright 2017 Zalando SE (assets/data/README.md)
    "fashion": {"license": "mit", "datasets": ["zalando-datasets/fashion_mnist"]},
    # synthetic ECGs made by this project with neurokit2 (MIT), released with it (assets/ecg/README.md)
    "ecg": {"license": "mit"},
}
"""The licence (and Hub data sets) of what each embedded model was trained or fitted on."""


def card_header(
    data: str,
    *,
    pipeline_tag: str,
    library_name: str | None = None,
    tags: tuple[str, ...] = (),
) -> str:
    """The YAML front matter of a model card: the data's licence and data sets, the pipeline
    tag, the library (``"diffusers"`` for a diffusers folder) and tags."""
    from huggingface_hub import ModelCardData

    fields: dict[str, Any] = dict(DATA_LICENSES[data], pipeline_tag=pipeline_tag)
    if library_name:
        fields["library_name"] = library_name
    if tags:
        fields["tags"] = list(tags)
    return f"---\n{ModelCardData(**fields).to_yaml()}\n---\n\n"
