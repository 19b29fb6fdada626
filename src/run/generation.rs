//! Generation (docs/MATH.md §3): run the forward model to T keeping snapshots, then integrate
//! (R_η) from s = 0 to T, starting from f(T) (`terminal`) or from the asymptotic state
//! computed by the equilibrium calculator (`equilibrium`: f_θ on the grid, with the excess
//! over M_c in the origin cell), and compare the result with f(0). CPU (f64) in every mode;
//! with a GPU device the forward model, the log-score reverse and the reverse particles run
//! there (f32).

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::recorder::ForwardRecorder;
use super::simulation::{EndReason, ForwardRun, Simulation};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::forward::{Problem, StepControl};
use crate::gpu::Device;
use crate::grid::Grid;
pub use crate::kinds::{ReverseMode, Start};
use crate::model::equilibrium;
use crate::reverse::particles::{self, CpuMover, DeviceMover, ReverseParticleSettings};
use crate::reverse::pde::FaceFlux;
use crate::reverse::store::SnapshotStore;

#[derive(Clone, Debug, PartialEq)]
pub struct ReverseSettings {
    pub eta: f64,
    pub start: Start,
    pub mode: ReverseMode,
    /// Keep a forward snapshot every this many steps (1: every step).
    pub store_every: u64,
    pub memory_budget_bytes: u64,
    pub disk_budget_bytes: u64,
    pub safety: f64,
    pub log_floor: f64,
    /// Face flux of the log-score step.
    pub flux: FaceFlux,
    /// Reverse particles run alongside the grid (None: none).
    pub particles: Option<ParticleOptions>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParticleOptions {
    pub count: usize,
    pub dt: f64,
    pub seed: u64,
}

impl ReverseSettings {
    pub fn from_config(config: &Config) -> Self {
        let r = &config.reverse;
        Self {
            eta: r.eta,
            start: r.start,
            mode: r.mode,
            store_every: r.store_every,
            memory_budget_bytes: (r.memory_budget_mib * 1024.0 * 1024.0) as u64,
            disk_budget_bytes: (r.disk_budget_mib * 1024.0 * 1024.0) as u64,
            safety: r.safety,
            flux: r.flux,
            log_floor: config.scheme.log_floor,
            particles: (r.particles > 0).then(|| ParticleOptions {
                count: r.particles,
                dt: r.particle_dt.unwrap_or(config.run.t_final / 1000.0),
                seed: r.particle_seed,
            }),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Generation {
    pub forward_steps: u64,
    pub reverse_steps: u64,
    pub snapshots: usize,
    pub store_memory_bytes: u64,
    pub store_disk_bytes: u64,
    pub forward_seconds: f64,
    pub reverse_seconds: f64,
    pub l1_to_initial: f64,
    pub rel_l1_to_initial: f64,
    pub mass_initial: f64,
    pub mass_generated: f64,
    pub min_generated: f64,
    /// Mass in the origin cell(s) of f(T), and the condensate M − M_c(box) the equilibrium
    /// calculator predicts (0 below the critical mass).
    pub origin_cell_mass_terminal: f64,
    pub condensate_mass_equilibrium: f64,
    pub particle_count: usize,
    pub particle_steps: u32,
    pub particle_seconds: f64,
    /// L1 between the particles' histogram and the grid reconstruction, relative to M.
    pub particles_rel_l1_to_generated: Option<f64>,
    /// Generated samples (count × dim, axis 0 first); empty without particles.
    #[serde(skip)]
    pub samples: Vec<f64>,
    #[serde(skip)]
    pub initial: Vec<f64>,
    #[serde(skip)]
    pub terminal: Vec<f64>,
    #[serde(skip)]
    pub generated: Vec<f64>,
}

/// Forward to run.t_final from the config's initial density, then reverse; spills
/// snapshots into `spill_dir` beyond the budget.
pub fn generate(config: &Config, settings: &ReverseSettings, spill_dir: &Path) -> Result<Generation> {
    let problem = Problem::from_config(config)?;
    generate_from(
        &problem,
        problem.initial.clone(),
        settings,
        spill_dir,
        &Device::Cpu,
        &mut |_, _| {},
        &mut NoPath,
    )
}

/// Receives the forward path f(t) and the reverse path g at the output times (and at 0
/// and T): `forward` in increasing t, then `reverse` in decreasing forward time t (where
/// g approximates f(t)).
pub trait PathObserver {
    fn forward(&mut self, t: f64, f: &[f64]) -> Result<()>;
    fn reverse(&mut self, t: f64, g: &[f64]) -> Result<()>;
}

/// Keeps no path (`filter`, whose iterates are its record).
pub struct NoPath;

impl PathObserver for NoPath {
    fn forward(&mut self, _: f64, _: &[f64]) -> Result<()> {
        Ok(())
    }
    fn reverse(&mut self, _: f64, _: &[f64]) -> Result<()> {
        Ok(())
    }
}

/// As `generate` for a built problem, from the density `f0` (cell values on its grid);
/// `progress(phase, fraction)` is called as the run goes (phase "forward" / "reverse").
pub fn generate_from(
    problem: &Problem,
    f0: Vec<f64>,
    settings: &ReverseSettings,
    spill_dir: &Path,
    device: &Device,
    progress: &mut dyn FnMut(&str, f64),
    path: &mut dyn PathObserver,
) -> Result<Generation> {
    check_reverse(problem, settings, device)?;
    let disc = &problem.disc;
    let grid: Grid = disc.grid.clone();
    let vol = grid.cell_volume();
    let mass = f0.iter().sum::<f64>() * vol;
    let t_final = problem.t_final;
    let mut store = SnapshotStore::new(grid.len(), settings.memory_budget_bytes, spill_dir)
        .with_disk_budget(settings.disk_budget_bytes);

    let clock = Instant::now();
    let record = forward_phase(problem, &f0, settings, device, &mut store, progress, path)?;
    let forward_seconds = clock.elapsed().as_secs_f64();

    // reverse: s runs from 0 to T, f(T − s) from the store
    let clock = Instant::now();
    let start = start_state(settings.start, &disc.params, &grid, mass, &record.terminal);
    let mut g = start.clone();
    let reverse_steps = reverse_phase(problem, settings, device, &store, &record, &mut g, progress, path)?;
    let reverse_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let particles = match &settings.particles {
        Some(p) => Some(particle_phase(disc, settings, p, device, &store, &start, t_final, progress)?),
        None => None,
    };
    let particle_seconds = clock.elapsed().as_secs_f64();
    let particles_rel_l1_to_generated = particles.as_ref().map(|(samples, _)| {
        let hist = particles::histogram(&grid, samples, mass);
        hist.iter().zip(&g).map(|(a, b)| (a - b).abs()).sum::<f64>() * vol / mass
    });
    let (samples, particle_steps) = particles.unwrap_or_default();
    let terminal = record.terminal;
    let origin_cell_mass_terminal = grid.origin_cells().iter().map(|&i| terminal[i]).sum::<f64>() * vol;
    let condensate_mass_equilibrium =
        equilibrium::critical_mass(&disc.params, grid.dim, Some(grid.half_width))
            .map_or(0.0, |mc| (mass - mc).max(0.0));
    let l1: f64 = g.iter().zip(&f0).map(|(a, b)| (a - b).abs()).sum::<f64>() * vol;
    Ok(Generation {
        forward_steps: record.steps,
        reverse_steps,
        snapshots: store.times().len(),
        store_memory_bytes: store.memory_bytes(),
        store_disk_bytes: store.disk_bytes(),
        forward_seconds,
        reverse_seconds,
        l1_to_initial: l1,
        rel_l1_to_initial: l1 / mass,
        mass_initial: mass,
        origin_cell_mass_terminal,
        condensate_mass_equilibrium,
        mass_generated: g.iter().sum::<f64>() * vol,
        min_generated: g.iter().copied().fold(f64::INFINITY, f64::min),
        particle_count: settings.particles.as_ref().map_or(0, |p| p.count),
        particle_steps,
        particle_seconds,
        particles_rel_l1_to_generated,
        samples,
        initial: f0,
        terminal,
        generated: g,
    })
}

/// Refuse what the reverse phases cannot do, before anything runs.
fn check_reverse(problem: &Problem, settings: &ReverseSettings, device: &Device) -> Result<()> {
    if device.gpu().is_some() && settings.mode != ReverseMode::LogScore {
        return Err(Error::Config(crate::error::ConfigError::new(
            "reverse.mode",
            format!(
                "{:?} runs on the CPU only; the GPU backend has the \"log-score\" mode (or use --backend cpu)",
                settings.mode
            ),
        )));
    }
    let integrator = problem.disc.integrator;
    if integrator.is_implicit() {
        return Err(Error::Unsupported(
            "reverse time replays the explicit forward steps: set scheme.integrator = \"euler\" or \"ssp-rk2\"".into(),
        ));
    }
    if settings.mode == ReverseMode::Exact && integrator != crate::config::Integrator::Euler {
        return Err(Error::Numerics(
            "reverse.mode = \"exact\" reverses forward Euler steps: set scheme.integrator = \"euler\"".into(),
        ));
    }
    Ok(())
}

/// What the forward phase leaves for the reverse ones: every step's time and Δt, the
/// terminal field, the steps taken.
struct ForwardRecord {
    times: Vec<f64>,
    dts: Vec<f64>,
    terminal: Vec<f64>,
    steps: u64,
}

/// The forward run from f0 to T on the loop, keeping snapshots in `store`.
fn forward_phase(
    problem: &Problem,
    f0: &[f64],
    settings: &ReverseSettings,
    device: &Device,
    store: &mut SnapshotStore,
    progress: &mut dyn FnMut(&str, f64),
    path: &mut dyn PathObserver,
) -> Result<ForwardRecord> {
    let t_final = problem.t_final;
    // the reverse replays f64 snapshots: on the CPU the forward runs in f64 whatever
    // run.precision (the GPU computes in f32)
    let mut forward = match device {
        Device::Cpu => crate::forward::create(
            &Problem { precision: crate::config::Precision::F64, ..problem.clone() },
            device,
        )?,
        Device::Gpu(_) => crate::forward::create(problem, device)?,
    };
    forward.upload(f0, 0.0)?;
    store.push(0.0, f0)?;
    path.forward(0.0, f0)?;
    let store_every = if settings.mode == ReverseMode::Exact { 1 } else { settings.store_every.max(1) };
    // every step's Δt is kept (the exact and scheme modes retrace the forward time grid),
    // the field every `store_every` steps and at T; the log-score mode needs only the
    // snapshots, so it steps `store_every` at a time
    let retrace = settings.mode != ReverseMode::LogScore;
    let mut recorder = ForwardRecorder {
        chunk: if retrace { 1 } else { store_every },
        store_every,
        retrace,
        t_final,
        times: vec![0.0],
        dts: Vec::new(),
        field: f0.to_vec(),
        store,
        progress,
        output_times: problem.output_times.clone(),
        last_stored: 0.0,
        path,
    };
    let control = StepControl { t_stop: t_final, dt_bound_floor: 0.0, max_density: f64::INFINITY };
    let simulation = Simulation {
        t_final,
        max_steps: u64::MAX,
        wall_time_limit: None,
        stall: problem.stall,
        first_step: 0,
    };
    let mut stepper = ForwardRun { backend: forward.as_mut(), control };
    let end = simulation.run(&mut stepper, &mut [&mut recorder])?;
    match &end.reason {
        EndReason::Stopped(stop) => {
            return Err(Error::Numerics(format!("forward run stopped: {}", stop.message())))
        }
        EndReason::Interrupted => return Err(interrupted("the forward run", end.t)),
        EndReason::Stalled { steps, advanced, .. } => {
            return Err(Error::Numerics(format!(
                "the forward run stalled: t advanced by {advanced:.3e} over {steps} steps (run.stall_steps, run.stall_fraction)"
            )))
        }
        _ => {}
    }
    let ForwardRecorder { times, dts, field, .. } = recorder;
    Ok(ForwardRecord { times, dts, terminal: field, steps: end.steps })
}

/// The reverse PDE from g (the start state) back to t = 0, in the configured mode; the
/// steps taken. `path` sees g at T, at the output times and at 0.
#[allow(clippy::too_many_arguments)]
fn reverse_phase(
    problem: &Problem,
    settings: &ReverseSettings,
    device: &Device,
    store: &SnapshotStore,
    record: &ForwardRecord,
    g: &mut Vec<f64>,
    progress: &mut dyn FnMut(&str, f64),
    path: &mut dyn PathObserver,
) -> Result<u64> {
    let disc = &problem.disc;
    path.reverse(problem.t_final, g)?;
    let mut recorded = problem.output_times.clone();
    recorded.push(0.0);
    let mut at = |t: f64, g: &[f64]| if recorded.contains(&t) { path.reverse(t, g) } else { Ok(()) };
    match settings.mode {
        ReverseMode::Exact | ReverseMode::Scheme => super::reverse_steps::retrace_forward_steps(
            disc,
            settings.eta,
            store,
            &record.times,
            &record.dts,
            g,
            progress,
            &mut at,
        ),
        ReverseMode::LogScore => super::reverse_steps::reverse_log_score(
            disc, settings, store, g, device, progress, &recorded, &mut at,
        ),
    }
}

/// Reverse particles sampled from the start state, moved to s = T: their positions and
/// the steps taken.
#[allow(clippy::too_many_arguments)]
fn particle_phase(
    disc: &crate::forward::cpu::Discretisation,
    settings: &ReverseSettings,
    options: &ParticleOptions,
    device: &Device,
    store: &SnapshotStore,
    start: &[f64],
    t_final: f64,
    progress: &mut dyn FnMut(&str, f64),
) -> Result<(Vec<f64>, u32)> {
    let grid = &disc.grid;
    let mut samples = crate::particles::sample::sample_cells(start, grid, options.count, options.seed);
    let particle_settings =
        ReverseParticleSettings { dt: options.dt, eta: settings.eta, log_floor: settings.log_floor };
    let run = |mover: &mut dyn crate::reverse::particles::ReverseStepper,
               progress: &mut dyn FnMut(&str, f64)| {
        super::reverse_steps::reverse_particles(disc, store, t_final, &particle_settings, mover, progress)
    };
    let steps = match device.gpu() {
        Some(ctx) => {
            let mut mover = DeviceMover::new(ctx, grid, settings.eta, options.seed, &samples)?;
            let steps = run(&mut mover, progress)?;
            mover.read_positions(&mut samples)?;
            steps
        }
        None => {
            let mut mover = CpuMover { grid, positions: &mut samples, eta: settings.eta, seed: options.seed };
            run(&mut mover, progress)?
        }
    };
    Ok((samples, steps))
}

/// The reverse starting state: f(T), or the equilibrium of mass M from the calculator
/// (f_θ, or f_0 plus the condensate in the origin cell above M_c).
fn start_state(
    start: Start,
    params: &crate::model::ModelParams,
    grid: &Grid,
    mass: f64,
    terminal: &[f64],
) -> Vec<f64> {
    match start {
        Start::Terminal => terminal.to_vec(),
        Start::Equilibrium => equilibrium::grid_profile(params, grid, mass).1,
    }
}

pub(super) fn interrupted(phase: &str, t: f64) -> Error {
    Error::Interrupted(format!("{phase} at forward time t = {t:.6e}; nothing was generated"))
}
