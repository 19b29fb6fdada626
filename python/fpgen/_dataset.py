"""A run directory's run.zarr as an xarray Dataset, read with fpgen's own Zarr reader (no
zarr package needed): the layout `xarray.open_zarr(run_dir / "run.zarr")` gives."""

import json
from pathlib import Path

import numpy as np
import xarray as xr

from . import _fpgen


def open(run_dir) -> xr.Dataset:
    """The dataset of a run directory (or of a run.zarr store itself), loaded in memory.

    Coordinates t, x, y (cell centres) and the others named in the dataset; every resolved
    config key, the version, commit, command and device as attributes, and the run's
    summary.json as ``attrs["summary"]`` (JSON text; ``fpgen.summary(ds)`` parses it).
    """
    path = Path(run_dir)
    store = path if path.name.endswith(".zarr") else path / "run.zarr"
    if not (store / "zarr.json").is_file():
        raise FileNotFoundError(
            f"{store}: no dataset (the run wrote none: set output.dataset = true, the default)"
        )
    group_attrs, arrays = _fpgen.read_store(str(store))
    coords, data_vars = {}, {}
    for name, dims, shape, dtype, values, attrs in arrays:
        values = np.asarray(values).reshape(shape)
        if dtype == "int64":
            values = values.astype(np.int64)
        variable = (tuple(dims), values, json.loads(attrs))
        if len(dims) == 1 and dims[0] == name:
            coords[name] = variable
        else:
            data_vars[name] = variable
    # CF: a variable's `coordinates` attribute names its non-dimension coordinates
    for name in [n for (_, _, attrs) in list(data_vars.values()) for n in attrs.pop("coordinates", "").split()]:
        if name in data_vars:
            coords[name] = data_vars.pop(name)
    ds = xr.Dataset(data_vars, coords=coords, attrs=json.loads(group_attrs))
    summary = store.parent / "summary.json"
    if summary.is_file():
        ds.attrs["summary"] = summary.read_text()
    return ds


def summary(run) -> dict:
    """The run's summary.json as a dict, from a Dataset of `fpgen.open` or a run directory."""
    if isinstance(run, xr.Dataset):
        return json.loads(run.attrs["summary"])
    return json.loads((Path(run) / "summary.json").read_text())
