#!/usr/bin/env bash
# The CPU image benchmarks whose outputs are committed under results/ (one torch thread each).
# Uses the embedded digits priors; say which training step the digits DDPM was at (training.json).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
N=${N_IMAGES:-10}
python - <<PY
import numpy as np
from pathlib import Path
from PIL import Image
out = Path("runs/images_digits/inputs"); out.mkdir(parents=True, exist_ok=True)
data = np.load("assets/data/digits.npz")
for k in range($N):  # held-out test digits (never seen in training)
    Image.fromarray(data["test_images"][k]).save(out / f"test_{k:03d}_label{data['test_labels'][k]}.png")
PY
python -m mgps images table --prior digits --images runs/images_digits/inputs --out runs/images_digits \
    --operators box,sr4 --samplers mgps,dps,pgdm,ddnm,diffpir,reddiff --param mgps:num_steps=50
python -m mgps images table --prior digits --images runs/images_digits/inputs --out runs/images_digits/mgps100 \
    --operators box,sr4 --samplers mgps --param mgps:num_steps=100
python -m mgps images exact --out results/digits_exact --operators box,sr4 --n-images 5 --n-samples 16 --samplers ddnm,diffpir,dps,mgps,pgdm,reddiff
