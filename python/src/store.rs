//! Reading a run's run.zarr for `fpgen.open`, with the library's own reader (so that no
//! zarr package is needed); the Python half labels it as an xarray Dataset.

use std::path::PathBuf;

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::to_py;
use fpgen::io::zarr::{DType, ZarrStore};

/// (group attributes as JSON, [(name, dims, shape, dtype, values, attributes as JSON)])
/// of the store at `path`; values flat, float64 (int64 arrays are converted back in
/// Python).
#[pyfunction]
pub fn read_store<'py>(py: Python<'py>, path: PathBuf) -> PyResult<(String, Bound<'py, PyList>)> {
    let store = ZarrStore::open(&path).map_err(to_py)?;
    let arrays = PyList::empty(py);
    for info in store.arrays() {
        let values = store.read_all(&info.name).map_err(to_py)?;
        let dtype = match info.dtype {
            DType::F64 => "float64",
            DType::I64 => "int64",
        };
        let attributes = serde_json::Value::Object(info.attributes).to_string();
        arrays.append((info.name, info.dims, info.shape, dtype, values.into_pyarray(py), attributes))?;
    }
    Ok((serde_json::Value::Object(store.attributes().clone()).to_string(), arrays))
}
