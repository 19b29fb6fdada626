//! The particle system (CPU): the linear OU case against its exact Gaussian law, and the
//! mean-field limit against the grid solver.

mod common;
use common::*;
use fpgen::grid::Grid;
use fpgen::model::initial_density::InitialDensity;
use fpgen::model::ModelParams;
use fpgen::particles::{sample, ParticleMethod, ParticleSettings, ParticleSystem};

fn ou_system(dim: usize, count: usize, stepper: ParticleMethod, dt: f64) -> ParticleSystem<f64> {
    let grid = Grid::new(dim, 41, 8.0).unwrap();
    let params = ModelParams::bose(1.0, 0.0, 2.0, 1.0);
    let init = InitialDensity::GaussianMixture {
        centres: vec![vec![0.5, -0.25][..dim].to_vec()],
        std_devs: vec![0.7],
        weights: vec![1.0],
    };
    let x = sample::sample(&init, &grid, count, 11).unwrap();
    let settings = ParticleSettings { count, seed: 11, dt, stepper, smoothing_sweeps: 0 };
    ParticleSystem::new(&grid, &params, settings, 1.0, &x)
}

/// β = 0 is the linear OU process: X(t) ~ N(μ0 e^{−λt}, σ0² e^{−2λt} + D/λ (1 − e^{−2λt}))
/// per axis, independent axes. For 10^5 particles at t = 0.5 the sample mean, variance and
/// covariance are within 5 standard errors (σ/√n, σ²√(2/n), σ²/√n) for both steppers.
/// Δt = 10⁻³: the steppers' O(Δt) bias (≤ 5e-4 relative) is a tenth of a standard error;
/// the walls at ±8 are 9 standard deviations away.
#[test]
fn linear_ou_particles_have_the_exact_law() {
    let n = 100_000;
    let t = 0.5f64;
    for stepper in [ParticleMethod::DriftImplicit, ParticleMethod::EulerMaruyama] {
        for dim in [1, 2] {
            let mut s = ou_system(dim, n, stepper, 1e-3);
            for _ in 0..500 {
                s.step();
            }
            let mu0 = [0.5, -0.25];
            let var = 0.49 * (-2.0 * t).exp() + (1.0 - (-2.0 * t).exp());
            let nf = n as f64;
            let mut means = [0.0; 2];
            for a in 0..dim {
                let xs: Vec<f64> = s.positions.iter().skip(a).step_by(dim).copied().collect();
                let mean = xs.iter().sum::<f64>() / nf;
                let v = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
                let exact_mean = mu0[a] * (-t).exp();
                eprintln!("{stepper:?} {dim}D axis {a}: mean {mean:.5} (exact {exact_mean:.5}), variance {v:.5} (exact {var:.5})");
                assert!((mean - exact_mean).abs() < 5.0 * (var / nf).sqrt(), "mean {mean} vs {exact_mean}");
                assert!((v - var).abs() < 5.0 * var * (2.0 / nf).sqrt(), "variance {v} vs {var}");
                means[a] = mean;
            }
            if dim == 2 {
                let cov =
                    s.positions.chunks_exact(2).map(|p| (p[0] - means[0]) * (p[1] - means[1])).sum::<f64>()
                        / (nf - 1.0);
                assert!(cov.abs() < 5.0 * var / nf.sqrt(), "covariance {cov}");
            }
        }
    }
}

