"""Condensation against mass: the 1D nonlinear OU model (γ = 3) from the same bimodal
initial density at masses r·M_c, r from 0.5 to 2. Below M_c the density relaxes to the
regular steady state; above it the excess mass collects in the origin cell. One figure:
the condensation time (when the origin cell first holds more than the critical profile's
share: no density threshold) and the origin-cell mass at the end of each run against r,
with the origin-cell mass of the discrete steady state of the same mass
(`fpgen.equilibrium`), which the runs that go on to t_final tend to. The explicit runs stop
where the density passes stop.max_density = 60.

    python examples/mass_sweep.py [--out out/examples] [--quick]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpgen  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/examples", help="folder of the figure and the runs")
    parser.add_argument("--quick", action="store_true", help="a coarse grid and fewer masses (a smoke test)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    base = fpgen.Config.from_toml(ROOT / "configs" / "supercritical_1d.toml")
    cells, t_final = (101, 2.0) if args.quick else (401, 40.0)
    # the gradient-flow scheme keeps the discrete steady states f_θ(x_i) exactly
    base.update({"grid.cells": cells, "run.t_final": t_final, "run.output_every": t_final, "output.frames": False,
                 "scheme.kind": "gradient-flow"})
    half_width = base.get("grid.half_width")
    critical = fpgen.critical_mass(1, base.get("model.gamma"), box_half_width=half_width)
    m_c = critical["critical_mass_box"]
    ratios = [0.5, 1.5] if args.quick else [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.5, 2.0]

    rows = []
    for r in ratios:
        cfg = base.copy()
        cfg.update({"name": f"mass_{r:g}", "initial.mass": r * m_c})
        ds = fpgen.run(cfg, out=out / "mass_sweep", force=True, progress=False)
        s = fpgen.summary(ds)
        rows.append((r, s["condensation_time"], s["origin_cell_mass"], s["stop"] is not None))
        print(f"M/M_c = {r:5.2f}: {s['status']:>10}, condensation time {s['condensation_time']}, "
              f"origin-cell mass {s['origin_cell_mass']:.4f}")

    r = np.array([row[0] for row in rows])
    t_c = np.array([np.nan if row[1] is None else row[1] for row in rows])
    origin = np.array([row[2] for row in rows])
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    left.plot(r, t_c, "s-")
    left.axvline(1.0, color="grey", lw=0.8, ls="--")
    left.set(xlabel="M / M_c", ylabel="condensation time", title="origin cell passes the critical share")
    stopped = np.array([row[3] for row in rows])
    right.plot(r[~stopped], origin[~stopped], "o", label=f"run at t = {t_final:g}")
    right.plot(r[stopped], origin[stopped], "s", label="run at its stop (f = 60)")
    grid = np.linspace(r.min(), r.max(), 60)
    steady = [fpgen.equilibrium(base, mass=x * m_c).attrs["origin_cell_mass"] for x in grid]
    right.plot(grid, steady, "k--", lw=0.8, label="discrete steady state")
    right.axvline(1.0, color="grey", lw=0.8, ls="--")
    right.set(xlabel="M / M_c", ylabel="origin-cell mass", title="mass in the origin cell")
    right.legend()
    fig.suptitle(f"1D, γ = 3, M_c = {m_c:.4f} on [−{half_width:g}, {half_width:g}], N = {cells}")
    figure = out / "mass_sweep.png"
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
