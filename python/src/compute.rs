//! The computations: each resolves its device, prepares `<out>/<name>` and calls the
//! library's pipeline with the GIL released. While it runs, SIGINT/SIGTERM only ask for a
//! stop at the next step boundary (the run directory is finished, status `interrupted`)
//! and `KeyboardInterrupt` is raised afterwards; progress goes to the Python object given
//! (tqdm or a line on stderr). Each returns the run directory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::config::PyConfig;
use crate::convert::json_to_py;
use crate::errors::{config_error, to_py};
use crate::score::UserScore;
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};
use fpgen::io::RunDir;
use fpgen::model::{equilibrium as eq, ModelParams};
use fpgen::run::progress::{self, ProgressSink};
use fpgen::run::{interrupt, RunOptions};

fn choice_of(backend: &str) -> PyResult<DeviceChoice> {
    match backend.to_ascii_lowercase().as_str() {
        "cpu" => Ok(DeviceChoice::Cpu),
        "gpu" => Ok(DeviceChoice::Gpu),
        "auto" => Ok(DeviceChoice::Auto),
        other => Err(PyValueError::new_err(format!(
            "backend must be \"cpu\", \"gpu\" or \"auto\" (got {other:?})"
        ))),
    }
}

fn resolve(choice: DeviceChoice, needs: DeviceNeeds) -> PyResult<Device> {
    Device::resolve(choice, needs).map_err(|e| to_py(e.into()))
}

/// (values in C order, d) of an (n, d) array, or of an (n,) array as n points in 1D.
pub fn points_of(array: &PyReadonlyArrayDyn<'_, f64>) -> PyResult<(Vec<f64>, usize)> {
    let dim = match array.shape() {
        [_] => 1,
        [_, d] => *d,
        shape => {
            return Err(PyValueError::new_err(format!(
                "points must be an (n, d) array (got shape {shape:?})"
            )))
        }
    };
    Ok((array.as_array().iter().copied().collect(), dim))
}

/// Progress to a Python object with `update(fraction, message)` and `close()`.
struct PySink(Py<PyAny>);

impl ProgressSink for PySink {
    fn report(&self, fraction: f64, message: &str) {
        Python::attach(|py| {
            let _ = self.0.call_method1(py, "update", (fraction, message));
        });
    }

    fn finish(&self) {
        Python::attach(|py| {
            let _ = self.0.call_method0(py, "close");
        });
    }
}

/// Run `work` with the GIL released, signals turned into stop requests and progress sent
/// to `progress`; returns what it returned and whether a signal asked for a stop.
fn guarded<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    work: impl FnOnce() -> T + Send,
) -> (T, bool) {
    interrupt::clear();
    progress::set_sink(progress.map(|p| Arc::new(PySink(p)) as Arc<dyn ProgressSink>));
    let previous = interrupt::install_for_library();
    let result = py.detach(work);
    previous.restore();
    progress::set_sink(None);
    let signalled = interrupt::requested();
    interrupt::clear();
    (result, signalled)
}

/// The run directory `<out>/<name>`, or the error. A stop the caller's callback asked for
/// is no error (the run's status says `interrupted`).
fn finish(dir: PathBuf, outcome: fpgen::Result<()>, signalled: bool, by_callback: bool) -> PyResult<PathBuf> {
    match outcome {
        Err(fpgen::Error::Interrupted(_)) if by_callback && !signalled => Ok(dir),
        Err(e @ fpgen::Error::Interrupted(_)) => {
            Err(PyKeyboardInterrupt::new_err(format!("{e}; what was computed is in {}", dir.display())))
        }
        Err(e) => Err(to_py(e)),
        Ok(()) if signalled => Err(PyKeyboardInterrupt::new_err(format!(
            "interrupted; the run stopped at a step boundary and its state is in {} (status \"interrupted\")",
            dir.display()
        ))),
        Ok(()) => Ok(dir),
    }
}

