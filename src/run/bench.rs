//! `fpgen bench`: cell-updates/s of the CPU backend on the peer problem of
//! shared/peers (2D, γ = 2, λ = β = D = 1, L = 6, two Gaussians of std 0.5 at (±2, 0),
//! mass 1, upwind, explicit Euler, fixed Δt = 0.2 h²).

use std::time::Instant;

use serde::Serialize;

use crate::config::{Integrator, Precision, SchemeKind};
use crate::error::{Error, Result};
use crate::forward::cpu::{CpuBackend, Discretisation};
use crate::forward::{BackendInfo, DtPolicy, ForwardStepper, StepControl};
use crate::grid::Grid;
use crate::model::initial_density::InitialDensity;
use crate::model::ModelParams;
use crate::real::Real;

pub const WARMUP_STEPS: u64 = 5;

#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub backend: String,
    pub precision: String,
    pub threads: usize,
    pub cells: usize,
    pub steps: u64,
    /// Median over the repeats.
    pub ms_per_step: f64,
    pub mcell_updates_per_second: f64,
    /// Bytes that must move per step (one read and one write of the field) / time.
    pub effective_gb_per_second: f64,
    pub rel_mass_change: f64,
    /// Where the time came from ("wall clock" or "timestamp queries").
    pub timing: String,
    pub device: String,
}

/// The discretisation of the peer problem at N cells per side.
pub fn peer_discretisation(cells: usize) -> Result<Discretisation> {
    let grid = Grid::new(2, cells, 6.0)?;
    let h = grid.h();
    Ok(Discretisation {
        grid,
        params: ModelParams::bose(1.0, 1.0, 2.0, 1.0),
        scheme: SchemeKind::Upwind,
        integrator: Integrator::Euler,
        log_floor: 1e-30,
        dt: DtPolicy::Fixed(0.2 * h * h),
        time_tolerance: 1e-3,
        steps_per_pass: 1,
    })
}

pub fn peer_initial(grid: &Grid) -> Result<Vec<f64>> {
    InitialDensity::GaussianMixture {
        centres: vec![vec![-2.0, 0.0], vec![2.0, 0.0]],
        std_devs: vec![0.5, 0.5],
        weights: vec![1.0, 1.0],
    }
    .on_grid(grid, 1.0)
}

/// A CPU backend loaded with the peer problem, and its fixed-step control.
pub fn peer_backend<T: Real>(cells: usize, threads: Option<usize>) -> Result<(CpuBackend<T>, StepControl)> {
    let disc = peer_discretisation(cells)?;
    let f0 = peer_initial(&disc.grid)?;
    let mut backend = CpuBackend::<T>::new(disc, threads)?;
    backend.upload(&f0, 0.0)?;
    let ctl = StepControl { t_stop: f64::INFINITY, dt_bound_floor: 0.0, max_density: f64::INFINITY };
    Ok((backend, ctl))
}

fn measure<T: Real>(cells: usize, steps: u64, repeats: usize, threads: Option<usize>) -> Result<BenchRow> {
    let (mut backend, ctl) = peer_backend::<T>(cells, threads)?;
    let (wall, rel_mass_change) = time_steps(&mut backend, cells, &ctl, steps, repeats)?;
    Ok(row(backend.info(), cells, steps, wall, rel_mass_change, std::mem::size_of::<T>()))
}

/// Warm up, then `repeats` times: reload the peer initial state and time `steps` steps.
/// Returns the median wall time and the relative mass change of the last repeat.
pub(super) fn time_steps(
    backend: &mut dyn ForwardStepper,
    cells: usize,
    ctl: &StepControl,
    steps: u64,
    repeats: usize,
) -> Result<(f64, f64)> {
    let f0 = peer_initial(&peer_discretisation(cells)?.grid)?;
    backend.upload(&f0, 0.0)?;
    backend.step_n(WARMUP_STEPS, ctl)?;
    let mut walls = Vec::with_capacity(repeats);
    let mut rel_mass_change = 0.0;
    for _ in 0..repeats.max(1) {
        backend.upload(&f0, 0.0)?;
        let m0 = backend.diagnostics()?.mass;
        let clock = Instant::now();
        let out = backend.step_n(steps, ctl)?;
        walls.push(clock.elapsed().as_secs_f64());
        if out.steps != steps {
            return Err(Error::Numerics(format!(
                "bench stopped after {} of {steps} steps: {:?}",
                out.steps, out.stop
            )));
        }
        rel_mass_change = (backend.diagnostics()?.mass - m0) / m0;
    }
    Ok((median(walls), rel_mass_change))
}

/// The median of the repeats' times (the upper one of an even count).
pub(super) fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

