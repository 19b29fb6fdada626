//! Checkpoints of a forward run, and what a resumed run rebuilds from its directory.
//!
//! A checkpoint is the field (exact: f32 values are exact in f64), t, the step count, the
//! stepper's cached step-bound inputs and the initial step bound, written atomically to
//! `checkpoint/` (a temporary folder, then renamed). Everything else a run keeps (the
//! diagnostics rows, the extremes of the summary, the snapshot lists) is rebuilt from the
//! files of the run directory, cut back to the checkpoint's step.
//!
//! The particles of a run have their own, `checkpoint_particles/`: positions (exact), the
//! step count (the generator's counter), t and the outputs written so far.

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

/// Fill a temporary folder with `fill`, then put it in place of `run_dir/name`.
fn replace_folder(run_dir: &Path, name: &str, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = run_dir.join(format!(".{name}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    fill(&tmp)?;
    let target = run_dir.join(name);
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))
}

/// Write the checkpoint of `run` (its state now) into `run_dir/checkpoint/`.
pub fn write(run_dir: &Path, grid: &Grid, run: &mut ForwardRun<'_>, step: u64, bound0: f64) -> Result<()> {
    let mut field = vec![0.0; grid.len()];
    run.backend.read_back(&mut field)?;
    let checkpoint = Checkpoint { step, t: run.backend.time(), bound0, cached: run.backend.cached_state() };
    replace_folder(run_dir, "checkpoint", |tmp| {
        crate::io::write_field_npy(&tmp.join("field.npy"), grid, &field)?;
        crate::io::write_json(&tmp.join("state.json"), &Stored::from(&checkpoint))
    })
}

/// Where a particle run is: its step count (also the generator's counter), t (as bits), the
/// outputs written so far, and the run's status before the particles started (restored on
/// resume: an interrupt overwrites it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParticleCheckpoint {
    pub steps: u64,
    pub t: f64,
    pub t_bits: u64,
    pub run_status: String,
    pub outputs: Vec<super::particles::ParticleOutput>,
}

const PARTICLES: &str = "checkpoint_particles";

/// Write the particles' checkpoint with their positions `x` (interleaved, `dim` each).
pub fn write_particles(run_dir: &Path, state: &ParticleCheckpoint, x: &[f64], dim: usize) -> Result<()> {
    replace_folder(run_dir, PARTICLES, |tmp| {
        crate::io::write_positions(&tmp.join("x.npy"), x, dim)?;
        crate::io::write_json(&tmp.join("state.json"), state)
    })
}

/// The particles' checkpoint of a run directory, if it has one, with the positions.
pub fn read_particles(run_dir: &Path) -> Result<Option<(ParticleCheckpoint, Vec<f64>)>> {
    let dir = run_dir.join(PARTICLES);
    let path = dir.join("state.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut state: ParticleCheckpoint = serde_json::from_str(&text)
        .map_err(|e| Error::Data { path: path.clone(), message: e.to_string() })?;
    state.t = f64::from_bits(state.t_bits);
    let x: ndarray::Array2<f64> = crate::config::npy::read_npy_as_f64(&dir.join("x.npy"))?;
    Ok(Some((state, x.iter().copied().collect())))
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

/// Writes a checkpoint every `every` steps, and at the first of its step boundaries
/// (multiples of `every` or of the diagnostics interval) after `seconds` of wall time.
pub struct CheckpointWriter<'a> {
    pub every: Option<u64>,
    pub seconds: Option<f64>,
    /// The step interval at which `seconds` is looked at.
    pub check_every: u64,
    pub last: std::time::Instant,
    pub run_dir: &'a Path,
    pub grid: &'a Grid,
    pub bound0: f64,
}

impl<'b> Observer<ForwardRun<'b>> for CheckpointWriter<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(self.every.unwrap_or(self.check_every))]
    }

    fn on_steps(&mut self, at: &Moment, s: &mut ForwardRun<'b>) -> Result<()> {
        let by_steps = self.every.is_some_and(|k| at.step % k == 0);
        let by_time = self.seconds.is_some_and(|limit| self.last.elapsed().as_secs_f64() >= limit);
        if at.stop.is_some() || !(by_steps || by_time) {
            return Ok(());
        }
        self.last = std::time::Instant::now();
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
