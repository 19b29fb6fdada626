//! `fpgen run`'s pipeline: the forward problem on the Simulation loop with its writers
//! (diagnostics every k steps, snapshots and frames at output times, progress), then the
//! particles when the config has them; the summary.

use super::checkpoint::{self, Checkpoint, CheckpointWriter};
use super::dataset::{self, GridFields, RunDataset};
use super::observers::{
    write_run_figures, DiagnosticsRow, DiagnosticsWriter, ProgressObserver, SnapshotWriter, Tracker,
};
use super::progress::Progress;
use super::simulation::{EndReason, ForwardRun, Simulation};
use super::verdict::{Verdict, VerdictInputs};
use crate::config::Config;
use crate::error::{ConfigError, Error, Result};
use crate::forward::{BackendInfo, DtPolicy, ForwardStepper, Problem, StepControl, StopReason};
use crate::gpu::{Device, DeviceChoice};
use crate::io::{self, frames, CsvWriter, RunDir};
use crate::model::condensation::Condensation;
use crate::model::equilibrium;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub name: String,
    pub status: String,
    pub message: String,
    #[serde(flatten)]
    pub backend: BackendInfo,
    pub scheme: String,
    pub integrator: String,
    pub dim: usize,
    pub cells: usize,
    pub steps: u64,
    pub t_final: f64,
    pub t_final_requested: f64,
    pub mass_initial: f64,
    pub mass_final: f64,
    pub max_rel_mass_drift: f64,
    pub min_density: f64,
    pub max_density_final: f64,
    pub origin_cell_mass: f64,
    /// When the origin cell first held more than the critical profile's share r_h
    /// (`model::condensation`; no density threshold).
    pub condensation_time: Option<f64>,
    /// The final origin-cell mass less r_h (tends to M − M_c).
    pub condensate_mass: Option<f64>,
    /// r_h (None without a finite critical mass).
    pub regular_origin_mass: Option<f64>,
    pub stop: Option<StopReason>,
    pub critical_mass: Option<f64>,
    pub critical_mass_box: Option<f64>,
    pub dt_bound_initial: f64,
    pub dt_min: f64,
    pub dt_max: f64,
    pub wall_seconds: f64,
    pub stepping_seconds: f64,
    pub cell_updates_per_second: f64,
    pub snapshots: Vec<String>,
    /// The time of each snapshot.
    pub snapshot_times: Vec<f64>,
    /// The exponent p of f ~ |x|^p near the origin at each snapshot time (−2/γ at the
    /// blow-up time; null where it cannot be fitted).
    pub profile_exponents: Vec<Option<f64>>,
    pub frames: Vec<String>,
    /// The colour range of every frame (fixed for the run).
    pub frame_scale: Option<frames::Scale>,
    /// Where frames were colour-mapped: "device" or "host".
    pub frames_drawn_on: Option<String>,
}

/// Called with (t, f) at every output time, f in C order (the Python package's
/// callback); returning false stops the run there as an interrupt does (status
/// `interrupted`, a checkpoint to resume from).
pub type OutputHook = std::sync::Arc<dyn Fn(f64, &[f64]) -> bool + Send + Sync>;

/// Options of one run that are not part of the physics.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub quiet: bool,
    pub on_output: Option<OutputHook>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("quiet", &self.quiet)
            .field("on_output", &self.on_output.is_some())
            .finish()
    }
}

