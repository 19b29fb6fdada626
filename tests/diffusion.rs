//! Score-based diffusion (MATH.md §4): the samplers against exact answers.

use fpgen::diffusion::sampler::{self, CpuSampler, SamplerSettings, Start, Stepper};
use fpgen::model::score::{LinearProcess, PointCloud};

const HEAT: LinearProcess = LinearProcess { lambda: 0.0, diffusion: 1.0 };

fn settings(epsilon: f64, t_min: f64, steps: usize, samples: usize) -> SamplerSettings {
    SamplerSettings {
        epsilon,
        t_final: 1.0,
        t_min,
        steps,
        stepper: Stepper::Exponential,
        start: Start::Exact,
        samples,
        seed: 4,
        trajectories: 0,
    }
}

fn run_from(process: &LinearProcess, cloud: &PointCloud, s: &SamplerSettings, start: Vec<f64>) -> Vec<f64> {
    let mut mover = CpuSampler { cloud, positions: start.clone(), seed: s.seed };
    sampler::run(process, cloud.dim, s, &mut mover, &start, &mut |_| {}).unwrap().samples
}

/// Two Diracs at (±1, 0), ε = 0 (the probability-flow ODE): a path with x₁ > 0 ends at
/// (1, 0), with x₁ < 0 at (−1, 0), and on x₁ = 0 at the midpoint (0, 0). With t_min = 1e-8
/// the exponential step leaves X − m ∝ √t_min ≈ 1e-4 of the starting offset; asserted 1e-3.
#[test]
fn two_dirac_ode_paths_end_at_the_dirac_on_their_side() {
    let cloud = PointCloud::new(2, vec![1.0, 0.0, -1.0, 0.0], None).unwrap();
    let starts = [
        ([0.3, 1.5], [1.0, 0.0]),
        ([-0.05, -2.0], [-1.0, 0.0]),
        ([0.0, 1.2], [0.0, 0.0]),
        ([2.5, 0.0], [1.0, 0.0]),
    ];
    let start: Vec<f64> = starts.iter().flat_map(|(x, _)| *x).collect();
    let s = SamplerSettings { start: Start::Gaussian, ..settings(0.0, 1e-8, 400, starts.len()) };
    let end = run_from(&HEAT, &cloud, &s, start);
    for ((x0, target), x) in starts.iter().zip(end.chunks(2)) {
        let miss = ((x[0] - target[0]).powi(2) + (x[1] - target[1]).powi(2)).sqrt();
        eprintln!("{x0:?} → ({:.6}, {:.6}), miss {miss:.2e}", x[0], x[1]);
        assert!(miss < 1e-3, "{x0:?} ended at {x:?}, not {target:?}");
    }
}

/// A single Dirac y: from u(T) = N(y, 2T) the exponential step is exact, so the samples at
/// t_min are N(y, 2 t_min) per axis (heat) or N(e^{−λt} y, σ²(t)) (OU). Mean and variance
/// within 5 standard errors (SE of the mean √(σ²/n), of the variance σ² √(2/n)), for ε ∈
/// {0, 0.5, 1} and 10 steps.
#[test]
fn single_dirac_exponential_step_reproduces_the_gaussian() {
    let n = 100_000;
    let y = [0.5, -1.0];
    let cloud = PointCloud::new(2, y.to_vec(), None).unwrap();
    for process in [HEAT, LinearProcess { lambda: 1.0, diffusion: 0.5 }] {
        for eps in [0.0, 0.5, 1.0] {
            let s = settings(eps, 0.01, 10, n);
            let start = sampler::start_positions(&process, &cloud, &s);
            let x = run_from(&process, &cloud, &s, start);
            let var = process.variance(0.01);
            for a in 0..2 {
                let values: Vec<f64> = x.chunks(2).map(|p| p[a]).collect();
                let mean = values.iter().sum::<f64>() / n as f64;
                let v = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                let expected = y[a] / process.scale(0.01);
                let (se_mean, se_var) = ((var / n as f64).sqrt(), var * (2.0 / n as f64).sqrt());
                eprintln!(
                    "λ {} ε {eps} axis {a}: mean {mean:.5} (exact {expected:.5}, {:.1} SE), var {v:.5e} (exact {var:.5e}, {:.1} SE)",
                    process.lambda,
                    (mean - expected) / se_mean,
                    (v - var) / se_var
                );
                assert!((mean - expected).abs() < 5.0 * se_mean);
                assert!((v - var).abs() < 5.0 * se_var);
            }
        }
    }
}
