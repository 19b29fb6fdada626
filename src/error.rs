//! Typed library errors. The CLI adds context with anyhow.

use std::path::PathBuf;

/// A configuration value that cannot be used, with the dotted key that holds it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Not `#[from]`: that would also make it the source, and the CLI's error chain
    // would print the message twice.
    #[error("invalid configuration: {0}")]
    Config(ConfigError),
    #[error("cannot parse configuration {path}: {message}")]
    ConfigSyntax { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("{0} already exists (pass --force to replace it)")]
    RunDirExists(PathBuf),
    #[error("numerical failure: {0}")]
    Numerics(String),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// The process exit code of this class of failure (documented in the README):
    /// 2 bad input, 3 numerical failure, 4 no usable GPU, 5 I/O, 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_)
            | Error::ConfigSyntax { .. }
            | Error::Data { .. }
            | Error::RunDirExists(_)
            | Error::Unsupported(_) => exit::BAD_INPUT,
            Error::Numerics(_) => exit::NUMERICAL,
            Error::Gpu(_) => exit::GPU,
            Error::Io { .. } => exit::IO,
            Error::Interrupted(_) => exit::INTERRUPTED,
        }
    }
}

/// Exit codes by class of failure.
pub mod exit {
    /// A config key, a flag or an input file is wrong (clap's usage errors are 2 too).
    pub const BAD_INPUT: i32 = 2;
    /// The numbers failed: NaN/Inf, an unstable fixed Δt, lost mass, a non-finite sample.
    pub const NUMERICAL: i32 = 3;
    /// No usable GPU: no adapter, no adapter of the name asked for, a grid over its limits.
    pub const GPU: i32 = 4;
    /// Reading or writing a file failed (permissions, a full disk).
    pub const IO: i32 = 5;
    /// A check ran and failed: `verify` above tolerance, a `check-theory` check.
    pub const CHECK_FAILED: i32 = 6;
    /// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why no usable device could be had.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found (WGPU_BACKEND = {backend:?}); install a Vulkan driver, e.g. mesa-vulkan-drivers for lavapipe")]
    NoAdapter { backend: Option<String> },
    #[error("no GPU adapter's name contains WGPU_ADAPTER_NAME = {wanted:?} (adapters: {available})")]
    NoNamedAdapter { wanted: String, available: String },
    #[error("FPGEN_ADAPTER_INDEX = {index:?} names no adapter (adapters, hardware first: {available})")]
    NoIndexedAdapter { index: String, available: String },
    #[error("cannot open the GPU device on {adapter}: {message}")]
    Device { adapter: String, message: String },
    #[error("the grid needs {needed} bytes per buffer but the adapter's {limit} is {available} bytes; the largest N that fits is {largest_cells}")]
    Limit { limit: &'static str, needed: u64, available: u64, largest_cells: usize },
    #[error("GPU: {0}")]
    Other(String),
}
