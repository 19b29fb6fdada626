//! One point of a sweep, run in this process (`fpgen sweep SPEC --index I`, a SLURM array
//! task, a local worker): skipped when its run directory says it finished, resumed from its
//! checkpoint when it was interrupted or stopped at a limit, run afresh otherwise.

use std::path::Path;

use super::sweep::{Sweep, SweepCommand};
use crate::error::{ConfigError, Error, Result};
use crate::gpu::{Device, DeviceChoice, DeviceNeeds};
use crate::io::RunDir;

/// Statuses of a run that count as done.
pub use super::verdict::FINISHED;
/// Statuses a run can be resumed from (its checkpoint).
const RESUMABLE: [&str; 4] = ["interrupted", "max-steps", "wall-time", "stalled"];

/// What `run_point` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointOutcome {
    /// Finished before: left as it was.
    AlreadyFinished(String),
    /// Ran (fresh or resumed) to this status.
    Ran { status: String, resumed: bool },
}

/// The status in `<dir>/summary.json` (the grid run's, or generate's `generation` one).
pub fn status_of(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    status_in(&serde_json::from_str(&text).ok()?)
}

/// The status a parsed summary.json says (generate's has no `status`: its comparison to
/// f(0) is written only when it finished).
pub fn status_in(summary: &serde_json::Value) -> Option<String> {
    summary["status"]
        .as_str()
        .or_else(|| summary["generated_vs_initial"].is_object().then_some("completed"))
        .map(str::to_string)
}

/// Run point `index` of `sweep` into `sweep_dir`.
pub fn run_point(
    sweep: &Sweep,
    sweep_dir: &Path,
    index: usize,
    choice: DeviceChoice,
    quiet: bool,
) -> Result<PointOutcome> {
    let point = sweep.points.get(index).ok_or_else(|| {
        ConfigError::new(
            "--index",
            format!(
                "{index} is not a point of `{}` (0 to {})",
                sweep.name,
                sweep.points.len().saturating_sub(1)
            ),
        )
    })?;
    let cfg = sweep.config(point)?;
    let dir = sweep_dir.join(&point.name);
    let status = status_of(&dir);
    if let Some(s) = status.as_deref().filter(|s| FINISHED.contains(s)) {
        log::info!("point {index} ({}) already finished: {s}", point.name);
        return Ok(PointOutcome::AlreadyFinished(s.to_string()));
    }
    let resumable = sweep.command == SweepCommand::Run
        && status.as_deref().is_some_and(|s| RESUMABLE.contains(&s))
        && dir.join("checkpoint").exists();
    let (choice, unsupported) = match sweep.command {
        SweepCommand::Run => (choice.unless_unsupported(crate::forward::gpu_unsupported(&cfg)), None),
        SweepCommand::Generate => {
            let why = super::generate_filter::gpu_unsupported(&cfg);
            (choice.unless_unsupported(why.clone()), why)
        }
    };
    if choice == DeviceChoice::Gpu {
        if let Some(why) = unsupported {
            return Err(Error::Unsupported(why));
        }
    }
    let device = Device::resolve(choice, DeviceNeeds::for_grid(&cfg.grid()?))?;
    log::info!(
        "point {index} ({}): {}",
        point.name,
        if resumable { "resuming from its checkpoint" } else { "running" }
    );
    let mut run_dir = match resumable {
        true => RunDir::open_existing(&dir)?,
        false => RunDir::create(sweep_dir, &point.name, true)?,
    };
    let result = match sweep.command {
        SweepCommand::Run => {
            let options = super::RunOptions { quiet, on_output: None };
            super::run_config(&cfg, choice, &mut run_dir, &options, &device, resumable).map(|_| ())
        }
        SweepCommand::Generate => {
            super::generate_filter::generate_run(&cfg, &mut run_dir, quiet, &device).map(|_| ())
        }
    };
    let target = run_dir.finish()?;
    result?;
    let status = status_of(&target).unwrap_or_else(|| "unknown".into());
    Ok(PointOutcome::Ran { status, resumed: resumable })
}
