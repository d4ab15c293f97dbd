#!/usr/bin/env bash
# The CPU benchmarks whose outputs are committed under results/ (one torch thread each).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
python -m mgps gaussian-eta --out results/gaussian_eta/gaussian_eta.csv
python -m mgps gmm table --out results/gmm_table --samplers ddnm,diffpir,dps,mgps,pgdm,reddiff
python -m mgps gmm ablation --out results/gmm_steps_ablation
python scripts/gmm_mgps_sweep.py --out results/gmm_mgps_tuned