/// A forward config, its device (`auto` falls back to the CPU for `unsupported`'s reason)
/// and its run directory `<out>/<name>`.
fn forward_setup(
    config: &PyConfig,
    what: &str,
    backend: &str,
    out: &std::path::Path,
    force: bool,
    unsupported: fn(&fpgen::config::Config) -> Option<String>,
) -> PyResult<(fpgen::config::Config, DeviceChoice, Device, RunDir)> {
    let cfg = config.forward(what)?;
    let grid = cfg.grid().map_err(|e| to_py(e.into()))?;
    let choice = choice_of(backend)?;
    let device = Device::resolve_for(choice, DeviceNeeds::for_grid(&grid), unsupported(&cfg))
        .map_err(|e| to_py(e.into()))?;
    let dir = RunDir::create(out, &cfg.name, force).map_err(to_py)?;
    Ok((cfg, choice, device, dir))
}

/// The forward run of `config` into `<out>/<name>`; `callback(t, f)` at output times (f
/// shaped as the grid) may return False to stop the run there.
#[pyfunction]
#[pyo3(signature = (config, out, backend="cpu", force=false, progress=None, callback=None))]
pub fn run(
    py: Python<'_>,
    config: &PyConfig,
    out: PathBuf,
    backend: &str,
    force: bool,
    progress: Option<Py<PyAny>>,
    callback: Option<Py<PyAny>>,
) -> PyResult<PathBuf> {
    let (cfg, choice, device, mut dir) =
        forward_setup(config, "run", backend, &out, force, fpgen::forward::gpu_unsupported)?;
    let grid = cfg.grid().map_err(|e| to_py(e.into()))?;
    let callback_error: Arc<Mutex<Option<PyErr>>> = Arc::new(Mutex::new(None));
    let stopped_by_callback = Arc::new(AtomicBool::new(false));
    let on_output = callback.map(|function| {
        let (error, stopped) = (callback_error.clone(), stopped_by_callback.clone());
        let shape = grid.shape();
        let hook: fpgen::run::forward::OutputHook = Arc::new(move |t: f64, f: &[f64]| {
            let go_on = Python::attach(|py| -> PyResult<bool> {
                let field = ndarray::ArrayD::from_shape_vec(shape.clone(), f.to_vec())
                    .map_err(|e| PyValueError::new_err(e.to_string()))?
                    .into_pyarray(py);
                let answer = function.call1(py, (t, field))?;
                // None (a callback that returns nothing) goes on; False stops
                Ok(answer.is_none(py) || answer.is_truthy(py)?)
            });
            match go_on {
                Ok(true) => true,
                Ok(false) => {
                    stopped.store(true, Ordering::SeqCst);
                    false
                }
                Err(e) => {
                    if let Ok(mut slot) = error.lock() {
                        slot.get_or_insert(e);
                    }
                    stopped.store(true, Ordering::SeqCst);
                    false
                }
            }
        });
        hook
    });
    let quiet = progress.is_none();
    let options = RunOptions { quiet, on_output };
    let (outcome, signalled) = guarded(py, progress, || {
        let result = fpgen::run::run_config(&cfg, choice, &mut dir, &options, &device, false);
        let target = dir.finish();
        (result.map(|_| ()), target)
    });
    let (result, target) = outcome;
    let target = target.map_err(to_py)?;
    if let Some(e) = callback_error.lock().ok().and_then(|mut slot| slot.take()) {
        return Err(e);
    }
    let by_callback = stopped_by_callback.load(Ordering::SeqCst);
    finish(target, result, signalled && !by_callback, by_callback)
}

