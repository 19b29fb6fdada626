"""Plot one result of a collected sweep (`fpgen collect SWEEP_DIR`) against a swept key,
one line per value of another, straight from collect.zarr with xarray:

    python examples/plot_collect.py out/mass_ratio_2d --var condensation_time \
        --x initial.mass_ratio --hue model.gamma --out out/mass_ratio_2d/condensation_time.png
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import fpgen  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--var", default="condensation_time")
    parser.add_argument("--x", required=True, help="a swept key (a dimension of collect.zarr)")
    parser.add_argument("--hue", help="another swept key: one line per value")
    parser.add_argument("--out", type=Path, help="the PNG (default: <sweep_dir>/<var>.png)")
    args = parser.parse_args()
    ds = fpgen.open(args.sweep_dir / "collect.zarr")
    fig, ax = plt.subplots(figsize=(6, 3.8), constrained_layout=True)
    ds[args.var].plot(x=args.x, hue=args.hue, marker="o", ax=ax)
    ax.set_title(f"{ds.attrs['title']}")
    out = args.out or args.sweep_dir / f"{args.var}.png"
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    main()
