#!/usr/bin/env bash
# Train the embedded digits and fashion DDPMs on a GPU machine and bring the exports back.
#
# Meant for the project's lent GPU (the `run` tool): it copies the working tree there, so this
# script starts from the committed exports (--init-from) and continues them with the same
# architecture, so that the loading code, the app and the tests see no difference. Writes
# $OUT/digits and $OUT/fashion (diffusers folders + training.json + training_log.csv);
# afterwards, here:  cp -r <files_at>/digits/* assets/priors/digits/  and run
# scripts/prior_quality.py to refresh the model card.
#
#   STEPS=40000 bash scripts/device_train_priors.sh      # ~6-8 min per prior on an H100/H200
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/device_priors}
STEPS=${STEPS:-40000}
python -m pip install -q -r requirements.txt -e . 2>/dev/null || true
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
for data in digits fashion; do
  init=()
  if [ -f "assets/priors/$data/training.json" ]; then init=(--init-from "assets/priors/$data"); fi
  flip=()
  if [ "$data" = fashion ]; then flip=(--hflip); fi
  python scripts/train_prior.py --data "$data" --device cuda --channels 16,32,64 --layers-per-block 1 \
    --batch-size 128 --train-steps "$STEPS" --export-every 5000 --ckpt-every 5000 "${init[@]}" "${flip[@]}" \
    --workdir "runs/device_train_$data" --out "$OUT/$data" &
done
wait
ls -R "$OUT" | head -40
