//! The library's errors as Python exceptions: `ConfigError` (a ValueError) for a bad key
//! or value, named as the CLI names it; `FpgenError` (a RuntimeError) for numerical, GPU
//! and data failures; OSError, FileExistsError and KeyboardInterrupt where Python has
//! its own.

use pyo3::exceptions::{PyFileExistsError, PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    fpgen,
    ConfigError,
    PyValueError,
    "A configuration key or value is invalid; the message names the key."
);
pyo3::create_exception!(
    fpgen,
    FpgenError,
    PyRuntimeError,
    "A run failed: a numerical failure, no usable GPU, bad data or an unsupported request."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    m.add("FpgenError", m.py().get_type::<FpgenError>())?;
    Ok(())
}

/// The Python exception of a library error.
pub fn to_py(error: fpgen::Error) -> PyErr {
    use fpgen::Error as E;
    let message = error.to_string();
    match error {
        E::Config(_) | E::ConfigSyntax { .. } => ConfigError::new_err(message),
        E::Io { .. } => PyOSError::new_err(message),
        E::RunDirExists(_) => {
            PyFileExistsError::new_err(format!("{message} (pass force=True to replace it)"))
        }
        E::Interrupted(_) => PyKeyboardInterrupt::new_err(message),
        _ => FpgenError::new_err(message),
    }
}

/// A config error raised from the binding itself.
pub fn config_error(key: &str, message: impl std::fmt::Display) -> PyErr {
    ConfigError::new_err(format!("invalid configuration: `{key}`: {message}"))
}
