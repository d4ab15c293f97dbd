#!/usr/bin/env bash
# The search for a 2-D teaching problem where an intermediate η is measurably best (issue 23):
# MGPS's SW against η on a coarse grid, 10 problems each, one setting changed at a time from
# the tab's defaults (σ_y 0.5, 100 steps, modes 8 apart, random direction); then the finer
# sweep of the closest candidate and the tab's own sweep. One thread, nice.
# Writes results/tradeoff_teaching/explore/<name>.json and .md, and results/tradeoff_teaching/teaching.json and
# .md (what the app loads); results/README.md sums them up.
set -euo pipefail
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
out=results/tradeoff_teaching/explore
common=(--out "$out" --etas 0,0.25,0.5,0.75,1 --n-problems 10 --quiet)
run() { name=$1; shift; nice -n 10 mgps tradeoff sweep "${common[@]}" --name "$name" "$@"; }
if [ "${1:-}" != "--rest" ]; then
  run default
  run sigma1 --sigma-y 1.0
  run sigma2 --sigma-y 2.0
  run sigma02 --sigma-y 0.2
  run steps30 --steps 30
  run spacing4 --spacing 4
  run spacing4-sigma1 --spacing 4 --sigma-y 1.0
  run diagonal --angle 0.7854
  run spacing5-sigma2 --spacing 5 --sigma-y 2.0
fi
# the tab's sweep, at its default settings (20 problems × 11 η)
nice -n 10 mgps tradeoff sweep --out results/tradeoff_teaching/ --name teaching --quiet
run steps30-fine --steps 30 --n-problems 20 --etas 0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1
run sigma005 --sigma-y 0.05
run spacing12 --spacing 12
