"""Condensation at several resolutions: max f and the condensate mass (origin-cell mass less
r_h, the critical profile's share of that cell) against t, one line per N, from the run
directories `fpgen study blowup` writes, with the blow-up time of each run marked.

    fpgen study blowup configs/blowup_2d.toml --cells 129 257 513
    python examples/plot_blowup.py out/blowup_2d_blowup --out out/blowup_2d.png
"""

import argparse
import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_rows(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in ("t", "max", "origin_mass")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", help="the study's folder (<out>/<name>_blowup)")
    parser.add_argument("--out", required=True, help="the figure (.png)")
    args = parser.parse_args()
    study_dir = Path(args.study)
    study = json.loads((study_dir / "study.json").read_text())

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for run in study["runs"]:
        rows = read_rows(study_dir / f"n{run['cells']}" / "diagnostics.csv")
        # t = 0 has no place on a log axis
        t = rows["t"][1:]
        label = f"N = {run['cells']}"
        (line,) = left.loglog(t, rows["max"][1:], label=label)
        condensate = [m - run["regular_origin_mass"] for m in rows["origin_mass"][1:]]
        right.semilogx(t, condensate, color=line.get_color(), label=label)
        if run["blowup_time"] is not None:
            for axis in (left, right):
                axis.axvline(run["blowup_time"], color=line.get_color(), lw=0.8, ls=":")
    excess = study["mass"] - study["critical_mass_box"]
    right.axhline(excess, color="k", lw=0.8, ls="--", label="M − M_c(box)")
    right.axhline(0.0, color="grey", lw=0.6)
    left.set(xlabel="t", ylabel="max f", title="max f (dotted: blow-up time)")
    right.set(xlabel="t", ylabel="origin-cell mass − r_h", title="condensate mass")
    right.set_ylim(bottom=-0.5)
    left.legend()
    right.legend(loc="lower right")
    fig.suptitle(f"{study['name']}: M = {study['mass']:.4f}, M_c(box) = {study['critical_mass_box']:.4f}")
    fig.savefig(args.out, dpi=120)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