pub(super) fn row(
    info: BackendInfo,
    cells: usize,
    steps: u64,
    wall: f64,
    rel_mass_change: f64,
    bytes: usize,
) -> BenchRow {
    let updates = (cells * cells) as f64 * steps as f64;
    BenchRow {
        backend: info.backend,
        precision: info.precision,
        threads: info.threads,
        cells,
        steps,
        ms_per_step: 1e3 * wall / steps as f64,
        mcell_updates_per_second: updates / wall / 1e6,
        effective_gb_per_second: 2.0 * bytes as f64 * updates / wall / 1e9,
        rel_mass_change,
        timing: "wall clock".into(),
        device: info.device,
    }
}

/// The GPU upwind step (f32, fixed Δt = 0.2 h²) on the peer problem
/// (`bench_device::measure_forward` of the peer variant).
pub fn measure_gpu(
    ctx: &std::sync::Arc<crate::gpu::GpuContext>,
    cells: usize,
    steps: u64,
    repeats: usize,
) -> Result<BenchRow> {
    use super::bench_device::{measure_forward, ForwardVariant};
    let f0 = peer_initial(&peer_discretisation(cells)?.grid)?;
    measure_forward(ctx, cells, ForwardVariant::PEER, &f0, steps, repeats)
}

/// Benchmark every (size, precision) pair.
pub fn run(
    sizes: &[usize],
    precisions: &[Precision],
    steps: u64,
    repeats: usize,
    threads: Option<usize>,
) -> Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    for &p in precisions {
        for &n in sizes {
            rows.push(match p {
                Precision::F64 => measure::<f64>(n, steps, repeats, threads)?,
                Precision::F32 => measure::<f32>(n, steps, repeats, threads)?,
            });
        }
    }
    Ok(rows)
}

/// One row of the particle benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct ParticleBenchRow {
    pub backend: String,
    pub precision: String,
    pub particles: usize,
    pub interacting: bool,
    pub cells: usize,
    pub steps: u32,
    pub ms_per_step: f64,
    pub particle_steps_per_second: f64,
}

/// The particle problem: 2D, γ = 2, λ = D = 1, β = 1 (interacting, with deposition on a
/// `cells`² grid over [-6, 6]², one smoothing sweep) or β = 0 (the OU step alone), the
/// peer problem's two Gaussians, drift-implicit Δt = 1e-3. Median wall time of `repeats`
/// runs of `steps` steps (the GPU is synchronised by reading its step counter).
pub fn measure_particles(
    device: &crate::gpu::Device,
    count: usize,
    interacting: bool,
    cells: usize,
    steps: u32,
    repeats: usize,
) -> Result<ParticleBenchRow> {
    // the device as its GPU context, if any
    let gpu = device.gpu().map(|c| c.as_ref());
    use crate::particles::{sample, ParticleMethod, ParticleSettings, ParticleSystem};
    let grid = Grid::new(2, cells, 6.0)?;
    let params = ModelParams::bose(1.0, if interacting { 1.0 } else { 0.0 }, 2.0, 1.0);
    let init = InitialDensity::GaussianMixture {
        centres: vec![vec![-2.0, 0.0], vec![2.0, 0.0]],
        std_devs: vec![0.5, 0.5],
        weights: vec![1.0, 1.0],
    };
    let x0 = sample::sample(&init, &grid, count, 1)?;
    let settings = ParticleSettings {
        count,
        seed: 1,
        dt: 1e-3,
        stepper: ParticleMethod::DriftImplicit,
        smoothing_sweeps: 1,
    };
    let mut walls = Vec::with_capacity(repeats);
    if let Some(ctx) = gpu {
        use crate::particles::gpu::GpuParticles;
        crate::gpu::context::check_limits(&ctx.device.limits(), (count * 8).max(grid.len() * 8) as u64, 2)?;
        for _ in 0..repeats.max(1) {
            let p = GpuParticles::new(ctx, &grid, &params, &settings, 1.0, &x0)?;
            p.step_n(ctx, 1);
            p.steps(ctx)?;
            let clock = Instant::now();
            p.step_n(ctx, steps);
            let done = p.steps(ctx)?;
            walls.push(clock.elapsed().as_secs_f64());
            if done != steps + 1 {
                return Err(Error::Numerics(format!("particle bench took {} of {} steps", done - 1, steps)));
            }
        }
    } else {
        for _ in 0..repeats.max(1) {
            let mut p = ParticleSystem::<f32>::new(&grid, &params, settings.clone(), 1.0, &x0);
            p.step();
            let clock = Instant::now();
            for _ in 0..steps {
                p.step();
            }
            walls.push(clock.elapsed().as_secs_f64());
        }
    }
    let wall = median(walls);
    Ok(ParticleBenchRow {
        backend: if gpu.is_some() { "gpu" } else { "cpu" }.into(),
        precision: "f32".into(),
        particles: count,
        interacting,
        cells,
        steps,
        ms_per_step: 1e3 * wall / steps as f64,
        particle_steps_per_second: count as f64 * steps as f64 / wall,
    })
}

