//! The particle system on the device against its CPU twin. Skips loudly without an
//! adapter unless FPGEN_REQUIRE_GPU is set.

use fpgen::gpu::context::context_for_tests;
use fpgen::grid::Grid;
use fpgen::model::initial_density::InitialDensity;
use fpgen::model::ModelParams;
use fpgen::particles::gpu::GpuParticles;
use fpgen::particles::{deposit, sample, ParticleMethod, ParticleSettings, ParticleSystem};

fn setup(
    dim: usize,
    count: usize,
    stepper: ParticleMethod,
) -> (Grid, ModelParams, ParticleSettings, Vec<f64>) {
    let grid = Grid::new(dim, 41, 4.0).unwrap();
    let params = ModelParams::bose(1.0, 1.0, 2.0, 1.0);
    let init = InitialDensity::GaussianMixture {
        centres: vec![vec![-1.0, 0.5][..dim].to_vec(), vec![1.0, 0.0][..dim].to_vec()],
        std_devs: vec![0.5, 0.4],
        weights: vec![1.0, 1.0],
    };
    let x = sample::sample(&init, &grid, count, 5).unwrap();
    let settings = ParticleSettings { count, seed: 5, dt: 2e-3, stepper, smoothing_sweeps: 1 };
    (grid, params, settings, x)
}

/// The device deposits the identical integer grid (integer atomics, same fixed-point
/// weights), holding exactly N_p × units.
#[test]
fn device_deposit_is_the_cpu_integer_grid() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    for dim in [1, 2] {
        let (grid, params, settings, x) = setup(dim, 100_000, ParticleMethod::DriftImplicit);
        let gpu = GpuParticles::new(&ctx, &grid, &params, &settings, 3.0, &x).unwrap();
        gpu.estimate_density(&ctx);
        let mut cpu = ParticleSystem::<f32>::new(&grid, &params, settings, 3.0, &x);
        let units = gpu.read_units(&ctx).unwrap();
        assert_eq!(units.iter().sum::<u64>(), 100_000 * deposit::particle_units(dim));
        assert_eq!(units.as_slice(), cpu.deposit(), "{dim}D");
        // the smoothed densities agree to f32 rounding
        let dg = gpu.read_density(&ctx).unwrap();
        let dc = cpu.estimate_density();
        let worst = dg.iter().zip(dc).map(|(&a, &b)| (a as f64 - b).abs()).fold(0.0, f64::max);
        let max = dc.iter().copied().fold(0.0, f64::max);
        assert!(worst <= 1e-6 * max, "{dim}D density differs by {worst:e} (max {max})");
    }
}

/// 10^4 interacting particles, 100 steps, same seed: the device trajectories follow the CPU
/// f32 path. The device steps in f32 throughout, the CPU rounds an f64 update to f32, so
/// each step may differ by a few ulp of |x| ≤ 4 (≈ 5e-7); over 100 contracting steps the
/// positions stay within 1e-4.
#[test]
fn device_trajectories_follow_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    for stepper in [ParticleMethod::DriftImplicit, ParticleMethod::EulerMaruyama] {
        let (grid, params, settings, x) = setup(2, 10_000, stepper);
        let gpu = GpuParticles::new(&ctx, &grid, &params, &settings, 3.0, &x).unwrap();
        let mut cpu = ParticleSystem::<f32>::new(&grid, &params, settings, 3.0, &x);
        gpu.step_n(&ctx, 100);
        for _ in 0..100 {
            cpu.step();
        }
        assert_eq!(gpu.steps(&ctx).unwrap(), 100);
        let g = gpu.read_positions(&ctx).unwrap();
        let worst = g.iter().zip(&cpu.positions).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        eprintln!("{stepper:?}: 10^4 particles, 100 steps: max |x_gpu - x_cpu| = {worst:e}");
        assert!(worst <= 1e-4, "{stepper:?}: {worst:e}");
    }
}

/// `fpgen bench-particles --backend gpu` takes every step it times.
#[test]
fn gpu_particle_bench_runs() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let device = fpgen::gpu::Device::Gpu(std::sync::Arc::new(ctx));
    for interacting in [true, false] {
        let row = fpgen::run::bench::measure_particles(&device, 5000, interacting, 41, 3, 1).unwrap();
        assert!(row.particle_steps_per_second > 0.0 && row.ms_per_step.is_finite(), "{row:?}");
    }
}

/// Reflecting walls: pure diffusion (λ = β = 0) in [-1, 1]² with √(2DΔt) = 0.2, so most
/// particles hit a wall within 100 steps; the device still follows the CPU, and every
/// particle stays in the box.
#[test]
fn device_reflection_follows_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let grid = Grid::new(2, 21, 1.0).unwrap();
    let params = ModelParams::bose(0.0, 0.0, 2.0, 1.0);
    let init = InitialDensity::UniformBox { lower: vec![-0.5, -0.5], upper: vec![0.5, 0.5] };
    let x = sample::sample(&init, &grid, 10_000, 8).unwrap();
    let settings = ParticleSettings {
        count: 10_000,
        seed: 8,
        dt: 0.02,
        stepper: ParticleMethod::EulerMaruyama,
        smoothing_sweeps: 0,
    };
    let gpu = GpuParticles::new(&ctx, &grid, &params, &settings, 1.0, &x).unwrap();
    let mut cpu = ParticleSystem::<f32>::new(&grid, &params, settings, 1.0, &x);
    gpu.step_n(&ctx, 100);
    for _ in 0..100 {
        cpu.step();
    }
    let g = gpu.read_positions(&ctx).unwrap();
    assert!(g.iter().all(|v| v.abs() <= 1.0));
    let worst = g.iter().zip(&cpu.positions).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    eprintln!("reflecting walls: max |x_gpu - x_cpu| = {worst:e}");
    assert!(worst <= 1e-4, "{worst:e}");
}
