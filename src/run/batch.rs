//! `fpgen batch`: several configs in one process on one device, one run directory each,
//! and batch.csv with every run's summary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::gpu::{Device, DeviceChoice, DeviceNeeds};
use crate::io::{self, CsvWriter};
use crate::run::{RunOptions, RunReport};

pub const BATCH_HEADER: [&str; 22] = [
    "name",
    "config",
    "run_dir",
    "status",
    "message",
    "backend",
    "precision",
    "device",
    "scheme",
    "integrator",
    "dim",
    "cells",
    "steps",
    "t_final",
    "mass_initial",
    "mass_final",
    "max_rel_mass_drift",
    "origin_cell_mass",
    "max_density_final",
    "condensation_time",
    "wall_seconds",
    "cell_updates_per_second",
];

#[derive(Clone, Debug)]
pub struct BatchOptions {
    pub out: PathBuf,
    pub backend: DeviceChoice,
    pub overrides: Vec<String>,
    pub force: bool,
    pub quiet: bool,
}

/// One finished (or failed) run of a batch.
#[derive(Clone, Debug)]
pub struct BatchRun {
    pub config: PathBuf,
    pub run_dir: PathBuf,
    /// What the run produced, or why it failed.
    pub outcome: std::result::Result<RunReport, String>,
    /// The exit code of the run's failure class (0 when it finished).
    pub code: i32,
}

impl BatchRun {
    fn csv_fields(&self, name: &str) -> Vec<String> {
        let mut row =
            vec![name.to_string(), self.config.display().to_string(), self.run_dir.display().to_string()];
        match &self.outcome {
            Ok(RunReport { grid: None, particles }) => {
                let steps = particles.as_ref().map(|p| p.steps.to_string()).unwrap_or_default();
                row.extend(["completed".to_string(), "particles only: see summary.json".to_string()]);
                row.resize(12, String::new());
                row.push(steps);
                row.resize(BATCH_HEADER.len(), String::new());
            }
            Ok(RunReport { grid: Some(s), .. }) => {
                let opt = |v: Option<f64>| v.map(|x| format!("{x:e}")).unwrap_or_default();
                row.extend([
                    s.status.clone(),
                    s.message.clone(),
                    s.backend.backend.clone(),
                    s.backend.precision.clone(),
                    s.backend.device.clone(),
                    s.scheme.clone(),
                    s.integrator.clone(),
                    s.dim.to_string(),
                    s.cells.to_string(),
                    s.steps.to_string(),
                ]);
                row.extend(
                    [
                        s.t_final,
                        s.mass_initial,
                        s.mass_final,
                        s.max_rel_mass_drift,
                        s.origin_cell_mass,
                        s.max_density_final,
                    ]
                    .iter()
                    .map(|v| format!("{v:e}")),
                );
                row.push(opt(s.condensation_time));
                row.extend([s.wall_seconds, s.cell_updates_per_second].iter().map(|v| format!("{v:e}")));
            }
            Err(message) => {
                row.extend(["error".to_string(), message.clone()]);
                row.resize(BATCH_HEADER.len(), String::new());
            }
        }
        row
    }
}

/// Load every config first (a bad key or a repeated run name stops the batch before any
/// run starts), then run them in order on one device; a failing run is recorded in
/// batch.csv and the batch goes on.
pub fn run(configs: &[PathBuf], opts: &BatchOptions) -> Result<Vec<BatchRun>> {
    let loaded = configs
        .iter()
        .map(|path| Config::load(path, &opts.overrides).map(|c| (path.clone(), c)))
        .collect::<Result<Vec<_>>>()?;
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (path, cfg) in &loaded {
        if let Some(first) = seen.insert(&cfg.name, path) {
            return Err(Error::Unsupported(format!(
                "{} and {} both have name = \"{}\": their runs would share {}; give each config its own name",
                first.display(),
                path.display(),
                cfg.name,
                opts.out.join(&cfg.name).display()
            )));
        }
    }
    let largest = loaded.iter().filter_map(|(_, c)| c.grid().ok()).map(|g| g.len() * 4).max().unwrap_or(0);
    let device = Device::resolve(opts.backend, DeviceNeeds { buffer_bytes: largest as u64, grid_dim: None })?;
    let csv_path = opts.out.join("batch.csv");
    if csv_path.exists() && !opts.force {
        return Err(Error::RunDirExists(csv_path));
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    let mut csv = CsvWriter::create(&csv_path, &BATCH_HEADER)?;
    let mut runs = Vec::with_capacity(loaded.len());
    for (i, (path, cfg)) in loaded.iter().enumerate() {
        let dir = opts.out.join(&cfg.name);
        log::info!(
            "batch [{}/{}] `{}` ({}) -> {}",
            i + 1,
            loaded.len(),
            cfg.name,
            path.display(),
            dir.display()
        );
        let result = run_one(cfg, &dir, opts, &device);
        let code = result.as_ref().err().map_or(0, Error::exit_code);
        let outcome = result.map_err(|e| e.to_string());
        match &outcome {
            Ok(RunReport { grid: Some(s), .. }) => {
                log::info!("batch [{}/{}] `{}`: {}: {}", i + 1, loaded.len(), cfg.name, s.status, s.message)
            }
            Ok(RunReport { grid: None, .. }) => {
                log::info!("batch [{}/{}] `{}`: particles done", i + 1, loaded.len(), cfg.name)
            }
            Err(e) => log::error!("batch [{}/{}] `{}` failed: {e}", i + 1, loaded.len(), cfg.name),
        }
        let run = BatchRun { config: path.clone(), run_dir: dir, outcome, code };
        csv.text_row(&run.csv_fields(&cfg.name))?;
        runs.push(run);
    }
    Ok(runs)
}

fn run_one(cfg: &Config, dir: &Path, opts: &BatchOptions, device: &Device) -> Result<RunReport> {
    let mut run_dir = io::RunDir::create(&opts.out, &cfg.name, opts.force)?;
    debug_assert_eq!(run_dir.target(), dir);
    let result = crate::run::run_config(
        cfg,
        opts.backend,
        &mut run_dir,
        &RunOptions { quiet: opts.quiet, on_output: None },
        device,
        false,
    );
    run_dir.finish()?;
    result
}
