//! `fpgen._fpgen`: the native half of the Python package. It holds no numerics of its own:
//! configs, runs, samplers and checks are the `fpgen` crate's, called with NumPy arrays in
//! and run directories (read back as xarray by the Python half) out.

use pyo3::prelude::*;

mod compute;
mod config;
mod convert;
mod errors;
mod score;
mod store;

#[pymodule]
fn _fpgen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // the library's warnings (an even grid, a γ without a certified M_c) on stderr, as
    // the CLI shows them; RUST_LOG overrides
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .try_init();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<config::PyConfig>()?;
    m.add_class::<score::PyExactScore>()?;
    m.add_function(wrap_pyfunction!(compute::run, m)?)?;
    m.add_function(wrap_pyfunction!(compute::generate, m)?)?;
    m.add_function(wrap_pyfunction!(compute::filter, m)?)?;
    m.add_function(wrap_pyfunction!(compute::diffusion, m)?)?;
    m.add_function(wrap_pyfunction!(compute::critical_mass, m)?)?;
    m.add_function(wrap_pyfunction!(compute::equilibrium, m)?)?;
    m.add_function(wrap_pyfunction!(store::read_store, m)?)?;
    Ok(())
}
