"""Types of the native module (PyO3). The public API is re-exported by `fpgen`."""

from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Union

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, Path]
FloatArray = npt.NDArray[np.float64]

class ConfigError(ValueError):
    """A configuration key or value is invalid; the message names the key."""

class FpgenError(RuntimeError):
    """A run failed: a numerical failure, no usable GPU, bad data or an unsupported request."""

class _ProgressSink(Protocol):
    def update(self, fraction: float, message: str) -> None: ...
    def close(self) -> None: ...

class Config:
    """A forward config (`run`, `generate`, `filter`) or a score-based diffusion config
    (`[data]`: `sample`, `check_theory`), validated on every change."""

    def __init__(self, sections: dict[str, Any]) -> None: ...
    @staticmethod
    def from_toml(path: PathLike) -> "Config": ...
    def set(self, key: str, value: Any) -> None: ...
    def update(self, values: dict[str, Any]) -> None: ...
    def get(self, key: str) -> Any: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_toml(self) -> str: ...
    def initial_from_array(self, f0: FloatArray, mass: Optional[float] = None) -> None: ...
    def copy(self) -> "Config": ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...

class ExactScore:
    """The exact score of a weighted point cloud as a callable score(x, t)."""

    def __init__(
        self,
        points: FloatArray,
        weights: Optional[list[float]] = None,
        lambda_: float = 0.0,
        diffusion: float = 1.0,
    ) -> None: ...
    def __call__(self, x: FloatArray, t: float) -> FloatArray: ...
    @property
    def dim(self) -> int: ...

ScoreFunction = Callable[[FloatArray, float], FloatArray]

def run(
    config: Config,
    out: PathLike,
    backend: str = "cpu",
    force: bool = False,
    progress: Optional[_ProgressSink] = None,
    callback: Optional[Callable[[float, FloatArray], Optional[bool]]] = None,
) -> Path: ...
def generate(
    config: Config,
    out: PathLike,
    backend: str = "cpu",
    force: bool = False,
    progress: Optional[_ProgressSink] = None,
) -> Path: ...
def filter(
    config: Config,
    iterations: int,
    out: PathLike,
    backend: str = "cpu",
    force: bool = False,
    progress: Optional[_ProgressSink] = None,
) -> Path: ...
def diffusion(
    config: Config,
    out: PathLike,
    checks: bool = False,
    points: Optional[FloatArray] = None,
    backend: str = "cpu",
    force: bool = False,
    progress: Optional[_ProgressSink] = None,
    score: Optional[ScoreFunction] = None,
) -> Path: ...
def critical_mass(
    dim: int,
    gamma: float,
    lambda_: float = 1.0,
    beta: float = 1.0,
    diffusion: float = 1.0,
    box_half_width: Optional[float] = None,
    mass: Optional[float] = None,
) -> dict[str, Any]: ...
def equilibrium(config: Config, mass: Optional[float] = None) -> dict[str, Any]: ...
def read_store(
    path: PathLike,
) -> tuple[str, list[tuple[str, list[str], list[int], str, FloatArray, str]]]: ...
