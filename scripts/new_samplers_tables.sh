#!/usr/bin/env bash
# The tables of results/new_samplers/README.md (DAPS, PnP-DM, DCPS; the CG path of DiffPIR, DDNM+ and
# PGDM; mgps validate), sized for a shared 2-core machine, in two lanes of one torch thread.
# Usage: scripts/new_samplers_tables.sh [work folder, default $TMPDIR/new_samplers]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-${TMPDIR:-/tmp}/new_samplers}
mkdir -p "$WORK"
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
NEW=daps,pnpdm,dcps
sweep() { python scripts/digits_mgps_sweep.py --previous results/digits_vs_dps/sweep.json "$@"; }

lane_a() {
    mgps gmm table --settings 20x1 --samplers $NEW --n-instances 10 --out results/new_samplers/gmm_d20
    mgps gmm table --settings 20x1 --samplers dcps --n-instances 10 --param dcps:lr=0.2 \
        --out results/new_samplers/gmm_d20_dcps_step
    mgps gmm table --settings 200x1 --samplers $NEW --n-instances 5 --out results/new_samplers/gmm_d200
    mgps gmm table --settings 200x1 --samplers dcps --n-instances 5 --param dcps:lr=1.5 \
        --out results/new_samplers/gmm_d200_dcps_step
    sweep --operators sr4 --config daps:daps pnpdm:pnpdm dcps:dcps --reference dps1000 --out "$WORK/sweep_sr4"
    mgps ecg table --samplers $NEW --out results/new_samplers/ecg
    mgps ecg table --samplers daps --param daps:likelihood_std=0.00707 --out results/new_samplers/ecg_daps_sharp
}
lane_b() {
    mgps images exact --samplers $NEW --operators box,sr4 --n-images 5 --n-samples 16 \
        --out results/new_samplers/digits_exact
    mgps images exact --samplers daps --operators box,sr4 --n-images 5 --n-samples 16 \
        --param daps:likelihood_std=none --out results/new_samplers/digits_exact_daps_sigma_y
    sweep --operators box --config dps1000:dps:num_steps=1000 daps:daps pnpdm:pnpdm dcps:dcps --out "$WORK/sweep_box"
    mgps images table --prior digits --images assets/examples --operators gaussian_blur,motion_blur \
        --samplers dps,pgdm,ddnm,diffpir --n-images 3 --out results/blurs_without_svd
    for s in diffpir ddnm pgdm; do
        mgps restore --prior digits --operator gaussian_blur --sampler $s \
            --image assets/examples/digit_3_1.png --out "$WORK/restore_blur/$s"
        mkdir -p results/blurs_without_svd/restore_$s
        cp "$WORK/restore_blur/$s"/{metrics.json,input.png,observation.png,sample_0.png} results/blurs_without_svd/restore_$s/
    done
    mgps validate --sampler dcps --compare dps,pgdm --problems mixture-d10,gaussian-d16 --out results/new_samplers/validate
}
lane_a > "$WORK/lane_a.log" 2>&1 & pid_a=$!
lane_b > "$WORK/lane_b.log" 2>&1 & pid_b=$!
wait $pid_a || { echo "lane a failed: $WORK/lane_a.log"; exit 1; }
wait $pid_b || { echo "lane b failed: $WORK/lane_b.log"; exit 1; }
sweep --merge "$WORK"/sweep_{box,sr4}/sweep.json --out results/new_samplers/digits_ddpm \
    --note "DAPS, PnP-DM and DCPS (their defaults and the per-task presets of mgps/presets.py) added to the table of results/digits_vs_dps/: test digits 0–49, the same observations and initial noise; the other rows are reused from that run (passed as --previous), except box's dps1000, run again beside the new ones (it reproduced every PSNR). Seconds: the new rows and box's dps1000 were measured with the shared machine at load 5–8, the reused rows on a quieter machine, so compare seconds only within a run (box: DPS-1000 16.7 s against DAPS 6.9, PnP-DM 19.2, DCPS 10.1 s per image). Commands in results/new_samplers/README.md."
