#!/usr/bin/env bash
# The per-task defaults of mgps/presets.py (chosen by scripts/defaults_tuning.sh) confirmed on
# fresh test images, in two parallel lanes of one torch thread each (results/nonlinear_tasks/README.md,
# results/defaults/README.md):
#   $NONLINEAR/      the paper's JPEG, HDR and phase retrieval rows on the digits DDPM: DPS-1000
#                    against MGPS with 50 and 100 steps, PGDM and RED-diff, all with
#                    their defaults, on fresh test digits 350-389 (phase retrieval: the best of
#                    4 samples by data fit, digits 350-369); scripts/digits_mgps_sweep.py
#   $DEFAULTS/digits/  python -m mgps images defaults: every sampler x task with the command
#                    line's defaults, digits 350-357 (each sampler's own steps: DPS 1000 ...)
#   $DEFAULTS/digits_app/, fashion_app/: the same with the Restore tab's steps (MGPS 50,
#                    others 100), 20 images each; $DEFAULTS/digits_compare/: the Compare tab's (50 each)
#   $NONLINEAR/timing*/  CPU seconds of the nonlinear tables' samplers (10 digits; 5 for phase retrieval)
# Finished cells are kept (under each table's cells/ folder): rerunning resumes. The nonlinear
# tables in results/ have no cells/ folder, so a rerun recomputes their rows; --previous keeps
# the rows already in their sweep.json.
# Sizes are small because the 2-core machine was shared with three other jobs (load 7-10).
# Usage: scripts/defaults_tables.sh [a|b]   (one lane only;
#        NONLINEAR=results/nonlinear_tasks, DEFAULTS=results/defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
NONLINEAR=${NONLINEAR:-results/nonlinear_tasks}
DEFAULTS=${DEFAULTS:-results/defaults}
mkdir -p "$NONLINEAR" "$DEFAULTS"
export PYTHONPATH=. OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
LOGS=${TMPDIR:-/tmp}/defaults_tables  # one log per lane
mkdir -p "$LOGS"
NOTE="The paper's nonlinear rows on the digits DDPM, every sampler with the defaults of mgps/presets.py, on fresh test digits no setting was chosen on (scripts/defaults_tables.sh)."
table() {  # table NAME ARGS...: one sweep into $NONLINEAR/NAME, keeping finished configurations
    local name=$1; shift
    local previous=()
    [[ -f "$NONLINEAR/$name/sweep.json" ]] && previous=(--previous "$NONLINEAR/$name/sweep.json")
    python scripts/digits_mgps_sweep.py "$@" "${previous[@]}" --note "$NOTE" --out "$NONLINEAR/$name"
}
defaults() {  # defaults NAME ARGS...: the defaults sweep into $DEFAULTS/NAME
    local name=$1; shift
    python -m mgps images defaults "$@" --quiet --out "$DEFAULTS/$name"
}
BEST4=samples=4,select=best
CORE=(dps1000:dps:num_steps=1000 mgps50:mgps:num_steps=50 mgps100:mgps:num_steps=100)
OLD=mgps50_lr0.03:mgps:num_steps=50,lr=0.03,midpoint_late=none  # MGPS without the per-task presets

lane_a() {
    # PGDM with its preset (100 steps on JPEG and HDR) and with 1000 steps, to show the preset's gain
    table jpeg --operators jpeg --first 350 --n-images 40 --config "${CORE[@]}" pgdm1000:pgdm:num_steps=1000 \
        reddiff:reddiff "$OLD" pgdm:pgdm
    table hdr --operators hdr --first 350 --n-images 40 --config "${CORE[@]}" reddiff:reddiff "$OLD" pgdm:pgdm \
        pgdm1000:pgdm:num_steps=1000
    defaults digits_app --prior digits --first 350 --n-images 20 --steps mgps=50 --steps 100
    defaults digits_compare --prior digits --first 350 --n-images 20 --steps 50
    defaults fashion_app --prior fashion --first 0 --n-images 20 --steps mgps=50 --steps 100
}
lane_b() {
    table phase_retrieval --operators phase_retrieval --first 350 --n-images 20 \
        --config $(for c in "${CORE[@]}" reddiff:reddiff: "$OLD" pgdm:pgdm:; do echo "$c,$BEST4"; done)
    defaults digits --prior digits --first 350 --n-images 8
    # seconds: the tables above ran beside other jobs (load 5-10), so their wall times are noisy;
    # these short runs record the process's CPU seconds, which the load does not inflate
    table timing --operators jpeg hdr --first 350 --n-images 10 --config "${CORE[@]}" reddiff:reddiff pgdm:pgdm
    table timing_phase_retrieval --operators phase_retrieval --first 350 --n-images 5 \
        --config $(for c in "${CORE[@]}" reddiff:reddiff: pgdm:pgdm:; do echo "$c,$BEST4"; done)
}
LANES=${1:-ab}
pids=()
[[ $LANES == *a* ]] && { lane_a > "$LOGS/lane_a.log" 2>&1 & pids+=($!); }
[[ $LANES == *b* ]] && { lane_b > "$LOGS/lane_b.log" 2>&1 & pids+=($!); }
for pid in "${pids[@]}"; do wait "$pid" || { echo "a lane failed: $LOGS/lane_*.log"; exit 1; }; done