/// One row of the score benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreBenchRow {
    pub backend: String,
    pub precision: String,
    pub device: String,
    pub data_points: usize,
    pub samples: usize,
    pub steps: usize,
    /// Samples each thread of the device kernel serves (1 on the CPU).
    pub samples_per_thread: u32,
    /// Median over the repeats.
    pub ms_per_step: f64,
    /// Samples × data points × steps / wall time: each pair is one exp and a few flops.
    pub pair_evaluations_per_second: f64,
}

/// The score problem: `data` points drawn from the lemniscate (a = 2, empirical weights
/// 1/n), `samples` from N(0, 2T I) at T = 1, `steps` exponential sampler steps (ε = 0.2,
/// heat equation) on log-spaced times towards t = 0.01. One step first (pipelines, caches),
/// then the median wall time of `repeats` runs of `steps` steps from the same start, each
/// ended by reading a sample back (which waits for the device).
pub fn measure_score(
    device: &crate::gpu::Device,
    data: usize,
    samples: usize,
    steps: usize,
    repeats: usize,
) -> Result<ScoreBenchRow> {
    measure_score_with(device, data, samples, steps, repeats, 1)
}

/// `measure_score` with `samples_per_thread` samples per thread of the device kernel.
pub fn measure_score_with(
    device: &crate::gpu::Device,
    data: usize,
    samples: usize,
    steps: usize,
    repeats: usize,
    samples_per_thread: u32,
) -> Result<ScoreBenchRow> {
    // the device as its GPU context, if any
    let gpu = device.gpu().map(|c| c.as_ref());
    use crate::diffusion::sampler::{self, CpuSampler, DeviceSampler, SampleMethod, SampleStepper};
    use crate::model::clouds::{self, Shape, ShapeParams};
    use crate::model::score::LinearProcess;
    for (key, n) in [("data", data), ("samples", samples), ("steps", steps)] {
        if n == 0 {
            return Err(crate::error::ConfigError::new(key, "must be at least 1").into());
        }
    }
    let shape = ShapeParams { scale: 2.0, noise: 0.0, side: 1 };
    let cloud = clouds::shape_cloud(Shape::Lemniscate, &shape, data, 1, false).map_err(Error::Unsupported)?;
    let heat = LinearProcess { lambda: 0.0, diffusion: 1.0 };
    let spread = (2.0 * heat.heat_time(1.0)).sqrt();
    let start: Vec<f64> = (0..samples)
        .flat_map(|i| {
            let z = crate::rng::normals4(7, i as u32, 0, 1);
            [spread * z[0] as f64, spread * z[1] as f64]
        })
        .collect();
    let times = sampler::log_times(1.0, 0.01, steps + 1);
    let timed = |mover: &mut dyn SampleStepper| -> Result<f64> {
        let mut one = [0.0; 2];
        let step = |k: usize, mover: &mut dyn SampleStepper| {
            let (t1, t2) = (heat.heat_time(times[k]), heat.heat_time(times[k + 1]));
            let (a, b) = sampler::coefficients(SampleMethod::Exponential, 0.2, t1, t2);
            mover.step(times[k], t1, a, b, k as u32 + 1)
        };
        step(0, mover)?;
        mover.read(&mut one)?;
        let clock = Instant::now();
        for k in 1..=steps {
            step(k, mover)?;
        }
        mover.read(&mut one)?;
        Ok(clock.elapsed().as_secs_f64())
    };
    let mut walls = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        walls.push(match gpu {
            Some(ctx) => timed(&mut DeviceSampler::with_samples_per_thread(
                ctx,
                &cloud,
                &start,
                1,
                samples_per_thread,
            )?)?,
            None => timed(&mut CpuSampler::exact(&heat, &cloud, start.clone(), 1))?,
        });
    }
    let wall = median(walls);
    Ok(ScoreBenchRow {
        backend: if gpu.is_some() { "gpu" } else { "cpu" }.into(),
        precision: if gpu.is_some() { "f32" } else { "f64" }.into(),
        device: match gpu {
            Some(ctx) => ctx.summary.name.clone(),
            None => format!("cpu ({} threads)", rayon::current_num_threads()),
        },
        data_points: data,
        samples,
        steps,
        samples_per_thread: if gpu.is_some() { samples_per_thread } else { 1 },
        ms_per_step: 1e3 * wall / steps as f64,
        pair_evaluations_per_second: (samples * data * steps) as f64 / wall,
    })
}