/// Run the problem of `config` on `backend`, writing into `run_dir` (already prepared).
/// Returns the summary; a NaN/Inf stop writes the summary and then returns an error.
pub fn run(
    config: &Config,
    problem: &Problem,
    backend: &mut dyn ForwardStepper,
    run_dir: &mut RunDir,
    opts: &RunOptions,
    resume: Option<(Checkpoint, Vec<f64>)>,
) -> Result<Summary> {
    let wall = Instant::now();
    let grid = problem.grid();
    if grid.cells % 2 == 0 {
        log::warn!(
            "grid.cells = {} is even: no cell is centred at the origin and a condensate splits over {} cells; use an odd N",
            grid.cells,
            1 << grid.dim
        );
    }
    if let Err(why) = equilibrium::check_certified_gamma(problem.params().gamma, grid.dim) {
        log::warn!("summary.json has no critical mass: {why}");
    }
    let f0 = &problem.initial;
    backend.upload(f0, 0.0)?;
    let bound0 = backend.dt_bound();
    if let DtPolicy::Fixed(dt) = problem.disc.dt {
        if dt > bound0 {
            return Err(ConfigError::new(
                "scheme.dt",
                format!("{dt:e} exceeds the positivity bound {bound0:e} at t = 0; use at most that, or remove scheme.dt for an adaptive step"),
            )
            .into());
        }
    }
    let d0 = backend.diagnostics()?;
    let mass0 = d0.mass;
    if d0.max > problem.stop.max_density {
        return Err(ConfigError::new(
            "stop.max_density",
            format!(
                "{:e} is below the initial density's maximum {:e}: the run would stop at once; raise it",
                problem.stop.max_density, d0.max
            ),
        )
        .into());
    }
    run_dir.mark_started();
    super::inputs::write_config(run_dir.path(), config)?;
    // a resumed run keeps its rows up to the checkpoint and goes on after them
    let csv_path = run_dir.join("diagnostics.csv");
    let (csv, kept_rows) = match &resume {
        None => (CsvWriter::for_rows::<DiagnosticsRow>(&csv_path)?, Vec::new()),
        Some((checkpoint, _)) => {
            let rows = checkpoint::cut_rows(&csv_path, checkpoint.step)?;
            (CsvWriter::append(&csv_path)?, rows)
        }
    };
    let dataset = match (&resume, config.output.dataset) {
        (_, false) => None,
        (Some((checkpoint, _)), true) if run_dir.join(dataset::FILE).exists() => {
            Some(RunDataset::reopen(run_dir.path(), checkpoint.step)?)
        }
        (_, true) => Some(RunDataset::create(run_dir.path(), config, grid, &backend.info())?),
    };
    let mut field = vec![0.0; grid.len()];
    let style = frames::FrameStyle::covering(&config.output, [f0.as_slice()]);
    let mut snapshots = SnapshotWriter {
        dir: run_dir.path(),
        config,
        grid,
        style,
        times_wanted: problem.output_times.clone(),
        field: &mut field,
        names: Vec::new(),
        times: Vec::new(),
        exponents: Vec::new(),
        frames: Vec::new(),
        drawn_on: None,
        last_step: None,
        dataset,
        on_output: opts.on_output.clone(),
    };
    let mut diagnostics =
        DiagnosticsWriter { csv, every: problem.diagnostics_every, tracker: Tracker::new(mass0) };
    let (first_step, bound0) = match resume {
        None => {
            diagnostics.tracker.record(&mut diagnostics.csv, 0, 0.0, d0)?;
            snapshots.write(0, backend)?;
            (0, bound0)
        }
        Some((checkpoint, field)) => {
            // the run as it was at the checkpoint: its field and cached bound, its rows
            // (the extremes of the summary come from them), its snapshots before that step
            backend.upload(&field, checkpoint.t)?;
            backend.restore_cached_state(&checkpoint.cached)?;
            let rows = kept_rows;
            diagnostics.tracker = Tracker::new(rows.first().map_or(mass0, |r| r[3]));
            for r in &rows {
                diagnostics.tracker.replay(r);
            }
            snapshots.restore(&rows, checkpoint.step)?;
            log::info!("resuming at t = {:.6e}, step {}", checkpoint.t, checkpoint.step);
            (checkpoint.step, checkpoint.bound0)
        }
    };

    let t_final = problem.t_final;
    let mut progress = ProgressObserver { bar: Progress::new(opts.quiet), t_final };
    let simulation = Simulation {
        t_final,
        max_steps: problem.max_steps,
        wall_time_limit: problem.wall_time_limit,
        stall: problem.stall,
        first_step,
    };
    let control = StepControl {
        t_stop: t_final,
        dt_bound_floor: problem.stop.dt_collapse_fraction * bound0,
        max_density: problem.stop.max_density,
    };
    let mut stepper = ForwardRun { backend, control };
    let checkpoint_dir = run_dir.path().to_path_buf();
    let end = match (problem.checkpoint_every, problem.checkpoint_seconds) {
        (None, None) => {
            simulation.run(&mut stepper, &mut [&mut progress, &mut diagnostics, &mut snapshots])?
        }
        (every, seconds) => {
            let mut checkpoints = CheckpointWriter {
                every,
                seconds,
                check_every: problem.diagnostics_every.max(1),
                last: Instant::now(),
                run_dir: &checkpoint_dir,
                grid,
                bound0,
            };
            simulation
                .run(&mut stepper, &mut [&mut progress, &mut diagnostics, &mut snapshots, &mut checkpoints])?
        }
    };
    if matches!(
        end.reason,
        EndReason::Interrupted | EndReason::MaxSteps | EndReason::WallTime | EndReason::Stalled { .. }
    ) {
        // the run can go on from here (`fpgen resume`)
        checkpoint::write(&checkpoint_dir, grid, &mut stepper, end.steps, bound0)?;
    }
    let backend = stepper.backend;
    progress.bar.finish();
    let step = end.steps;

    // Final state: always saved, also after a stop.
    backend.read_back(snapshots.field)?;
    io::write_field_npy(&run_dir.join("f_final.npy"), grid, snapshots.field)?;
    if snapshots.last_step != Some(step) {
        snapshots.write(step, backend)?;
    }
    let rows: Vec<DiagnosticsRow> = io::read_rows(&csv_path)?;
    if let Some(dataset) = &mut snapshots.dataset {
        dataset.write_diagnostics(&rows)?;
    }
    write_run_figures(&snapshots, &rows)?;
    let d = backend.diagnostics()?;
    let t = backend.time();
    let stop = match &end.reason {
        EndReason::Stopped(r) => Some(r.clone()),
        _ => None,
    };
    let t_rows: Vec<f64> = rows.iter().map(|r| r.t).collect();
    let origin_rows: Vec<f64> = rows.iter().map(|r| r.origin_mass).collect();
    let condensation = Condensation::measure(problem.params(), grid, &t_rows, &origin_rows);
    let tracker = &diagnostics.tracker;
    let verdict = Verdict::of(&VerdictInputs {
        end: &end.reason,
        t,
        step,
        problem,
        dt_bound: backend.dt_bound(),
        condensation: condensation.as_ref(),
        mass_requested: problem.mass,
        mass0,
        mass_final: d.mass,
        max_drift: tracker.max_drift,
    });
    let params = problem.params();
    let stepping = end.stepping_seconds;
    let summary = Summary {
        name: problem.name.clone(),
        status: verdict.status.to_string(),
        message: verdict.message,
        backend: backend.info(),
        scheme: format!("{:?}", problem.disc.scheme),
        integrator: format!("{:?}", problem.disc.integrator),
        dim: grid.dim,
        cells: grid.cells,
        steps: step,
        t_final: t,
        t_final_requested: t_final,
        mass_initial: mass0,
        mass_final: d.mass,
        max_rel_mass_drift: tracker.max_drift,
        min_density: tracker.min_density,
        max_density_final: d.max,
        origin_cell_mass: d.origin_mass,
        condensation_time: condensation.and_then(|c| c.blowup_time),
        condensate_mass: condensation.map(|c| c.condensate_mass),
        regular_origin_mass: condensation.map(|c| c.regular_origin_mass),
        stop: stop.clone(),
        critical_mass: equilibrium::critical_mass(params, grid.dim, None),
        critical_mass_box: equilibrium::critical_mass(params, grid.dim, Some(grid.half_width)),
        dt_bound_initial: bound0,
        dt_min: if step > 0 { tracker.dt_min } else { 0.0 },
        dt_max: tracker.dt_max,
        wall_seconds: wall.elapsed().as_secs_f64(),
        stepping_seconds: stepping,
        cell_updates_per_second: if stepping > 0.0 {
            (step as f64) * (grid.len() as f64) / stepping
        } else {
            0.0
        },
        frame_scale: config.output.frames.then_some(snapshots.style.scale),
        frames_drawn_on: snapshots.drawn_on.map(str::to_string),
        snapshots: snapshots.names,
        snapshot_times: snapshots.times,
        profile_exponents: snapshots.exponents,
        frames: snapshots.frames,
    };
    run_dir.add_summary(None, &summary)?;
    run_dir.write_summary()?;
    if summary.status == "interrupted" {
        return Err(Error::Interrupted(format!(
            "{}; the state at that time is in {}",
            summary.message,
            run_dir.target().join("f_final.npy").display()
        )));
    }
    if summary.status == "failed" || summary.status == "stalled" {
        return Err(Error::Numerics(format!(
            "{} — the last state is in {}",
            summary.message,
            run_dir.target().join("f_final.npy").display()
        )));
    }
    Ok(summary)
}

