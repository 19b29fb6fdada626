"""Open the dataset of each fpgen run directory given on the command line with xarray and
check it against the run's config and its .npy/.csv outputs. Exit status 0 when every
check holds; each failure is printed. Run by tests/datasets.rs."""

import csv
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import xarray as xr

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def centres(cells, half_width):
    h = 2 * half_width / cells
    return -half_width + (np.arange(cells) + 0.5) * h


def check_particles(run: Path, ds, summary):
    outputs = summary["particles"]["outputs"]
    check(list(ds.t_particles.values) == [o["t"] for o in outputs], f"{run}: t_particles")
    check(ds.positions.dims == ("t_particles", "particle", "axis"), f"{run}: positions dims")
    for k, o in enumerate(outputs):
        check(np.array_equal(ds.positions.isel(t_particles=k).values, np.load(run / o["positions"])),
              f"{run}: positions at t = {o['t']}")
        check(np.array_equal(ds.density_particles.isel(t_particles=k).values, np.load(run / o["density"])),
              f"{run}: particle density at t = {o['t']}")


def check_forward(run: Path):
    cfg = tomllib.loads((run / "config.toml").read_text())
    summary = json.loads((run / "summary.json").read_text())
    # the one line a user types
    ds = xr.open_zarr(run / "run.zarr")
    if "particles" in summary:
        check_particles(run, ds, summary)
    if "snapshot_times" not in summary:
        return
    dim = cfg["model"]["dim"]
    cells, half_width = cfg["grid"]["cells"], cfg["grid"]["half_width"]
    x = centres(cells, half_width)
    axes = ["x"] if dim == 1 else ["x", "y"]
    check(ds.f.dims == ("t", *axes), f"{run}: f dims {ds.f.dims}")
    for a in axes:
        check(np.allclose(ds[a].values, x, rtol=0, atol=1e-12), f"{run}: {a} is not the cell centres")
        edges = np.asarray(ds.attrs[f"{a}_edges"])
        check(np.allclose(edges, np.linspace(-half_width, half_width, cells + 1), atol=1e-12), f"{run}: {a}_edges")
    check(list(ds.t.values) == summary["snapshot_times"], f"{run}: t {ds.t.values} vs {summary['snapshot_times']}")
    check(len(summary["snapshots"]) == len(summary["snapshot_times"]), f"{run}: .npy snapshots missing")
    for t, name in zip(summary["snapshot_times"], summary["snapshots"]):
        f = np.load(run / name)
        g = ds.f.sel(t=t, method="nearest").values
        check(np.array_equal(f, g), f"{run}: f at t = {t} differs from {name}")
    final = np.load(run / "f_final.npy")
    check(np.array_equal(ds.f.isel(t=-1).values, final), f"{run}: the last f is not f_final.npy")
    rows = list(csv.DictReader(open(run / "diagnostics.csv")))
    check(len(rows) == ds.sizes["t_diag"], f"{run}: {len(rows)} diagnostics rows, t_diag {ds.sizes['t_diag']}")
    check(np.array_equal(ds.mass.values, [float(r["mass"]) for r in rows]), f"{run}: mass")
    check(np.array_equal(ds.step_diag.values, [int(r["step"]) for r in rows]), f"{run}: step_diag")
    for key in ["model.gamma", "grid.cells", "run.t_final", "fpgen_version", "git_commit", "command_line", "backend"]:
        check(key in ds.attrs, f"{run}: attribute {key} missing")
    check(ds.attrs["model.gamma"] == cfg["model"]["gamma"], f"{run}: model.gamma attribute")
    # a plot works (the README's one line)
    import matplotlib

    matplotlib.use("Agg")
    ds.f.sel(t=summary["snapshot_times"][-1], method="nearest").plot()


def check_axes(run: Path, ds, cfg):
    cells, half_width = cfg["grid"]["cells"], cfg["grid"]["half_width"]
    axes = ["x"] if cfg["model"]["dim"] == 1 else ["x", "y"]
    for a in axes:
        check(np.allclose(ds[a].values, centres(cells, half_width), rtol=0, atol=1e-12), f"{run}: {a}")
    return axes


def check_generate(run: Path):
    cfg = tomllib.loads((run / "config.toml").read_text())
    ds = xr.open_zarr(run / "run.zarr")
    axes = check_axes(run, ds, cfg)
    t_final = cfg["run"]["t_final"]
    check(ds.f.dims == ("t", *axes) and ds.g.dims == ("s", *axes), f"{run}: dims {ds.f.dims} {ds.g.dims}")
    check(ds.t.values[0] == 0.0 and ds.t.values[-1] == t_final, f"{run}: t {ds.t.values}")
    check(np.allclose(ds.s.values, t_final - ds.t.values[::-1], atol=1e-12), f"{run}: s {ds.s.values}")
    check(ds.sizes["t"] >= 3, f"{run}: the path has no output time inside (0, T)")
    check(np.array_equal(ds.f.sel(t=0.0).values, np.load(run / "initial.npy")), f"{run}: f(0)")
    check(np.array_equal(ds.f.isel(t=-1).values, np.load(run / "terminal.npy")), f"{run}: f(T)")
    check(np.array_equal(ds.g.isel(s=-1).values, np.load(run / "generated.npy")), f"{run}: g(T)")
    check(np.array_equal(ds.generated.values, np.load(run / "generated.npy")), f"{run}: generated")
    if (run / "samples.npy").exists():
        check(np.array_equal(ds.samples.values, np.load(run / "samples.npy")), f"{run}: samples")


