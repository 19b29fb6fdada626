"""The computations from Python: configs and arrays in, xarray Datasets out. Every function
runs the same library code as the CLI command of the same name; with ``out=None`` the run
directory is a temporary one, read into memory and removed."""

import json
import math
import tempfile
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np
import xarray as xr

from . import _fpgen, _progress
from ._dataset import open as open_dataset
from ._fpgen import Config

Score = Callable[[np.ndarray, float], np.ndarray]


def _in_place(out, work):
    """Run `work(out_dir) -> run_dir` into `out`, or into a temporary folder that is read
    back and removed when `out` is None."""
    if out is not None:
        return open_dataset(work(Path(out)))
    with tempfile.TemporaryDirectory(prefix="fpgen-") as tmp:
        return open_dataset(work(Path(tmp)))


def _with_dataset(config: Config) -> Config:
    # a run kept in memory needs its dataset, whatever the config says
    if config.get("output.dataset") is True:
        return config
    copy = config.copy()
    copy.set("output.dataset", True)
    return copy


def run(
    config: Config,
    out: Optional[Union[str, Path]] = None,
    backend: str = "auto",
    progress: bool = True,
    callback: Optional[Callable[[float, np.ndarray], Optional[bool]]] = None,
    force: bool = False,
) -> xr.Dataset:
    """Run the forward problem of `config` (``fpgen run``) and return its dataset.

    out: parent folder of the run directory ``<out>/<name>``; None keeps the result in
        memory only (a temporary directory, removed).
    backend: "cpu", "gpu" (f32) or "auto" (a hardware GPU when there is one and the
        config runs there, else the CPU).
    progress: a bar (tqdm when installed) while it runs; False for none.
    callback: ``callback(t, f)`` at every output time (t = 0 included) with f shaped as
        the grid; returning False stops the run there (status "interrupted", resumable
        with ``fpgen resume``).
    force: replace an existing ``<out>/<name>``.

    Ctrl-C stops the run at the next step boundary, writes its state and raises
    KeyboardInterrupt. Returns the dataset of run.zarr (``fpgen.open``).
    """
    config = _with_dataset(config) if out is None else config
    bar = _progress.make(progress, f"run {config.name}")
    return _in_place(out, lambda o: _fpgen.run(config, o, backend, force, bar, callback))


def generate(
    config: Config,
    out: Optional[Union[str, Path]] = None,
    backend: str = "auto",
    progress: bool = True,
    force: bool = False,
) -> xr.Dataset:
    """Forward to run.t_final, then the stabilised reverse-time solver back to t = 0
    (``fpgen generate``): the dataset holds f(t), the reverse path g(s), the generated
    density and its distances to f(0) (``fpgen.summary(ds)``)."""
    config = _with_dataset(config) if out is None else config
    bar = _progress.make(progress, f"generate {config.name}")
    return _in_place(out, lambda o: _fpgen.generate(config, o, backend, force, bar))


def filter(  # noqa: A001 - the CLI's command name
    config: Config,
    iterations: int = 3,
    out: Optional[Union[str, Path]] = None,
    backend: str = "auto",
    progress: bool = True,
    force: bool = False,
) -> xr.Dataset:
    """Density filtering (``fpgen filter``): `iterations` forward + reverse cycles from the
    initial density; the dataset holds the iterates and their metrics."""
    config = _with_dataset(config) if out is None else config
    bar = _progress.make(progress, f"filter {config.name}")
    return _in_place(out, lambda o: _fpgen.filter(config, iterations, o, backend, force, bar))


def _points(data) -> np.ndarray:
    points = np.ascontiguousarray(np.asarray(data, dtype=np.float64))
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or not 1 <= points.shape[1] <= 3 or points.shape[0] == 0:
        raise ValueError(f"data must be an (n, d) array with d in 1..3 (got shape {np.shape(data)})")
    return points


def _score_function(score: Optional[Score]):
    if score is None:
        return None
    if isinstance(score, _fpgen.ExactScore):
        return score

    def evaluate(x: np.ndarray, t: float) -> np.ndarray:
        # NumPy, JAX and PyTorch (CPU) results all convert here
        return np.ascontiguousarray(np.asarray(score(x, t), dtype=np.float64))

    return evaluate


def diffusion_config(
    points: np.ndarray,
    weights: Optional[Sequence[float]] = None,
    *,
    process: str = "heat",
    lambda_: Optional[float] = None,
    diffusion: float = 1.0,
    t_final: float = 1.0,
    t_min: Union[float, Sequence[float]] = 1e-3,
    eps: float = 1.0,
    samples: int = 1000,
    steps: int = 100,
    stepper: str = "exponential",
    start: str = "gaussian",
    seed: int = 0,
    trajectories: int = 0,
    cells: Optional[int] = None,
    half_width: Optional[float] = None,
    name: str = "sample",
) -> Config:
    """The diffusion config of `fpgen.sample` / `fpgen.check_theory` for data given as an
    array (the grid, for images and checks, covers the data and the spread of u(T))."""
    if process not in ("heat", "ou"):
        raise ValueError(f'process must be "heat" or "ou" (got {process!r})')
    lam = 0.0 if process == "heat" else (1.0 if lambda_ is None else float(lambda_))
    dim = points.shape[1]
    if half_width is None:
        # σ(T)² = 2 t_h(T) e^{−2λT}: the spread of u(T) around the scaled data
        t_h = diffusion * t_final if lam == 0 else diffusion * math.expm1(2 * lam * t_final) / (2 * lam)
        sigma = math.sqrt(2 * t_h) * math.exp(-lam * t_final)
        half_width = float(np.abs(points).max()) + 6 * sigma
    sampler = {
        "epsilon": float(eps),
        "t_final": float(t_final),
        "t_min": list(map(float, t_min)) if np.ndim(t_min) else float(t_min),
        "steps": int(steps),
        "stepper": stepper,
        "start": start,
        "samples": int(samples),
        "seed": int(seed),
        "trajectories": int(trajectories),
    }
    data = {"kind": "npy", "path": "data.npy"}
    if weights is not None:
        data["weights"] = [float(w) for w in np.asarray(weights, dtype=np.float64).ravel()]
    return Config(
        {
            "name": name,
            "data": data,
            "process": {"lambda": lam, "diffusion": float(diffusion)},
            "sampler": sampler,
            "grid": {"cells": int(cells or (401 if dim == 1 else 129)), "half_width": float(half_width)},
        }
    )


