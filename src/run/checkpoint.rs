//! Checkpoints of a forward run, and what a resumed run rebuilds from its directory.
//!
//! A checkpoint is the field (exact: f32 values are exact in f64), t, the step count, the
//! stepper's cached step-bound inputs and the initial step bound, written atomically to
//! `checkpoint/` (a temporary folder, then renamed). Everything else a run keeps (the
//! diagnostics rows, the extremes of the summary, the snapshot lists) is rebuilt from the
//! files of the run directory, cut back to the checkpoint's step.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::simulation::{ForwardRun, Moment, Observer, Schedule};
use crate::error::{Error, Result};
use crate::grid::Grid;

#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub step: u64,
    pub t: f64,
    pub bound0: f64,
    pub cached: Vec<f64>,
}

/// The checkpoint as stored: numbers as their bits (a JSON float need not parse back to
/// the same bits, and a resumed run must step from exactly the same ones).
#[derive(Serialize, Deserialize)]
struct Stored {
    step: u64,
    t: f64,
    t_bits: u64,
    bound0_bits: u64,
    cached_bits: Vec<u64>,
}

impl From<&Checkpoint> for Stored {
    fn from(c: &Checkpoint) -> Self {
        Stored {
            step: c.step,
            t: c.t,
            t_bits: c.t.to_bits(),
            bound0_bits: c.bound0.to_bits(),
            cached_bits: c.cached.iter().map(|v| v.to_bits()).collect(),
        }
    }
}

impl From<Stored> for Checkpoint {
    fn from(s: Stored) -> Self {
        Checkpoint {
            step: s.step,
            t: f64::from_bits(s.t_bits),
            bound0: f64::from_bits(s.bound0_bits),
            cached: s.cached_bits.into_iter().map(f64::from_bits).collect(),
        }
    }
}

fn folder(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoint")
}

/// Write the checkpoint of `run` (its state now) into `run_dir/checkpoint/`.
pub fn write(run_dir: &Path, grid: &Grid, run: &mut ForwardRun<'_>, step: u64, bound0: f64) -> Result<()> {
    let mut field = vec![0.0; grid.len()];
    run.backend.read_back(&mut field)?;
    let checkpoint = Checkpoint { step, t: run.backend.time(), bound0, cached: run.backend.cached_state() };
    let tmp = run_dir.join(".checkpoint.tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    crate::io::write_field_npy(&tmp.join("field.npy"), grid, &field)?;
    crate::io::write_json(&tmp.join("state.json"), &Stored::from(&checkpoint))?;
    let target = folder(run_dir);
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))
}

/// The checkpoint of a run directory and its field.
pub fn read(run_dir: &Path, grid: &Grid) -> Result<(Checkpoint, Vec<f64>)> {
    let dir = folder(run_dir);
    let state = std::fs::read_to_string(dir.join("state.json")).map_err(|e| Error::Data {
        path: dir.clone(),
        message: format!(
            "no checkpoint to resume from ({e}); set run.checkpoint_every, or interrupt the run"
        ),
    })?;
    let stored: Stored = serde_json::from_str(&state)
        .map_err(|e| Error::Data { path: dir.join("state.json"), message: e.to_string() })?;
    let checkpoint = Checkpoint::from(stored);
    let field = crate::config::npy::read_field_npy(&dir.join("field.npy"), grid)?;
    Ok((checkpoint, field))
}

/// Writes a checkpoint every `every` steps.
pub struct CheckpointWriter<'a> {
    pub every: u64,
    pub run_dir: &'a Path,
    pub grid: &'a Grid,
    pub bound0: f64,
}

impl<'b> Observer<ForwardRun<'b>> for CheckpointWriter<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(self.every)]
    }

    fn on_steps(&mut self, at: &Moment, s: &mut ForwardRun<'b>) -> Result<()> {
        if at.stop.is_some() || at.step % self.every != 0 {
            return Ok(());
        }
        write(self.run_dir, self.grid, s, at.step, self.bound0)
    }
}

/// Cut diagnostics.csv back to its rows up to `step` (the lines kept as they were) and
/// return those rows as numbers.
pub fn cut_rows(csv: &Path, step: u64) -> Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let mut kept = String::new();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            kept.push_str(line);
            kept.push('\n');
            continue;
        }
        let values: Vec<f64> = line.split(',').filter_map(|v| v.parse().ok()).collect();
        if values.len() == 11 && values[0] <= step as f64 {
            kept.push_str(line);
            kept.push('\n');
            rows.push(values);
        }
    }
    crate::io::write_text(csv, &kept)?;
    Ok(rows)
}
