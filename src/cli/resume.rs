//! `fpgen resume`: continue a forward run from its checkpoints (written every
//! `run.checkpoint_every` steps or `run.checkpoint_seconds`, and when a run is interrupted
//! or stops at a limit), particles included; or a `filter` run from its last iterate.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::*;
use fpgen::gpu::DeviceChoice;
use fpgen::io::RunDir;
use fpgen::run::RunOptions;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (with its config.toml and checkpoint/, or filter.csv).
    pub run_dir: PathBuf,
    /// A filter run: go on to this many iterations (default: those it was asked for).
    #[arg(long)]
    pub iterations: Option<usize>,
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
    let Args { run_dir, iterations, t_final, mut overrides, backend, quiet } = args;
    overrides.extend(t_final.map(|t| format!("run.t_final={t:e}")));
    let cfg = load_config(&run_dir.join("config.toml"), &overrides)?;
    if run_dir.join("filter.csv").is_file() {
        return resume_filter(&run_dir, &cfg, iterations, backend, quiet);
    }
    if iterations.is_some() {
        return Err(Exit { code: 2, message: "--iterations applies to a filter run only".into() }.into());
    }
    let choice = backend.unless_unsupported(fpgen::forward::gpu_unsupported(&cfg));
    let device = device_for_grid(choice, &cfg, None)?;
    let mut dir = RunDir::open_existing(&run_dir)?;
    let result =
        fpgen::run::run_config(&cfg, choice, &mut dir, &RunOptions { quiet, on_output: None }, &device, true);
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

/// Go on with a filter run from its last iterate, to `iterations` (or those it was asked for).
fn resume_filter(
    run_dir: &std::path::Path,
    cfg: &fpgen::config::Config,
    iterations: Option<usize>,
    backend: DeviceChoice,
    quiet: bool,
) -> Result<()> {
    let requested = || -> Option<usize> {
        let text = std::fs::read_to_string(run_dir.join("summary.json")).ok()?;
        let summary: serde_json::Value = serde_json::from_str(&text).ok()?;
        summary["iterations_requested"].as_u64().map(|n| n as usize)
    };
    let Some(iterations) = iterations.or_else(requested) else {
        return Err(Exit {
            code: 2,
            message:
                "the run's summary.json does not say how many iterations it was asked for; give --iterations"
                    .into(),
        }
        .into());
    };
    let choice = backend.unless_unsupported(reverse_unsupported(cfg));
    let device = device_for_grid(choice, cfg, None)?;
    let mut dir = RunDir::open_existing(run_dir)?;
    let result = fpgen::run::generate_filter::filter_run(cfg, &mut dir, iterations, quiet, &device, true);
    dir.finish()?;
    let summary = result.with_context(|| format!("resume `{}`", cfg.name))?;
    log::info!("filter: {} after {} iterations", summary.status, summary.iterations.len() - 1);
    Ok(())
}