def sample(
    data: Union[np.ndarray, Config],
    weights: Optional[Sequence[float]] = None,
    *,
    score: Optional[Score] = None,
    backend: str = "cpu",
    out: Optional[Union[str, Path]] = None,
    progress: bool = True,
    force: bool = False,
    **settings,
) -> xr.Dataset:
    """Reverse SDE/ODE samples of score-based diffusion (``fpgen sample``).

    data: the data points, an (n, d) array (d ≤ 3), or a diffusion Config (its [data]).
    weights: positive weights of the points (normalised); None: equal.
    score: None for the data's exact score, or ``score(x, t) -> s`` with x an (n, d)
        float64 array of points in the process's own coordinates and t the time; it is
        called once per sampler step on the whole batch (a NumPy, JAX or PyTorch model
        wrapped to return an array). Runs on the CPU.
    settings: process ("heat" | "ou"), lambda_, diffusion, t_final, t_min (one or a list:
        one run per stopping time), eps (0: the probability-flow ODE, 1: the reverse SDE),
        samples, steps, stepper ("exponential" | "euler"), start ("gaussian" | "exact"),
        seed, trajectories, cells, half_width, name.

    Returns the dataset: the samples per t_min, the trajectories, the data.
    """
    run = _diffusion_run(data, weights, settings, score, backend, progress, force, checks=False)
    return _in_place(out, run)


def check_theory(
    data: Union[np.ndarray, Config],
    weights: Optional[Sequence[float]] = None,
    *,
    score: Optional[Score] = None,
    backend: str = "cpu",
    out: Optional[Union[str, Path]] = None,
    progress: bool = True,
    force: bool = False,
    **settings,
) -> dict:
    """The checks of the PDE theory of score-based diffusion (``fpgen check-theory``):
    Li–Yau (div s by central differences of the score), L^p growth and KL monotonicity of
    the backward Fokker–Planck solution driven by the score (evaluated on every grid face
    in one call per velocity refresh), and the concentration rate of the sampler.

    With ``score=`` a trained model is held against the checks; u(t), the density the KL
    is measured against, is the exact one of the data. Arguments as `fpgen.sample`.

    Returns check.json as a dict (``checks``: name, measured, criterion, pass; the KL and
    norm series) with ``passed`` (every check passed) and ``dataset`` (run.zarr).
    """
    run = _diffusion_run(data, weights, settings, score, backend, progress, force, checks=True)
    report = {}

    def work(o):
        run_dir = run(o)
        report.update(json.loads((run_dir / "check.json").read_text()))
        return run_dir

    report["dataset"] = _in_place(out, work)
    report["passed"] = all(c["pass"] for c in report["checks"])
    return report


def _diffusion_run(data, weights, settings, score, backend, progress, force, checks):
    """`out_dir -> run_dir` for `sample` or `check_theory` on an array or a Config."""
    if isinstance(data, Config):
        if weights is not None or settings:
            raise TypeError("with a Config, set weights and settings in the config (cfg.set)")
        config, points = data, None
    else:
        points = _points(data)
        config = diffusion_config(points, weights, **settings)
    bar = _progress.make(progress, f"{'check-theory' if checks else 'sample'} {config.name}")
    function = _score_function(score)
    return lambda o: _fpgen.diffusion(config, o, checks, points, backend, force, bar, function)


def critical_mass(
    dim: int,
    gamma: float,
    lambda_: float = 1.0,
    beta: float = 1.0,
    diffusion: float = 1.0,
    box_half_width: Optional[float] = None,
    mass: Optional[float] = None,
    statistics: str = "bose",
) -> dict:
    """The critical mass M_c(γ, d) of the nonlinear OU / Kaniadakis–Quarati model on ℝ^d
    and, with `box_half_width`, on the box [−L, L]^d (``fpgen critical-mass``); with a
    `mass`, its θ(M) (None at or above M_c) and condensate mass. ``statistics="fermi"``
    (mobility f(1 − βf^γ)) has no critical mass: the report says so, with θ(M)."""
    return _fpgen.critical_mass(dim, gamma, lambda_, beta, diffusion, box_half_width, mass, statistics)


def equilibrium(config: Config, mass: Optional[float] = None) -> xr.DataArray:
    """The discrete steady state f_θ of `mass` (default: initial.mass) on the grid of
    `config`: below the critical mass the state a run tends to; above it the regular part
    f_{θ=0} (the excess goes into the condensate at the origin). Attributes: theta
    (None above M_c), mass, origin_cell_mass."""
    e = _fpgen.equilibrium(config, mass)
    axes = ["x", "y"][: e["dim"]]
    coords = {a: e["centres"] for a in axes}
    attrs = {k: e[k] for k in ("theta", "mass", "origin_cell_mass")}
    return xr.DataArray(e["values"], coords=coords, dims=axes, name="f_equilibrium", attrs=attrs)
