"""Put Gaussian-mixture tables run on different instance counts side by side, on the instances
they share.

``mgps gmm table`` draws instance k of a setting from a fixed seed, so a table run with
``--n-instances 5`` has the first five instances of one run with 20. This script reads several
``gmm_table.json`` files and prints, per setting, every sampler's mean SW (± 1.96·std/√n) over
the instances all of them ran, with the exact-posterior floor and the prior's distance.

    python scripts/gmm_same_instances.py results/gmm_table/gmm_table.json results/new_samplers/gmm_d20/gmm_table.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mgps.metrics import t_interval


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "tables", type=Path, nargs="+", help="gmm_table.json files (their samplers are pooled)"
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="FILE_INDEX:SAMPLER=LABEL",
        help="rename a column, e.g. 2:dcps='DCPS (lr 0.2)' for the third file's dcps",
    )
    args = p.parse_args(argv)
    rename = {}
    for item in args.label:
        key, _, label = item.partition("=")
        index, _, sampler = key.partition(":")
        rename[(int(index), sampler)] = label
    records, seen = [], set()  # (column, setting, instance, sw, diverged)
    for i, path in enumerate(args.tables):
        for r in json.loads(path.read_text())["records"]:
            column = rename.get((i, r["sampler"]), r["sampler"])
            key = (column, (r["dim"], r["obs_dim"]), r["instance"])
            if key not in seen:  # the reference rows are in every file: count them once
                seen.add(key)
                records.append((*key, r["sw"], r["diverged"]))
    columns = list(dict.fromkeys(c for c, *_ in records))
    for setting in sorted({s for _, s, *_ in records}):
        shared = set.intersection(
            *(
                {k for c2, s, k, *_ in records if c2 == c and s == setting}
                for c in columns
                if any(c2 == c and s == setting for c2, s, *_ in records)
            )
        )
        print(
            f"\nd = {setting[0]}, d_y = {setting[1]}: {len(shared)} shared instances {sorted(shared)}\n"
        )
        print("| sampler | SW (mean ± 1.96·std/√n) | diverged |\n|---|---|---|")
        for c in columns:
            rows = [
                (sw, bad)
                for c2, s, k, sw, bad in records
                if c2 == c and s == setting and k in shared
            ]
            if not rows:
                continue
            ok = np.array([sw for sw, bad in rows if not bad], dtype=float)
            mean, half = t_interval(ok, method="normal")  # the mixture table's interval
            print(f"| {c} | {mean:.2f} ± {half:.2f} | {sum(bad for _, bad in rows)} |")


if __name__ == "__main__":
    main()
