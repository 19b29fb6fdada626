//! Options shared by several commands, and how they become a config, a device and a run
//! directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use fpgen::config::{Config, DiffusionConfig};
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};
use fpgen::io::RunDir;

/// Options of the commands that write run directories.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Parent folder of the run directories (and of batch.csv).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// cpu, gpu (f32), or auto: a hardware GPU when there is one and the command runs
    /// there, else the CPU (a software adapter only when WGPU_ADAPTER_NAME names it).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    /// Override a config key, e.g. --set grid.cells=513 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Replace existing run directories.
    #[arg(long)]
    pub force: bool,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// A command on one config file.
#[derive(clap::Args)]
pub struct ConfigArgs {
    pub config: PathBuf,
    #[command(flatten)]
    pub opts: RunArgs,
}

/// Load a forward config, naming the file in the error.
pub fn load_config(path: &Path, overrides: &[String]) -> Result<Config> {
    Config::load(path, overrides).with_context(|| format!("loading {}", path.display()))
}

/// The device for the grid of `cfg` (its f32 fields must fit one binding), after the auto
/// rule with `why_cpu`.
pub fn device_for_grid(choice: DeviceChoice, cfg: &Config, why_cpu: Option<String>) -> Result<Device> {
    Device::resolve_for(choice, DeviceNeeds::for_grid(&cfg.grid()?), why_cpu).context("opening the GPU")
}

impl RunArgs {
    /// Load a forward config, resolve the device (`auto` stays on the CPU when
    /// `unsupported` says why the GPU cannot run it), prepare the run directory.
    pub fn prepare(
        &self,
        config: &Path,
        unsupported: impl FnOnce(&Config) -> Option<String>,
    ) -> Result<(Config, Device, RunDir)> {
        let cfg = load_config(config, &self.overrides)?;
        let device = device_for_grid(self.backend, &cfg, unsupported(&cfg))?;
        let dir = RunDir::create(&self.out, &cfg.name, self.force)?;
        Ok((cfg, device, dir))
    }

    /// As `prepare`, for a score-based diffusion config.
    pub fn prepare_diffusion(&self, config: &Path) -> Result<(DiffusionConfig, Device, RunDir)> {
        let cfg = DiffusionConfig::load(config, &self.overrides)
            .with_context(|| format!("loading {}", config.display()))?;
        // the sampler splits the samples into chunks the device can bind
        let needs = DeviceNeeds::for_points(cfg.sampler.samples.max(cfg.data.count));
        let device = Device::resolve(self.backend, needs).context("opening the GPU")?;
        let dir = RunDir::create(&self.out, &cfg.name, self.force)?;
        Ok((cfg, device, dir))
    }
}

pub use fpgen::run::generate_filter::gpu_unsupported as reverse_unsupported;

/// A failure the command itself decides, with its exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

impl Exit {
    pub fn check_failed(message: impl Into<String>) -> Self {
        Self { code: fpgen::error::exit::CHECK_FAILED, message: message.into() }
    }
}

/// The exit code of a command's error: its own (`Exit`), else that of the library error
/// in the chain, else 2 (the command line was wrong).
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if let Some(exit) = error.downcast_ref::<Exit>() {
        return exit.code;
    }
    error
        .chain()
        .find_map(|cause| {
            cause
                .downcast_ref::<fpgen::Error>()
                .map(fpgen::Error::exit_code)
                .or_else(|| cause.downcast_ref::<fpgen::error::GpuError>().map(|_| fpgen::error::exit::GPU))
        })
        .unwrap_or(fpgen::error::exit::BAD_INPUT)
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PrecisionArg {
    F32,
    F64,
}

/// One benchmark row: a JSON line, or the table line `line` formats.
pub fn print_row<R: serde::Serialize>(json: bool, row: &R, line: impl FnOnce(&R) -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(row)?);
    } else {
        println!("{}", line(row));
    }
    Ok(())
}
