"""Paired comparison of samplers from the records of one or more table runs (gmm table, ecg
table, images exact) made on the same instances, windows or images with the same seeds.

    python results/mgps_jf/paired.py --metric sw --group dim,obs_dim --pair instance \
        --ref results/mgps_jf/gmm/gaussian/gmm_table.json:MGPS \
        --cmp "results/mgps_jf/gmm/gaussian/gmm_table.json:MGPS (Jacobian-free)" \
              "results/mgps_jf/gmm/forward_difference/gmm_table.json:MGPS (Jacobian-free)=fd"

Each ``FILE:SAMPLER[=LABEL]`` names the records of one sampler in one run; per group, it prints
the reference's and each candidate's mean ± 95 % t half-width, the paired difference, the ratio
of the means and the ratio of the mean seconds.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from mgps.metrics import t_interval


def load(spec: str, metric: str, group: list[str], pair: str):
    path, _, rest = spec.partition(":")
    sampler, _, label = rest.partition("=")
    values: dict[tuple, dict] = defaultdict(dict)
    seconds: dict[tuple, list[float]] = defaultdict(list)
    for r in json.load(open(path))["records"]:
        if r["sampler"] != sampler or r.get("diverged") or r.get("failed"):
            continue
        key = tuple(r[g] for g in group)
        values[key][r[pair]] = r[metric]
        seconds[key].append(r.get("seconds", float("nan")))
    if not values:
        raise SystemExit(f"no records of {sampler!r} in {path}")
    return label or sampler, values, seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--metric", required=True)
    p.add_argument("--group", required=True, help="comma-separated record fields")
    p.add_argument("--pair", required=True, help="the record field that pairs runs")
    p.add_argument("--ref", required=True)
    p.add_argument("--cmp", nargs="+", required=True)
    args = p.parse_args()
    group = args.group.split(",")
    ref_label, ref, ref_s = load(args.ref, args.metric, group, args.pair)
    print(
        f"| {', '.join(group)} | {ref_label} {args.metric} | candidate | its {args.metric} "
        f"| paired Δ (95 %) | ratio | seconds ratio | pairs |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for spec in args.cmp:
        label, cand, cand_s = load(spec, args.metric, group, args.pair)
        for key in ref:
            common = sorted(set(ref[key]) & set(cand.get(key, {})))
            if not common:
                continue
            r = [ref[key][i] for i in common]
            c = [cand[key][i] for i in common]
            (rm, rh), (cm, ch) = t_interval(r), t_interval(c)
            dm, dh = t_interval([b - a for a, b in zip(r, c, strict=True)])
            sr = t_interval(cand_s[key])[0] / t_interval(ref_s[key])[0]
            print(
                f"| {', '.join(map(str, key))} | {rm:.4g} ± {rh:.2g} | {label} | {cm:.4g} ± {ch:.2g} "
                f"| {dm:+.3g} ± {dh:.2g} | {cm / rm:.2f}× | {sr:.2f}× | {len(common)} |"
            )


if __name__ == "__main__":
    main()