/// Forward to run.t_final, then the reverse-time solver back to t = 0 (`fpgen generate`).
#[pyfunction]
#[pyo3(signature = (config, out, backend="cpu", force=false, progress=None))]
pub fn generate(
    py: Python<'_>,
    config: &PyConfig,
    out: PathBuf,
    backend: &str,
    force: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PathBuf> {
    reverse_pipeline(py, config, out, backend, force, progress, "generate", None)
}

/// K forward + reverse cycles from the initial density (`fpgen filter`).
#[pyfunction]
#[pyo3(signature = (config, iterations, out, backend="cpu", force=false, progress=None))]
pub fn filter(
    py: Python<'_>,
    config: &PyConfig,
    iterations: usize,
    out: PathBuf,
    backend: &str,
    force: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PathBuf> {
    if iterations == 0 {
        return Err(PyValueError::new_err("iterations must be at least 1"));
    }
    reverse_pipeline(py, config, out, backend, force, progress, "filter", Some(iterations))
}

#[allow(clippy::too_many_arguments)]
fn reverse_pipeline(
    py: Python<'_>,
    config: &PyConfig,
    out: PathBuf,
    backend: &str,
    force: bool,
    progress: Option<Py<PyAny>>,
    what: &str,
    iterations: Option<usize>,
) -> PyResult<PathBuf> {
    let (cfg, _, device, mut dir) =
        forward_setup(config, what, backend, &out, force, fpgen::run::generate_filter::gpu_unsupported)?;
    let quiet = progress.is_none();
    let ((result, target), signalled) = guarded(py, progress, || {
        let result = match iterations {
            None => fpgen::run::generate_filter::generate_run(&cfg, &mut dir, quiet, &device).map(|_| ()),
            Some(k) => {
                fpgen::run::generate_filter::filter_run(&cfg, &mut dir, k, quiet, &device, false).map(|_| ())
            }
        };
        (result, dir.finish())
    });
    finish(target.map_err(to_py)?, result, signalled, false)
}

/// The diffusion config with the points given in memory (n × d), and the device.
fn diffusion_setup(
    config: &PyConfig,
    points: Option<PyReadonlyArrayDyn<'_, f64>>,
    backend: &str,
    user_score: bool,
    what: &str,
) -> PyResult<(fpgen::config::DiffusionConfig, Device)> {
    let mut cfg = config.diffusion(what)?;
    if let Some(points) = points {
        let (values, dim) = points_of(&points)?;
        cfg.data.points_array = Some(Arc::new((values, dim)));
    }
    let mut choice = choice_of(backend)?;
    if user_score {
        if choice == DeviceChoice::Gpu {
            return Err(PyValueError::new_err(
                "a score given as a function runs on the CPU: use backend=\"cpu\"",
            ));
        }
        choice = DeviceChoice::Cpu;
    }
    let device = resolve(choice, DeviceNeeds::for_points(cfg.sampler.samples.max(cfg.data.count)))?;
    Ok((cfg, device))
}

/// A score-based diffusion config's samplers (`fpgen sample`), or with `checks` the checks
/// of the PDE theory (`fpgen check-theory`, check.json), with the data's exact score or
/// `score(x, t)` (own coordinates, the whole batch at once).
#[pyfunction]
#[pyo3(signature = (config, out, checks=false, points=None, backend="cpu", force=false, progress=None, score=None))]
#[allow(clippy::too_many_arguments)]
pub fn diffusion(
    py: Python<'_>,
    config: &PyConfig,
    out: PathBuf,
    checks: bool,
    points: Option<PyReadonlyArrayDyn<'_, f64>>,
    backend: &str,
    force: bool,
    progress: Option<Py<PyAny>>,
    score: Option<Py<PyAny>>,
) -> PyResult<PathBuf> {
    let what = if checks { "check_theory" } else { "sample" };
    let (cfg, device) = diffusion_setup(config, points, backend, score.is_some(), what)?;
    let dim = cfg.dim().map_err(to_py)?;
    let mut user = score.map(|function| UserScore { function, dim, error: None });
    let mut dir = RunDir::create(&out, &cfg.name, force).map_err(to_py)?;
    let quiet = progress.is_none();
    let ((result, target), signalled) = guarded(py, progress, || {
        let score = user.as_mut().map(|u| u as &mut dyn fpgen::diffusion::sampler::BatchScore);
        let result = if checks {
            dir.mark_started();
            fpgen::run::check_theory::check_theory(&cfg, dir.path(), quiet, &device, score).map(|_| ())
        } else {
            fpgen::run::sample::sample_run(&cfg, &mut dir, quiet, &device, score).map(|_| ())
        };
        (result, dir.finish())
    });
    if let Some(e) = user.and_then(|u| u.error) {
        return Err(e);
    }
    finish(target.map_err(to_py)?, result, signalled, false)
}

/// M_c(γ, d) on ℝ^d and on the box [−L, L]^d, and with a mass M its θ and condensate.
#[pyfunction]
#[pyo3(signature = (dim, gamma, lambda_=1.0, beta=1.0, diffusion=1.0, box_half_width=None, mass=None, statistics="bose"))]
#[allow(clippy::too_many_arguments)]
pub fn critical_mass<'py>(
    py: Python<'py>,
    dim: usize,
    gamma: f64,
    lambda_: f64,
    beta: f64,
    diffusion: f64,
    box_half_width: Option<f64>,
    mass: Option<f64>,
    statistics: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let statistics = match statistics {
        "bose" => fpgen::model::Statistics::Bose,
        "fermi" => fpgen::model::Statistics::Fermi,
        other => {
            return Err(config_error(
                "model.statistics",
                format!("must be \"bose\" or \"fermi\" (got {other:?})"),
            ))
        }
    };
    let p = ModelParams { statistics, ..ModelParams::bose(lambda_, beta, gamma, diffusion) };
    p.validate().map_err(|e| to_py(e.into()))?;
    if dim != 1 && dim != 2 {
        return Err(config_error("model.dim", format!("must be 1 or 2 (got {dim})")));
    }
    if lambda_ <= 0.0 {
        return Err(config_error("model.lambda", format!("must be > 0 for a steady state (got {lambda_})")));
    }
    if let Some(l) = box_half_width {
        if !(l.is_finite() && l > 0.0) {
            return Err(config_error("grid.half_width", format!("must be > 0 (got {l})")));
        }
    }
    if let Some(m) = mass {
        if !(m.is_finite() && m > 0.0) {
            return Err(config_error("initial.mass", format!("must be > 0 (got {m})")));
        }
    }
    eq::check_certified_gamma(gamma, dim).map_err(|why| config_error("model.gamma", why))?;
    let report = eq::critical_mass_report(&p, dim, box_half_width, mass);
    let json = serde_json::to_value(&report).map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

/// The discrete steady state f_θ of mass `mass` (default: initial.mass) on the config's
/// grid, as a dict: values (grid-shaped), centres, theta (None above M_c), the
/// origin-cell mass.
#[pyfunction]
#[pyo3(signature = (config, mass=None))]
pub fn equilibrium<'py>(
    py: Python<'py>,
    config: &PyConfig,
    mass: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = config.forward("equilibrium")?;
    let grid = cfg.grid().map_err(|e| to_py(e.into()))?;
    let mass = mass.unwrap_or(cfg.initial.mass);
    if !(mass.is_finite() && mass > 0.0) {
        return Err(config_error("initial.mass", format!("must be > 0 (got {mass})")));
    }
    let (theta, f) = eq::grid_profile(&cfg.model_params(), &grid, mass);
    let origin_cell_mass = grid.origin_cells().iter().map(|&i| f[i]).sum::<f64>() * grid.cell_volume();
    let values = ndarray::ArrayD::from_shape_vec(grid.shape(), f)
        .map_err(|e| PyValueError::new_err(e.to_string()))?
        .into_pyarray(py);
    let out = PyDict::new(py);
    out.set_item("values", values)?;
    out.set_item("centres", grid.centres().into_pyarray(py))?;
    out.set_item("theta", theta.is_finite().then_some(theta))?;
    out.set_item("mass", mass)?;
    out.set_item("origin_cell_mass", origin_cell_mass)?;
    out.set_item("dim", grid.dim)?;
    Ok(out)
}
