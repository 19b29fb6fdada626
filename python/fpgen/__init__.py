"""fpgen: PDE-based generative models (the nonlinear Ornstein–Uhlenbeck /
Kaniadakis–Quarati Fokker–Planck equation forward and in reverse time, and classical
score-based diffusion) on the CPU and on GPUs, from Python.

    import fpgen
    cfg = fpgen.Config.from_toml("configs/subcritical_2d.toml")
    cfg.set("grid.cells", 129)
    ds = fpgen.run(cfg)                 # an xarray Dataset: f(t, x, y), diagnostics, ...
    ds.f.isel(t=-1).plot()

Every computation is the fpgen library's (the CLI's) code; results are the run directory's
run.zarr as xarray. See help(fpgen.run), help(fpgen.sample), help(fpgen.Config).
"""

from ._api import (
    check_theory,
    critical_mass,
    diffusion_config,
    equilibrium,
    filter,
    generate,
    run,
    sample,
)
from ._dataset import open, summary
from ._fpgen import Config, ConfigError, ExactScore, FpgenError, __version__

exact_score = ExactScore

__all__ = [
    "Config",
    "ConfigError",
    "ExactScore",
    "FpgenError",
    "__version__",
    "check_theory",
    "critical_mass",
    "diffusion_config",
    "equilibrium",
    "exact_score",
    "filter",
    "generate",
    "open",
    "run",
    "sample",
    "summary",
]