/// What one config produced: the grid run and/or the particle run.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub grid: Option<Summary>,
    pub particles: Option<crate::run::particles::ParticleSummary>,
}

/// Run a config into `run_dir` (prepared): the grid solver unless `particles.only`, then
/// the particles when the config has a `[particles]` section; summary.json holds both
/// (the particle run under `particles`). With `resume`, the run goes on from the
/// checkpoints in `run_dir`: the particles' when there is one (the grid run had finished),
/// else the grid's (the particles then start afresh after it).
pub fn run_config(
    config: &Config,
    choice: DeviceChoice,
    run_dir: &mut RunDir,
    opts: &RunOptions,
    device: &Device,
    resume: bool,
) -> Result<RunReport> {
    let device = device.for_run(choice, crate::forward::gpu_unsupported(config));
    let only_particles = config.particles.as_ref().is_some_and(|p| p.only);
    let problem = Problem::from_config(config)?;
    let particle_checkpoint = match resume {
        true => checkpoint::read_particles(run_dir.path())?,
        false => None,
    };
    if resume && only_particles && particle_checkpoint.is_none() {
        return Err(Error::Data {
            path: run_dir.join("checkpoint_particles"),
            message: "no checkpoint of the particles to resume from; set run.checkpoint_every, or interrupt the run".into(),
        });
    }
    let grid = if particle_checkpoint.is_some() {
        // the grid run had finished: its summary stays as it is in summary.json
        run_dir.load_summary()?;
        None
    } else if only_particles {
        run_dir.mark_started();
        super::inputs::write_config(run_dir.path(), config)?;
        None
    } else {
        let mut backend = crate::forward::create(&problem, &device)?;
        let info = backend.info();
        log::info!(
            "run `{}`: {}D, N = {}, {:?}/{:?}, backend {} ({}, {} threads) -> {}",
            config.name,
            config.model.dim,
            config.grid.cells,
            config.scheme.kind,
            config.scheme.integrator,
            info.backend,
            info.precision,
            info.threads,
            run_dir.path().display()
        );
        let from = match resume {
            true => Some(checkpoint::read(run_dir.path(), problem.grid())?),
            false => None,
        };
        Some(run(config, &problem, backend.as_mut(), run_dir, opts, from)?)
    };
    // the particles start when the grid run has reached its end (else they wait for `resume`)
    let grid_finished = grid.as_ref().is_none_or(|s| super::verdict::FINISHED.contains(&s.status.as_str()));
    let particles = match &config.particles {
        Some(p) if grid_finished => {
            log::info!("particles: N_p = {}, {:?}, dt = {:e}", p.count, p.stepper, p.dt);
            let snapshots = grid_snapshots(run_dir)?;
            let run_status = match (&grid, &particle_checkpoint) {
                (Some(s), _) => s.status.clone(),
                (None, Some((state, _))) => state.run_status.clone(),
                (None, None) => "completed".to_string(),
            };
            let start = crate::run::particles::ParticleStart {
                run_status: run_status.clone(),
                resume: particle_checkpoint,
            };
            let summary =
                crate::run::particles::run(config, &problem, run_dir.path(), &device, &snapshots, start)?;
            Some((summary, run_status))
        }
        _ => None,
    };
    let interrupted = super::interrupt::requested();
    if let Some((p, run_status)) = &particles {
        if only_particles {
            run_dir.add_summary(None, &serde_json::json!({ "name": config.name }))?;
        }
        run_dir.add_summary(Some("particles"), p)?;
        let status = if p.status == "completed" { run_status.as_str() } else { p.status.as_str() };
        run_dir.add_summary(None, &serde_json::json!({ "status": status }))?;
        run_dir.write_summary()?;
    }
    if interrupted {
        return Err(Error::Interrupted(
            "the particles stopped at an output time; their outputs so far are written".into(),
        ));
    }
    Ok(RunReport { grid, particles: particles.map(|(p, _)| p) })
}

/// The grid run's snapshots: the .npy files summary.json lists, else run.zarr's f (none
/// without a grid run).
fn grid_snapshots(run_dir: &RunDir) -> Result<GridFields> {
    let listed = npy_snapshots(run_dir)?;
    if listed.is_empty() {
        GridFields::stored(run_dir.path())
    } else {
        Ok(GridFields::Npy(listed))
    }
}

/// The (t, path) pairs of the .npy snapshots summary.json lists.
fn npy_snapshots(run_dir: &RunDir) -> Result<Vec<(f64, PathBuf)>> {
    let path = run_dir.join("summary.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Vec::new()) };
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Data { path: path.clone(), message: e.to_string() })?;
    let (Some(times), Some(names)) = (summary["snapshot_times"].as_array(), summary["snapshots"].as_array())
    else {
        return Ok(Vec::new());
    };
    Ok(times.iter().zip(names).filter_map(|(t, n)| Some((t.as_f64()?, run_dir.join(n.as_str()?)))).collect())
}
