//! Reading .npy inputs named by a config (initial fields, point clouds): float64 or
//! float32, checked against the shape they must have.

use std::path::Path;

use crate::error::{Error, Result};
use crate::grid::Grid;

/// A float64 or float32 .npy array (of dimension D), as float64.
pub fn read_npy_as_f64<D: ndarray::Dimension>(path: &Path) -> Result<ndarray::Array<f64, D>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if let Ok(a) = ndarray_npy::ReadNpyExt::read_npy(&file) {
        return Ok(a);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let a32: ndarray::Array<f32, D> = ndarray_npy::ReadNpyExt::read_npy(file).map_err(|e| Error::Data {
        path: path.to_path_buf(),
        message: format!("not a float32/float64 .npy array of the expected dimension: {e}"),
    })?;
    Ok(a32.mapv(|v| v as f64))
}

/// Read a float64 or float32 .npy array whose shape must be the grid's ([N] or [N, N]).
pub fn read_field_npy(path: &Path, grid: &Grid) -> Result<Vec<f64>> {
    let data_err = |message: String| Error::Data { path: path.to_path_buf(), message };
    let array: ndarray::ArrayD<f64> = read_npy_as_f64(path)?;
    if array.shape() != grid.shape().as_slice() {
        return Err(data_err(format!(
            "shape {:?} does not match the grid ({:?}: grid.cells = {}, model.dim = {})",
            array.shape(),
            grid.shape(),
            grid.cells,
            grid.dim
        )));
    }
    Ok(array.iter().copied().collect())
}
