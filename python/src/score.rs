//! Scores from Python: a callable `score(x: ndarray[n, d], t: float) -> ndarray[n, d]`
//! driving the library's samplers and checks (`UserScore`), and the library's exact score
//! of a point cloud as such a callable (`ExactScore`).

use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use fpgen::diffusion::sampler::{BatchScore, ExactScore};
use fpgen::model::score::{LinearProcess, PointCloud};

/// A Python callable as the library's batch score: called once per batch with the GIL
/// held; its first exception is kept and re-raised when the computation returns.
pub struct UserScore {
    pub function: Py<PyAny>,
    pub dim: usize,
    pub error: Option<PyErr>,
}

impl UserScore {
    fn call(&self, py: Python<'_>, t: f64, x: &[f64], out: &mut [f64]) -> PyResult<()> {
        let n = x.len() / self.dim;
        let points = ndarray::Array2::from_shape_vec((n, self.dim), x.to_vec())
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .into_pyarray(py);
        let result = self.function.call1(py, (points, t))?;
        let array: PyReadonlyArrayDyn<'_, f64> = result.extract(py).map_err(|_| {
            PyValueError::new_err(format!(
                "the score must return a float64 array of shape ({n}, {}) (got {})",
                self.dim,
                result.bind(py).get_type().name().map(|s| s.to_string()).unwrap_or_default()
            ))
        })?;
        if array.shape() != [n, self.dim] {
            return Err(PyValueError::new_err(format!(
                "the score returned shape {:?} for points of shape ({n}, {})",
                array.shape(),
                self.dim
            )));
        }
        for (o, v) in out.iter_mut().zip(array.as_array().iter()) {
            *o = *v;
        }
        Ok(())
    }
}

impl BatchScore for UserScore {
    fn evaluate(&mut self, t: f64, x: &[f64], out: &mut [f64]) -> fpgen::Result<()> {
        if self.error.is_some() {
            return Err(fpgen::Error::Numerics("the score raised an exception".into()));
        }
        let outcome = Python::attach(|py| self.call(py, t, x, out));
        outcome.map_err(|e| {
            let message = format!("the score raised an exception at t = {t:e}: {e}");
            self.error = Some(e);
            fpgen::Error::Numerics(message)
        })
    }
}

/// The exact score s(t, x) = ∇ log u(t, x) of data given as a weighted point cloud
/// (u_0 = Σ w_j δ_{y_j}), for the heat equation (`lambda_ = 0`) or linear OU, as a
/// callable ``score(x, t)`` on an (n, d) array: the one fpgen's samplers use, so that
/// passing it as ``score=`` gives the built-in samples bit for bit.
#[pyclass(name = "ExactScore", module = "fpgen")]
pub struct PyExactScore {
    process: LinearProcess,
    cloud: PointCloud,
}

#[pymethods]
impl PyExactScore {
    #[new]
    #[pyo3(signature = (points, weights=None, lambda_=0.0, diffusion=1.0))]
    fn new(
        points: PyReadonlyArrayDyn<'_, f64>,
        weights: Option<Vec<f64>>,
        lambda_: f64,
        diffusion: f64,
    ) -> PyResult<Self> {
        let (values, dim) = crate::compute::points_of(&points)?;
        let cloud = PointCloud::new(dim, values, weights.as_deref()).map_err(PyValueError::new_err)?;
        Ok(Self { process: LinearProcess { lambda: lambda_, diffusion }, cloud })
    }

    fn __call__<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
        t: f64,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
        let (values, dim) = crate::compute::points_of(&x)?;
        if dim != self.cloud.dim {
            return Err(PyValueError::new_err(format!(
                "points of dimension {dim} for data of dimension {}",
                self.cloud.dim
            )));
        }
        let mut out = vec![0.0; values.len()];
        let mut score = ExactScore { process: self.process, cloud: &self.cloud };
        py.detach(|| score.evaluate(t, &values, &mut out)).map_err(crate::errors::to_py)?;
        ndarray::Array2::from_shape_vec((values.len() / dim, dim), out)
            .map(|a| a.into_pyarray(py))
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    #[getter]
    fn dim(&self) -> usize {
        self.cloud.dim
    }
}