/// Mean-field consistency: subcritical γ = 2 in 2D; the L1 distance between the particle
/// density (cloud-in-cell, one smoothing sweep) and the grid solution at t = 0.5 decreases as
/// N_p goes 10⁴ → 10⁵ → 10⁶. Sampling noise alone would give a rate of N_p^{−1/2}; the
/// measured distances include a floor from the deposition (one cell of smoothing) and Δt.
#[test]
fn particle_density_approaches_the_pde_solution() {
    let cfg = config(
        2,
        &[
            "grid.cells=41",
            "grid.half_width=4.0",
            "initial.mass=4.0",
            "model.beta=1.0",
            "scheme.kind=\"gradient-flow\"",
        ],
    );
    let grid = cfg.grid().unwrap();
    let mut pde = loaded(&cfg);
    let ctl = control(&cfg, 0.5);
    while pde.time() < 0.5 {
        pde.step_n(1000, &ctl).unwrap();
    }
    let reference = field(pde.as_mut(), grid.len());
    let init = cfg.initial_density().unwrap();
    let mut distances = Vec::new();
    for count in [10_000, 100_000, 1_000_000] {
        let x = sample::sample(&init, &grid, count, 3).unwrap();
        let settings = ParticleSettings {
            count,
            seed: 3,
            dt: 5e-3,
            stepper: ParticleMethod::DriftImplicit,
            smoothing_sweeps: 1,
        };
        let mut s = ParticleSystem::<f32>::new(&grid, &cfg.model_params(), settings, 4.0, &x);
        for _ in 0..100 {
            s.step();
        }
        let f = s.estimate_density();
        let l1: f64 = f.iter().zip(&reference).map(|(a, b)| (a - b).abs()).sum::<f64>() * grid.cell_volume();
        distances.push(l1);
    }
    let rates: Vec<f64> = distances.windows(2).map(|w| (w[0] / w[1]).log10()).collect();
    eprintln!(
        "L1(particles, PDE) at t = 0.5 for N_p = 1e4, 1e5, 1e6: {distances:?}; rates per decade {rates:?}"
    );
    assert!(distances[0] > distances[1] && distances[1] > distances[2], "{distances:?}");
}

/// `fpgen bench-particles` (CPU) takes every step it times.
#[test]
fn cpu_particle_bench_runs() {
    let row = fpgen::run::bench::measure_particles(&fpgen::gpu::Device::Cpu, 5000, true, 41, 3, 1).unwrap();
    assert!(row.particle_steps_per_second > 0.0 && row.ms_per_step.is_finite(), "{row:?}");
}

/// Gridded initial densities are sampled by inverse CDF of the cell masses: 4·10⁵ particles
/// from a uniform disc, none outside the disc's cells, with cell frequencies whose L1
/// distance to the cell masses m_i is below S = Σ_i √(m_i/N_p) (0.029 here). Sampling noise
/// alone gives E L1 ≈ √(2/π) S = 0.8 S, with a relative spread of a few per cent over ~150
/// cells, so the bound sits several spreads above the expectation.
#[test]
fn gridded_densities_are_sampled_by_inverse_cdf() {
    let grid = Grid::new(2, 41, 4.0).unwrap();
    let init = InitialDensity::UniformDisc { centre: vec![0.5, -0.5], radius: 2.0 };
    let n = 400_000;
    let x = sample::sample(&init, &grid, n, 2).unwrap();
    let f0 = init.on_grid(&grid, 1.0).unwrap();
    let h = grid.h();
    // every particle in a cell of the support
    for p in x.chunks_exact(2) {
        let (i, j) = (((p[0] + 4.0) / h) as usize, ((p[1] + 4.0) / h) as usize);
        assert!(f0[i.min(40) * 41 + j.min(40)] > 0.0, "particle at {p:?} outside the disc's cells");
    }
    // cell histogram against the cell masses
    let mut counts = vec![0.0; grid.len()];
    for p in x.chunks_exact(2) {
        let (i, j) = (((p[0] + 4.0) / h) as usize, ((p[1] + 4.0) / h) as usize);
        counts[i.min(40) * 41 + j.min(40)] += 1.0 / n as f64;
    }
    let vol = grid.cell_volume();
    let l1: f64 = counts.iter().zip(&f0).map(|(c, f)| (c - f * vol).abs()).sum();
    let noise: f64 = f0.iter().map(|f| (f * vol / n as f64).sqrt()).sum();
    eprintln!("inverse CDF: L1 {l1:.4e}, noise scale {noise:.4e}");
    assert!(l1 < noise, "L1 {l1} above the noise scale {noise}");
}