def check_filter(run: Path):
    cfg = tomllib.loads((run / "config.toml").read_text())
    ds = xr.open_zarr(run / "run.zarr")
    check_axes(run, ds, cfg)
    rows = list(csv.DictReader(open(run / "filter.csv")))
    check(list(ds.iteration.values) == [int(r["iteration"]) for r in rows], f"{run}: iterations")
    for k in ds.iteration.values:
        check(np.array_equal(ds.iterate.sel(iteration=k).values, np.load(run / f"iterate_{k}.npy")),
              f"{run}: iterate {k}")


def check_sample(run: Path):
    cfg = tomllib.loads((run / "config.toml").read_text())
    summary = json.loads((run / "summary.json").read_text())
    ds = xr.open_zarr(run / "run.zarr")
    check(list(ds.t_min.values) == [s["t_min"] for s in summary["stops"]], f"{run}: t_min")
    check(np.allclose(ds.x.values, centres(cfg["grid"]["cells"], cfg["grid"]["half_width"]), atol=1e-12), f"{run}: x")
    check(np.array_equal(ds.data.values, np.load(run / "data.npy")), f"{run}: data")
    for k in range(ds.sizes["t_min"]):
        check(np.array_equal(ds.samples.isel(t_min=k).values, np.load(run / f"samples_{k}.npy")), f"{run}: samples {k}")
        if (run / f"trajectories_{k}.npy").exists():
            tr = np.load(run / f"trajectories_{k}.npy")
            check(np.array_equal(ds.trajectories.isel(t_min=k).values, tr), f"{run}: trajectories {k}")
            t = ds.trajectory_t.isel(t_min=k).values
            check(t[0] == cfg["sampler"]["t_final"] and np.isclose(t[-1], ds.t_min.values[k]), f"{run}: path times {k}")
    check(np.array_equal(ds.tube_fraction.values, [s["tube_fraction"] for s in summary["stops"]]), f"{run}: tube")
    if (run / "profiles.csv").exists():
        # one row per (t, x): t, x, log_u, score
        rows = list(csv.DictReader(open(run / "profiles.csv")))
        check(len(rows) == ds.sizes["t_check"] * ds.sizes["x"], f"{run}: {len(rows)} profile rows")
        for k, t in enumerate(ds.t_check.values):
            at = [r for r in rows if float(r["t"]) == t]
            check(np.allclose([float(r["x"]) for r in at], ds.x.values, rtol=0, atol=1e-12), f"{run}: profiles x")
            check(np.allclose(ds.log_u.isel(t_check=k).values, [float(r["log_u"]) for r in at], rtol=1e-12),
                  f"{run}: log_u at {t}")
            check(np.allclose(ds.score.isel(t_check=k, axis=0).values, [float(r["score"]) for r in at],
                              rtol=1e-12, atol=1e-12), f"{run}: score at {t}")


def check_theory(run: Path):
    report = json.loads((run / "check.json").read_text())
    ds = xr.open_zarr(run / "run.zarr")
    check(list(ds.t_check.values) == report["times"], f"{run}: t_check")
    check(np.array_equal(ds.kl.values, report["kl"]), f"{run}: kl")
    check(list(ds.measured.values) == [c["measured"] for c in report["checks"]], f"{run}: measured")
    check(list(ds.passed.values) == [int(c["pass"]) for c in report["checks"]], f"{run}: passed")
    check(ds.attrs["check_names"] == [c["name"] for c in report["checks"]], f"{run}: check names")
    check(ds.log_u.dims[0] == "t_check" and ds.score.dims[-1] == "axis", f"{run}: profile dims")


def main():
    for arg in sys.argv[1:]:
        run = Path(arg)
        if (run / "check.json").exists():
            check_theory(run)
        elif (run / "data.npy").exists():
            check_sample(run)
        elif (run / "filter.csv").exists():
            check_filter(run)
        elif (run / "generated.npy").exists():
            check_generate(run)
        elif (run / "run.zarr").exists():
            check_forward(run)
        else:
            failures.append(f"{run}: no dataset")
    for f in failures:
        print("FAIL", f)
    print(f"{len(sys.argv) - 1} runs, {len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
