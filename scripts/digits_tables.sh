#!/usr/bin/env bash
# Every digits-DDPM table of the README, redone: run it after shipping new digits weights. Each
# sweep is spread over PROCESSES processes by accelerate launch (one torch thread each; about an
# hour with 2 on two CPU cores; on a machine with GPUs, PROCESSES = the number of GPUs, one
# process on each), and a rerun resumes where a killed run stopped.
#   results/digits_vs_dps/               all samplers on box and SR x4, test digits 0-49
#                                            (the digits MGPS's presets were chosen on)
#   results/digits_vs_dps/confirmation/  DPS-1000 against MGPS's presets on fresh digits 50-149
#   results/digits_vs_dps/dps_step_half/ DPS's step size on the half mask, digits 0-49
#   results/digits_vs_dps/exact_prior/   exact posterior samples scored like a sampler
#                                            (digits-exact prior, digits 50-149; needs no DDPM)
#   results/digits_vs_dps/budget/        box at DPS-1000's time: means of the samples each
#                                            method draws in that time, fresh digits 150-349
# Usage: scripts/digits_tables.sh [work folder, default runs/digits_tables]
#        (PRIOR=digits, OUT=results/digits_vs_dps, PROCESSES=2, DEVICE=auto)
set -euo pipefail
cd "$(dirname "$0")/.."
PRIOR=${PRIOR:-digits}
OUT=${OUT:-results/digits_vs_dps}
PROCESSES=${PROCESSES:-2}
DEVICE=${DEVICE:-auto}
WORK=${1:-runs/digits_tables}
mkdir -p "$WORK"
export PYTHONPATH=. OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
run() {  # one sweep over PROCESSES processes (--multi_gpu also starts CPU processes)
    if [ "$PROCESSES" -gt 1 ]; then
        accelerate launch --multi_gpu --num_processes "$PROCESSES" scripts/digits_mgps_sweep.py \
            --device "$DEVICE" --quiet "$@"
    else
        python scripts/digits_mgps_sweep.py --device "$DEVICE" --quiet "$@"
    fi
}
sweep() { run --prior "$PRIOR" "$@"; }
merge() { python scripts/digits_mgps_sweep.py "$@"; }  # joins finished sweeps: one process
CONFIRM=(dps1000:dps:num_steps=1000 mgps50:mgps:num_steps=50 mgps100:mgps:num_steps=100)
MEAN2=mgps50_mean2:mgps:num_steps=50,samples=2
BUDGET=(dps1000:dps:num_steps=1000 mgps50:mgps:num_steps=50 mgps50_mean3:mgps:num_steps=50,samples=3
        mgps100_mean2:mgps:num_steps=100,samples=2 dps500_mean2:dps:num_steps=500,samples=2)

sweep --operators box --out "$WORK/tune_box"
sweep --operators sr4 --out "$WORK/tune_sr4"
sweep --operators box --first 50 --n-images 100 --config "${CONFIRM[@]}" "$MEAN2" --out "$WORK/confirm_box"
sweep --operators sr4 --first 50 --n-images 100 --config "${CONFIRM[@]}" "$MEAN2" --out "$WORK/confirm_sr4"
sweep --operators half --first 50 --n-images 100 --config "${CONFIRM[@]}" "$MEAN2" \
    dps1000_z0.5:dps:num_steps=1000,step_size=0.5 --out "$WORK/confirm_half"
sweep --operators gaussian_blur --first 50 --n-images 100 --config "${CONFIRM[@]}" --out "$WORK/confirm_gaussian_blur"
sweep --operators half --first 0 --n-images 50 --config dps1000:dps:num_steps=1000 \
    dps1000_z0.5:dps:num_steps=1000,step_size=0.5 dps1000_z2:dps:num_steps=1000,step_size=2.0 \
    mgps50:mgps:num_steps=50 --out "$WORK/dps_step_half"
for op in box sr4; do
    run --prior digits-exact --operators $op --first 50 --n-images 100 \
        --config "${CONFIRM[@]}" exact:exact --out "$WORK/exact_$op"
done
sweep --operators box --first 150 --n-images 200 --config "${BUDGET[@]}" --out "$WORK/budget_box"

merge --merge "$WORK"/tune_{box,sr4}/sweep.json --out "$OUT" \
    --note "All samplers on the test digits MGPS's presets (mgps/presets.py) were chosen on. Made by scripts/digits_tables.sh."
merge --merge "$WORK"/confirm_{box,sr4,half,gaussian_blur}/sweep.json --out "$OUT/confirmation" \
    --note "DPS-1000 against MGPS's presets on fresh test digits, which no setting was chosen on. Made by scripts/digits_tables.sh."
merge --merge "$WORK/dps_step_half/sweep.json" --out "$OUT/dps_step_half" \
    --note "DPS's step size ζ on the half mask (is the paper's ζ = 1 what makes MGPS win there?). Made by scripts/digits_tables.sh."
merge --merge "$WORK/budget_box/sweep.json" --out "$OUT/budget" \
    --note "Box inpainting at DPS-1000's time budget: one DPS-1000 sample against the mean of the samples MGPS (3 of 50 steps, 2 of 100) or DPS (2 of 500) draws in about that time; PSNR rewards the posterior mean, which a mean of samples estimates. Configurations fixed before the run, on fresh test digits 150–349 that no setting was chosen on. Made by scripts/digits_tables.sh."
merge --merge "$WORK"/exact_{box,sr4}/sweep.json --out "$OUT/exact_prior" \
    --note "Does single-sample PSNR reward a faithful posterior sampler? On the digits-exact prior (a 20-component mixture of probabilistic PCA fitted to the training digits) the posterior is known, so exact posterior samples ('exact') are scored like any sampler's. Fresh test digits 50–149; MGPS with the presets chosen on the DDPM. Made by scripts/digits_tables.sh."
