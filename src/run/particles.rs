//! A particle run (the `[particles]` section): sample N_p particles from the initial
//! density, step them with the configured Δt (the last step before each output time is
//! shortened to land on it), and write at t = 0 and at every output time the positions
//! (`particles/x_<step>.npy`, shape (N_p, d)), the deposited density
//! (`particles/density_<step>.npy` and `.png`) and, when the grid solver wrote a snapshot
//! at that time, the L1 distance between the two densities. With checkpoints configured
//! (`run.checkpoint_every` or `run.checkpoint_seconds`), and when the run is interrupted or
//! reaches its wall-time or step limit, the particles' checkpoint is written at that output
//! time.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::checkpoint::{self, ParticleCheckpoint};
use super::dataset::GridFields;
use super::simulation::{Advance, EndReason, Moment, Observer, Schedule, Simulation};
use crate::config::{Config, ParticlesSection};
use crate::error::{Error, Result};
use crate::forward::{Problem, StepOutcome};
use crate::gpu::Device;
use crate::grid::Grid;
use crate::io::{self, frames};
use crate::particles::{sample, ParticleSettings, ParticleStepper};

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ParticleOutput {
    pub t: f64,
    pub step: u64,
    /// The .npy files (with `output.snapshots`; the dataset holds them either way).
    pub positions: Option<String>,
    pub density: Option<String>,
    /// Σ |f̂ − f| h^d against the grid snapshot at the same time (None: no grid snapshot).
    pub l1_to_grid: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ParticleSummary {
    /// "completed", "interrupted", "wall-time" or "max-steps".
    pub status: String,
    pub count: usize,
    pub backend: String,
    pub precision: String,
    pub stepper: crate::kinds::ParticleMethod,
    pub dt: f64,
    pub smoothing_sweeps: u32,
    pub seed: u64,
    pub steps: u64,
    pub t_final: f64,
    pub mass: f64,
    pub wall_seconds: f64,
    pub particle_steps_per_second: f64,
    pub outputs: Vec<ParticleOutput>,
}

/// How a particle run starts: afresh, or from its checkpoint (with the positions).
pub struct ParticleStart {
    /// The run's status before the particles (kept in their checkpoints).
    pub run_status: String,
    pub resume: Option<(ParticleCheckpoint, Vec<f64>)>,
}

/// Run the particles of `config` (which must have a `[particles]` section). `grid_snapshots`
/// are the grid solver's snapshots (.npy or run.zarr), for the L1 distances.
pub fn run(
    config: &Config,
    problem: &Problem,
    run_dir: &Path,
    device: &Device,
    grid_snapshots: &GridFields,
    start: ParticleStart,
) -> Result<ParticleSummary> {
    let section: &ParticlesSection = config
        .particles
        .as_ref()
        .ok_or_else(|| Error::Unsupported("the config has no [particles] section".into()))?;
    let wall = Instant::now();
    let grid: Grid = problem.grid().clone();
    let params = *problem.params();
    let mass = problem.mass;
    let settings = ParticleSettings {
        count: section.count,
        seed: section.seed,
        dt: section.dt,
        stepper: section.stepper,
        smoothing_sweeps: section.smoothing_sweeps,
    };
    let x0 = sample::sample(&problem.density, &grid, section.count, section.seed)?;
    let (mut backend, backend_name, precision) =
        crate::particles::create(&grid, &params, settings, problem.precision, mass, &x0, device)?;
    let dir = run_dir.join("particles");
    let style = frames::FrameStyle::covering(&config.output, [problem.initial.as_slice()]);
    let mut writer = ParticleWriter {
        run_dir,
        dir: &dir,
        config,
        grid: &grid,
        style,
        grid_snapshots,
        times: problem.output_times.clone(),
        outputs: Vec::new(),
        checkpoints: (problem.checkpoint_every.is_some() || problem.checkpoint_seconds.is_some())
            .then_some(start.run_status.as_str()),
        dataset: None,
    };
    if config.output.dataset {
        let kept = start.resume.as_ref().map_or(0, |(state, _)| state.outputs.len());
        let dataset = super::dataset::ParticleDataset::open(run_dir, config, &grid, section.count, kept)?;
        writer.dataset = Some(dataset);
    }
    let (t0, steps0, dt_now) = match start.resume {
        None => {
            writer.write(backend.as_mut(), 0.0, 0)?;
            (0.0, 0, section.dt)
        }
        Some((state, x)) => {
            // the counter wraps as the generator's u32 step counter does
            backend.restore(&x, state.steps as u32)?;
            log::info!("particles: resuming at t = {:.6e}, step {}", state.t, state.steps);
            writer.outputs = state.outputs;
            // NaN: the first stretch sets its Δt, as the uninterrupted run set (or had) it
            (state.t, state.steps, f64::NAN)
        }
    };
    let stepping = Instant::now();
    let mut stepper = ParticleRun { backend, steps: steps0, t: t0, dt: section.dt, dt_now };
    let simulation = Simulation {
        t_final: problem.t_final,
        max_steps: problem.max_steps,
        wall_time_limit: problem.wall_time_limit,
        stall: None,
        first_step: steps0,
    };
    let end = simulation.run(&mut stepper, &mut [&mut writer])?;
    let status = match end.reason {
        EndReason::Interrupted => "interrupted",
        EndReason::WallTime => "wall-time",
        EndReason::MaxSteps => "max-steps",
        _ => "completed",
    };
    if status != "completed" {
        let x = stepper.backend.positions()?;
        writer.write_checkpoint(&start.run_status, end.steps, end.t, &x)?;
    }
    let (t, step, outputs) = (end.t, end.steps, writer.outputs);
    let seconds = stepping.elapsed().as_secs_f64();
    Ok(ParticleSummary {
        status: status.into(),
        count: section.count,
        backend: backend_name.into(),
        precision: precision.into(),
        stepper: section.stepper,
        dt: section.dt,
        smoothing_sweeps: section.smoothing_sweeps,
        seed: section.seed,
        steps: step,
        t_final: t,
        mass,
        wall_seconds: wall.elapsed().as_secs_f64(),
        particle_steps_per_second: if seconds > 0.0 {
            (step - steps0) as f64 * section.count as f64 / seconds
        } else {
            0.0
        },
        outputs,
    })
}

/// The particles under the loop: each stretch up to the next output time is split into
/// equal steps no longer than `dt`. The run steps whole stretches: `run.max_steps` stops it
/// at the first output time it has reached.
struct ParticleRun {
    backend: Box<dyn ParticleStepper>,
    steps: u64,
    t: f64,
    dt: f64,
    dt_now: f64,
}

impl Advance for ParticleRun {
    fn time(&self) -> f64 {
        self.t
    }

    fn advance(&mut self, _max_steps: u64, t_stop: f64) -> Result<StepOutcome> {
        let span = t_stop - self.t;
        if span <= 0.0 {
            return Ok(StepOutcome { steps: 0, dt_last: 0.0, stop: None });
        }
        let steps = (span / self.dt - 1e-9).ceil().max(1.0) as u64;
        let dt = span / steps as f64;
        if dt != self.dt_now {
            self.backend.set_dt(dt);
            self.dt_now = dt;
        }
        let steps32 = u32::try_from(steps).map_err(|_| {
            Error::Unsupported(format!("{steps} particle steps to t = {t_stop}: more than 2^32"))
        })?;
        self.backend.step_n(steps32)?;
        self.t = t_stop;
        self.steps += steps;
        log::info!("particles: t = {:.4e}, step {}", self.t, self.steps);
        Ok(StepOutcome { steps, dt_last: dt, stop: None })
    }
}

/// particles/x_<step>.npy, density_<step>.npy and their images at every output time,
/// with the L1 distance to the grid solution's snapshot at that time.
struct ParticleWriter<'a> {
    run_dir: &'a Path,
    dir: &'a Path,
    config: &'a Config,
    grid: &'a Grid,
    style: frames::FrameStyle,
    grid_snapshots: &'a GridFields,
    times: Vec<f64>,
    outputs: Vec<ParticleOutput>,
    /// Write a checkpoint at every output time (with this run status).
    checkpoints: Option<&'a str>,
    /// The particle arrays of run.zarr, when the config writes it.
    dataset: Option<super::dataset::ParticleDataset>,
}

