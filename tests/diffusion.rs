//! Score-based diffusion (docs/MATH.md §4): the samplers against exact answers.

use fpgen::diffusion::sampler::{self, CpuSampler, ExactScore, SampleMethod, SamplerSettings, Start};
use fpgen::model::score::{LinearProcess, PointCloud};
use fpgen::reverse::pde::FaceFlux;

const HEAT: LinearProcess = LinearProcess { lambda: 0.0, diffusion: 1.0 };

fn settings(epsilon: f64, t_min: f64, steps: usize, samples: usize) -> SamplerSettings {
    SamplerSettings {
        epsilon,
        t_final: 1.0,
        t_min,
        steps,
        stepper: SampleMethod::Exponential,
        start: Start::Exact,
        samples,
        seed: 4,
        trajectories: 0,
    }
}

fn run_from(process: &LinearProcess, cloud: &PointCloud, s: &SamplerSettings, start: Vec<f64>) -> Vec<f64> {
    let mut mover = CpuSampler::exact(process, cloud, start.clone(), s.seed);
    fpgen::run::diffusion_steps::sample(process, cloud.dim, s, &mut mover, &start, &mut |_, _| Ok(()))
        .unwrap()
        .samples
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

/// Li–Yau (docs/MATH.md §4): div s + d/σ² ≥ 0 with equality only for a single Dirac. Measured by
/// central differences of the exact score (error ≈ δ² s''' ≈ 1e-8 relative) on a grid of
/// (t, x), for three 1D Diracs and a 2D lemniscate cloud, heat and OU: the relative margin is
/// ≥ −1e-6.
#[test]
fn li_yau_margin_is_non_negative() {
    use fpgen::diffusion::theory::li_yau_margin;
    use fpgen::grid::Grid;
    use fpgen::model::clouds::{self, Shape, ShapeParams};
    let diracs = PointCloud::new(1, vec![-5.0, 0.0, 5.0], Some(&[0.7, 0.3, 0.1])).unwrap();
    let p = ShapeParams { scale: 2.0, noise: 0.0, side: 1 };
    let lemniscate = clouds::shape_cloud(Shape::Lemniscate, &p, 200, 3, false).unwrap();
    let times = [1.0, 0.1, 0.01, 0.001];
    for process in [HEAT, LinearProcess { lambda: 1.0, diffusion: 0.5 }] {
        for (cloud, grid) in
            [(&diracs, Grid::new(1, 400, 8.0).unwrap()), (&lemniscate, Grid::new(2, 64, 3.0).unwrap())]
        {
            let margin =
                li_yau_margin(&process, cloud.dim, &grid, &times, &mut ExactScore { process, cloud })
                    .unwrap();
            eprintln!("λ {} {}D: Li–Yau margin {margin:.3e}", process.lambda, cloud.dim);
            assert!(margin >= -1e-6, "margin {margin:e}");
        }
    }
    // a single Dirac is the equality case: the margin is 0 to the differences' error
    let single = PointCloud::new(1, vec![0.5], None).unwrap();
    let grid = Grid::new(1, 100, 4.0).unwrap();
    let margin =
        li_yau_margin(&HEAT, 1, &grid, &times, &mut ExactScore { process: HEAT, cloud: &single }).unwrap();
    assert!(margin.abs() < 1e-6, "single Dirac margin {margin:e}");
}

/// KL(ρ(t) ‖ u(t)) along the grid backward Fokker–Planck solution from the Gaussian start
/// (three Diracs, 1D, T = 2 in a box of half-width 14 that holds u(T) to 1e-9, h = 0.007,
/// check times with σ ≥ 35 h): non-increasing as t decreases
/// for ε = 1 and 0.2 (relative rises ≤ 1e-3 of KL(T), the scheme's error at this h); for
/// ε = 0 it is constant in theory and drifts by less than 5% on this grid (upwind diffusion).
/// Mass is kept to 1e-12. From u(T) (exactly u(t) for every ε) the grid's KL to u(t), the
/// scheme's error that check-theory allows for, stays below (h/σ(t))² with the upwind flux
/// (measured ≈ 0.4 of it); with Scharfetter–Gummel (ε > 0) it is over 100 times smaller at
/// t = 0.03 (measured 3·10⁴ and 4·10³ times for ε = 1, 0.2).
#[test]
fn kl_to_the_forward_density_does_not_increase() {
    use fpgen::diffusion::backward;
    use fpgen::diffusion::sampler::Start;
    use fpgen::grid::Grid;
    let cloud = PointCloud::new(1, vec![-5.0, 0.0, 5.0], Some(&[0.7, 0.3, 0.1])).unwrap();
    let grid = Grid::new(1, 4000, 14.0).unwrap();
    let times = [2.0, 0.5, 0.1, 0.03];
    // the solution from `start` at the check times, and its KL to u there
    let solve_from = |start: Start, eps: f64, flux: FaceFlux| {
        let rho = backward::start_density(&HEAT, &cloud, &grid, start, 2.0);
        let rhos = backward::solve_cpu(&HEAT, &cloud, &grid, eps, flux, 0.9, &times, rho).unwrap();
        let kl: Vec<f64> = rhos
            .iter()
            .zip(&times)
            .map(|(r, &t)| backward::kl(r, &backward::exact_on_grid(&HEAT, &cloud, &grid, t), &grid))
            .collect();
        (rhos, kl)
    };
    let (up, sg) = (FaceFlux::Upwind, FaceFlux::ScharfetterGummel);
    // for ε = 0 (no diffusion) Scharfetter–Gummel is upwind
    let mut upwind_floor = 0.0;
    for (eps, flux) in [(1.0, up), (1.0, sg), (0.2, up), (0.2, sg), (0.0, up)] {
        let (rhos, kl) = solve_from(Start::Gaussian, eps, flux);
        eprintln!("ε = {eps} {flux:?}: KL {kl:?}");
        for r in &rhos {
            let mass: f64 = r.iter().sum::<f64>() * grid.cell_volume();
            assert!((mass - 1.0).abs() < 1e-12);
        }
        if eps > 0.0 {
            assert!(kl.windows(2).all(|w| w[1] <= w[0] + 1e-3 * kl[0]), "ε = {eps}: {kl:?}");
            assert!(kl[3] < 0.9 * kl[0], "ε = {eps}: KL hardly fell {kl:?}");
        } else {
            let drift = kl.iter().map(|k| (k - kl[0]).abs() / kl[0]).fold(0.0, f64::max);
            assert!(drift < 1e-2, "ε = 0: drift {drift}");
        }
        // from u(T) the solution is u(t): check-theory's estimate of the scheme's KL error
        let (_, floor) = solve_from(Start::Exact, eps, flux);
        eprintln!("ε = {eps} {flux:?}: KL from u(T) {floor:?}");
        // first order in h: the density is off by O(h/σ) relative, KL by O((h/σ)²)
        for (e, &t) in floor.iter().zip(&times) {
            let h_over_sigma = grid.h() / HEAT.variance(t).sqrt();
            assert!(*e <= h_over_sigma.powi(2), "ε = {eps}, t = {t}: KL from u(T) {e:e}");
        }
        // Scharfetter–Gummel is central at these small cell Péclet numbers
        if flux == up {
            upwind_floor = floor[3];
        } else {
            assert!(floor[3] < 0.01 * upwind_floor, "ε = {eps}: {} vs upwind {upwind_floor}", floor[3]);
        }
    }
}

/// `fpgen bench-score` (CPU): the rate is samples × data × steps over the timed wall, and a
/// zero count is refused with the flag's name.
#[test]
fn score_bench_counts_every_pair_it_times() {
    let row = fpgen::run::bench::measure_score(&fpgen::gpu::Device::Cpu, 300, 2000, 3, 1).unwrap();
    assert_eq!((row.backend.as_str(), row.data_points, row.samples, row.steps), ("cpu", 300, 2000, 3));
    let pairs_per_step = row.pair_evaluations_per_second * row.ms_per_step * 1e-3;
    assert!((pairs_per_step / (300.0 * 2000.0) - 1.0).abs() < 1e-9, "{pairs_per_step}");
    assert!(row.ms_per_step > 0.0 && row.ms_per_step.is_finite());
    let err =
        fpgen::run::bench::measure_score(&fpgen::gpu::Device::Cpu, 0, 10, 1, 1).unwrap_err().to_string();
    assert!(err.contains("`data`"), "{err}");
}

/// The L^p growth bound is an equality for a single Dirac with ε = 0 started from u(T):
/// ρ = u = N(e^{−λt} y, σ²(t)), ‖u(t)‖_p / ‖u(T)‖_p = (σ²(T)/σ²(t))^{d(1−1/p)/2} and
/// σ² = 2 t_h e^{−2λt}. So the grid solution's norm ratios must meet `lp_growth_log_bound`
/// (heat, and OU through its heat coordinates) to the grid's error, here h = σ(t)/35 at
/// the smallest t: |ln ratio − ln bound| ≤ 0.02, where a missing e^{−dλ(T−t)(1−1/p)} would
/// be off by 0.9 (p = ∞, λ = 1, T − t = 0.9). For ε = 0.5, u stays the solution
/// and the ratios are the same, under a bound larger by ε d(1−1/p)/2 ln(T_h/t_h).
#[test]
fn lp_growth_bound_is_met_with_equality_by_a_single_dirac() {
    use fpgen::diffusion::backward;
    use fpgen::diffusion::theory::lp_growth_log_bound;
    use fpgen::grid::Grid;
    let cloud = PointCloud::new(1, vec![0.8], None).unwrap();
    let times = [1.0, 0.4, 0.1];
    for process in
        [HEAT, LinearProcess { lambda: 1.0, diffusion: 1.0 }, LinearProcess { lambda: 0.5, diffusion: 0.7 }]
    {
        let sigma_min = process.variance(0.1).sqrt();
        let grid = Grid::new(1, (2.0 * 8.0 * 35.0 / sigma_min) as usize, 8.0).unwrap();
        for eps in [0.0, 0.5] {
            let rho = backward::start_density(&process, &cloud, &grid, Start::Exact, 1.0);
            let rhos = backward::solve_cpu(
                &process,
                &cloud,
                &grid,
                eps,
                FaceFlux::ScharfetterGummel,
                0.9,
                &times,
                rho,
            )
            .unwrap();
            for (inv_p, p) in [(0.5, Some(2.0)), (0.0, None)] {
                let base = backward::norm(&rhos[0], &grid, p);
                for (r, &t) in rhos.iter().zip(&times).skip(1) {
                    let ratio = (backward::norm(r, &grid, p) / base).ln();
                    let bound = lp_growth_log_bound(&process, eps, 1, inv_p, 1.0, t);
                    let tight = lp_growth_log_bound(&process, 0.0, 1, inv_p, 1.0, t);
                    eprintln!(
                        "λ {} D {} ε {eps} 1/p {inv_p} t {t}: ln ratio {ratio:.5}, ln bound {bound:.5}",
                        process.lambda, process.diffusion
                    );
                    assert!((ratio - tight).abs() < 0.02, "ln ratio {ratio} vs equality case {tight}");
                    assert!(ratio <= bound + 0.01, "ln ratio {ratio} above the bound {bound}");
                }
            }
        }
    }
}
