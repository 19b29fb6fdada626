//! `fpgen resume`: continue a forward run from its checkpoints (written every
//! `run.checkpoint_every` steps or `run.checkpoint_seconds`, and when a run is interrupted
//! or stops at a limit), particles included.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::*;
use fpgen::config::Precision;
use fpgen::gpu::DeviceChoice;
use fpgen::io::RunDir;
use fpgen::run::RunOptions;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (with its config.toml and checkpoint/).
    pub run_dir: PathBuf,
    /// Go on to this time instead of the config's run.t_final.
    #[arg(long)]
    pub t_final: Option<f64>,
    /// Override a key of the run's config, e.g. --set run.max_steps=1000000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// cpu, gpu (f32) or auto, as for `run`.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { run_dir, t_final, mut overrides, backend, quiet } = args;
    overrides.extend(t_final.map(|t| format!("run.t_final={t:e}")));
    let cfg = load_config(&run_dir.join("config.toml"), &overrides)?;
    let choice = backend.unless_unsupported(
        (cfg.run.precision == Precision::F64)
            .then(|| "run.precision = \"f64\"; the GPU computes in f32".to_string()),
    );
    let device = device_for_grid(choice, &cfg)?;
    let mut dir = RunDir::open_existing(&run_dir)?;
    let result = fpgen::run::run_config(&cfg, choice, &mut dir, &RunOptions { quiet }, &device, true);
    dir.finish()?;
    let report = result.with_context(|| format!("resume `{}`", cfg.name))?;
    if let Some(summary) = &report.grid {
        log::info!("{}: {}", summary.status, summary.message);
    }
    if let Some(p) = &report.particles {
        log::info!("particles: {} at t = {:.6e} after {} steps", p.status, p.t_final, p.steps);
    }
    Ok(())
}