impl Observer<ParticleRun> for ParticleWriter<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::AtTimes(self.times.clone())]
    }

    fn on_time(&mut self, at: &Moment, s: &mut ParticleRun) -> Result<()> {
        // a resumed run starts on the output time of its checkpoint, already written
        if self.outputs.last().is_some_and(|o| o.step == at.step && o.t == at.t) {
            return Ok(());
        }
        let x = self.write(s.backend.as_mut(), at.t, at.step)?;
        match self.checkpoints {
            Some(status) => self.write_checkpoint(status, at.step, at.t, &x),
            None => Ok(()),
        }
    }
}

impl ParticleWriter<'_> {
    fn write_checkpoint(&self, run_status: &str, steps: u64, t: f64, x: &[f64]) -> Result<()> {
        let state = ParticleCheckpoint {
            steps,
            t,
            t_bits: t.to_bits(),
            run_status: run_status.to_string(),
            outputs: self.outputs.clone(),
        };
        checkpoint::write_particles(self.run_dir, &state, x, self.grid.dim)
    }

    /// Write the outputs at t; returns the positions.
    fn write(&mut self, backend: &mut dyn ParticleStepper, t: f64, step: u64) -> Result<Vec<f64>> {
        let (dir, grid) = (self.dir, self.grid);
        let name = format!("{step:08}");
        let x = backend.positions()?;
        let f = backend.density()?;
        let npy = self.config.output.snapshots;
        if npy {
            io::write_positions(&dir.join(format!("x_{name}.npy")), &x, grid.dim)?;
            io::write_field_npy(&dir.join(format!("density_{name}.npy")), grid, &f)?;
        }
        if let Some(dataset) = &mut self.dataset {
            dataset.output(t, &x, &f)?;
        }
        if self.config.output.frames {
            let title = format!("{}: particles   t = {t:.4}", self.config.name);
            frames::write_frame(&dir.join(format!("density_{name}.png")), grid, &f, &self.style, &title)?;
            if grid.dim == 2 {
                io::save_png(
                    &dir.join(format!("scatter_{name}.png")),
                    &frames::scatter_figure(
                        &x,
                        grid,
                        &self.config.output,
                        &format!("{}: particles   t = {t:.4}", self.config.name),
                    ),
                )?;
            }
        }
        let l1_to_grid = self
            .grid_snapshots
            .at_time(t, grid)?
            .map(|g| f.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum::<f64>() * grid.cell_volume());
        self.outputs.push(ParticleOutput {
            t,
            step,
            positions: npy.then(|| format!("particles/x_{name}.npy")),
            density: npy.then(|| format!("particles/density_{name}.npy")),
            l1_to_grid,
        });
        Ok(x)
    }
}
