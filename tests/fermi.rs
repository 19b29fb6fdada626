//! The fermion statistic (`model.statistics = "fermi"`, m(f) = f (1 − β f^γ), docs/MATH.md
//! §2i): densities stay in [0, β^{−1/γ}] under the step bound, mass is conserved, the
//! entropy never rises, the gradient-flow scheme relaxes to the discrete Fermi–Dirac
//! state f_θ(x_i), the upwind scheme to it at first order in h; inadmissible initial
//! densities are refused naming the key; the GPU agrees with the CPU.

mod common;
use common::*;
use fpgen::gpu::context::context_for_tests;
use fpgen::model::equilibrium;

/// β = 1, γ = 2 (saturation 1): a mass whose steady state nearly saturates the centre.
fn fermi_config(dim: usize, scheme: &str, integrator: &str, extra: &[&str]) -> fpgen::config::Config {
    let mass = if dim == 1 { "initial.mass=2.4" } else { "initial.mass=5.0" };
    let mut o = vec!["model.statistics=\"fermi\"", "model.beta=1.0", "initial.weights=[1.0, 1.0]", mass];
    o.extend_from_slice(extra);
    let std = if dim == 1 { "initial.std_devs=[0.9, 0.9]" } else { "initial.std_devs=[0.8, 0.8]" };
    o.push(std);
    scheme_config(dim, scheme, integrator, &o)
}

#[test]
fn fermions_stay_below_saturation_conserve_mass_and_lose_entropy() {
    for dim in [1, 2] {
        for (scheme, integrator) in SCHEMES {
            let cfg = fermi_config(dim, scheme, integrator, &["run.precision=\"f64\""]);
            let sat = cfg.model_params().saturation().unwrap();
            let mut b = loaded(&cfg);
            let h = history(b.as_mut(), &control(&cfg, 3.0), 100_000);
            let m0 = h[0].mass;
            assert!(h[0].max < sat && h.last().unwrap().t >= 3.0 - 1e-12);
            for (k, d) in h.iter().enumerate() {
                assert!(
                    d.min >= 0.0 && d.max <= sat,
                    "{scheme}/{integrator} {dim}D step {k}: [{}, {}]",
                    d.min,
                    d.max
                );
                assert!(
                    (d.mass - m0).abs() <= 1e-12 * m0,
                    "{scheme}/{integrator} {dim}D mass drift {}",
                    d.mass - m0
                );
            }
            // H is non-increasing step by step (up to its f64 rounding)
            for w in h.windows(2) {
                let tol = 1e-12 * w[0].entropy.abs().max(1.0);
                assert!(
                    w[1].entropy <= w[0].entropy + tol,
                    "{scheme}/{integrator} {dim}D: H rose at t = {}",
                    w[1].t
                );
            }
            // the centre approaches saturation: the profile the run relaxes to is a plateau
            assert!(h.last().unwrap().max > 0.5 * sat, "{scheme}/{integrator} {dim}D");
        }
    }
}

/// An initial density pressed against saturation: a wide band at 0.94 β^{−1/γ}, pushed
/// inward by the drift. Every scheme and integrator keeps f ≤ β^{−1/γ} (f32 and f64).
#[test]
fn a_density_at_the_edge_of_saturation_never_crosses_it() {
    for dim in [1, 2] {
        for (scheme, integrator) in SCHEMES {
            for precision in ["f32", "f64"] {
                let (lower, upper, mass) =
                    if dim == 1 { ("-3.0", "3.0", 5.82) } else { ("[-3.0, -3.0]", "[3.0, 3.0]", 34.92) };
                let text = format!(
                    r#"
name = "edge"
[model]
dim = {dim}
gamma = 2.0
lambda = 4.0
statistics = "fermi"
[grid]
half_width = 5.0
cells = 41
[initial]
kind = "uniform-box"
mass = {mass}
lower = {lower}
upper = {upper}
[scheme]
kind = "{scheme}"
integrator = "{integrator}"
[run]
t_final = 0.5
precision = "{precision}"
"#
                );
                let cfg = fpgen::config::Config::from_toml_str(&text, "edge", &[]).unwrap();
                let sat = cfg.model_params().saturation().unwrap();
                let mut b = loaded(&cfg);
                let h = history(b.as_mut(), &control(&cfg, 0.5), 100_000);
                assert!(h[0].max > 0.9 * sat && h[0].max < sat, "{}", h[0].max);
                let worst = h.iter().map(|d| d.max).fold(0.0, f64::max);
                eprintln!("{scheme}/{integrator} {dim}D {precision}: max density {worst} (saturation {sat})");
                // the drift presses the band into a plateau within 1e-3 of saturation
                assert!(worst > 0.999 * sat, "{scheme}/{integrator} {dim}D {precision}: max {worst}");
                assert!(
                    worst <= sat && h.iter().all(|d| d.min >= 0.0),
                    "{scheme}/{integrator} {dim}D {precision}: max {worst} > saturation {sat}"
                );
            }
        }
    }
}

/// The gradient-flow scheme's face velocity vanishes when ξ is constant, so its steady
/// state is f_θ(x_i) exactly: the distance decays exponentially (measured rates 0.52 in
/// 1D, where the centre is nearly saturated and the mobility small, and 0.81 in 2D) down
/// to round-off, reached by t = 70 (1D) and t = 45 (2D).
#[test]
fn gradient_flow_relaxes_to_the_discrete_fermi_dirac_state() {
    for dim in [1, 2] {
        for integrator in ["euler", "ssp-rk2"] {
            let cfg = fermi_config(dim, "gradient-flow", integrator, &["run.precision=\"f64\""]);
            let grid = cfg.grid().unwrap();
            let mut b = loaded(&cfg);
            let (theta, steady) = equilibrium::grid_profile(&cfg.model_params(), &grid, cfg.initial.mass);
            run_to(b.as_mut(), if dim == 1 { 70.0 } else { 45.0 });
            let f = field(b.as_mut(), grid.len());
            let e = rel_l1(&f, &steady);
            eprintln!("gradient-flow/{integrator} {dim}D: θ = {theta}, relative L1 to f_θ(x_i) = {e:e}");
            assert!(e < 1e-12, "{integrator} {dim}D: relative L1 {e:e}");
        }
    }
}

/// The upwind scheme's steady state is f_θ(x_i) up to its first-order consistency error:
/// halving h halves the distance (1D, order within [0.8, 1.3]).
#[test]
fn upwind_relaxes_to_the_fermi_dirac_state_at_first_order() {
    let distance = |cells: usize| {
        let cfg =
            fermi_config(1, "upwind", "euler", &[&format!("grid.cells={cells}"), "run.precision=\"f64\""]);
        let grid = cfg.grid().unwrap();
        let mut b = loaded(&cfg);
        run_to(b.as_mut(), 20.0);
        let f = field(b.as_mut(), grid.len());
        rel_l1(&f, &equilibrium::grid_profile(&cfg.model_params(), &grid, cfg.initial.mass).1)
    };
    let (coarse, fine) = (distance(41), distance(81));
    let order = (coarse / fine).log2();
    eprintln!("upwind fermions: distance {coarse:e} (N = 41), {fine:e} (N = 81), order {order}");
    assert!((0.8..=1.3).contains(&order), "order {order}");
}

#[test]
fn an_initial_density_at_saturation_is_refused_naming_the_key() {
    let cfg = fermi_config(1, "upwind", "euler", &["initial.mass=10.0"]);
    let err = fpgen::forward::Problem::from_config(&cfg).map(|_| ()).expect_err("refused").to_string();
    assert!(err.contains("initial.mass") && err.contains("saturation"), "{err}");
    // a mass given as a multiple of M_c has nothing to refer to
    let text = r#"
name = "t"
[model]
dim = 2
gamma = 2.0
statistics = "fermi"
[grid]
half_width = 5.0
cells = 41
[initial]
kind = "gaussian-mixture"
mass_ratio = 0.5
centres = [[0.0, 0.0]]
std_devs = [1.0]
[run]
t_final = 1.0
"#;
    let err =
        fpgen::config::Config::from_toml_str(text, "t", &[]).map(|_| ()).expect_err("refused").to_string();
    assert!(err.contains("initial.mass_ratio") && err.contains("fermi"), "{err}");
}

#[test]
fn fermions_have_no_critical_mass() {
    let cfg = fermi_config(2, "upwind", "euler", &[]);
    let r = equilibrium::critical_mass_report(&cfg.model_params(), 2, Some(5.0), Some(5.0));
    assert!(!r.finite && r.critical_mass.is_none() && r.condensate_mass.is_none());
    assert!(r.note.contains("no finite critical mass"), "{}", r.note);
    assert!(r.theta.is_some());
}

/// The GPU step against the CPU (f32) for fermions, both schemes, Euler, 1D and 2D: the
/// same face fluxes with the monotone mobility split, to f32 round-off.
#[test]
fn gpu_matches_cpu_for_fermions() {
    let Some(_ctx) = context_for_tests(4 * 65 * 65, 2) else { return };
    for (scheme, integrator) in SCHEMES {
        for dim in [1, 2] {
            let mut cfg = fermi_config(dim, scheme, integrator, &["run.precision=\"f32\""]);
            let grid = cfg.grid().unwrap();
            let mut cpu = loaded(&cfg);
            let f0 = field(cpu.as_mut(), grid.len());
            cfg.scheme.dt = Some(0.5 * cpu.dt_bound());
            let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
            gpu.upload(&f0, 0.0).unwrap();
            cpu.set_dt_policy(fpgen::forward::DtPolicy::Fixed(cfg.scheme.dt.unwrap())).unwrap();
            let ctl = control(&cfg, f64::INFINITY);
            assert_eq!(cpu.step_n(500, &ctl).unwrap().steps, 500);
            assert_eq!(gpu.step_n(500, &ctl).unwrap().steps, 500);
            let e = rel_l1(&field(gpu.as_mut(), grid.len()), &field(cpu.as_mut(), grid.len()));
            eprintln!(
                "fermions {scheme}/{integrator} {dim}D: relative L1 GPU vs CPU f32 after 500 steps = {e:e}"
            );
            assert!(e <= 1e-5, "{scheme}/{integrator} {dim}D: {e:e}");
            // the device's diagnostics (its entropy table included) against the CPU's
            let (dg, dc) = (gpu.diagnostics().unwrap(), cpu.diagnostics().unwrap());
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-30);
            assert!(rel(dg.entropy, dc.entropy) < 1e-4, "entropy GPU {} CPU {}", dg.entropy, dc.entropy);
            assert!(rel(dg.max, dc.max) < 1e-5 && rel(dg.mass, dc.mass) < 1e-5);
        }
    }
}

fn reverse_settings(
    eta: f64,
    start: fpgen::run::generation::Start,
    mode: fpgen::run::generation::ReverseMode,
    particles: Option<fpgen::run::generation::ParticleOptions>,
) -> fpgen::run::generation::ReverseSettings {
    fpgen::run::generation::ReverseSettings {
        eta,
        start,
        mode,
        store_every: 1,
        memory_budget_bytes: 1 << 30,
        disk_budget_bytes: u64::MAX,
        safety: 0.9,
        log_floor: 1e-30,
        flux: fpgen::reverse::pde::FaceFlux::Upwind,
        particles,
    }
}

/// Reverse generation with fermions: the exactly reversible mode returns f(0) from f(T) to
/// round-off for every η (each step reversed with its own stored fluxes), with mass
/// conserved; from the Fermi–Dirac equilibrium, reverse particles follow the grid
/// reconstruction, closer with more particles (sampling noise ∝ N_p^{−1/2}).
#[test]
fn fermion_generation_reverses_the_forward_run() {
    use fpgen::run::generation::{generate, ParticleOptions, ReverseMode, Start};
    let cfg = fermi_config(
        1,
        "gradient-flow",
        "euler",
        &["grid.cells=201", "run.t_final=2.0", "run.precision=\"f64\"", "initial.centres=[-1.5, 1.0]"],
    );
    for eta in [0.0, 1.0] {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(&cfg, &reverse_settings(eta, Start::Terminal, ReverseMode::Exact, None), dir.path())
            .unwrap();
        let drift = (g.mass_generated - g.mass_initial) / g.mass_initial;
        assert!(drift.abs() < 1e-12, "eta = {eta}: mass drift {drift:e}");
        assert!(g.rel_l1_to_initial < 1e-10, "eta = {eta}: {:e}", g.rel_l1_to_initial);
    }
    let mut gaps = Vec::new();
    for count in [1_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let particles = Some(ParticleOptions { count, dt: 1.0 / 400.0, seed: 7 });
        let s = reverse_settings(1.0, Start::Equilibrium, ReverseMode::Scheme, particles);
        let g = generate(&cfg, &s, dir.path()).unwrap();
        assert_eq!(g.samples.len(), count);
        gaps.push(g.particles_rel_l1_to_generated.unwrap());
    }
    eprintln!("fermion reverse particles vs grid, N_p = 1e3, 1e5: relative L1 {gaps:?}");
    // a hundred times the particles: the noise part falls tenfold, the O(h) bias stays
    assert!(gaps[1] < 0.5 * gaps[0], "{gaps:?}");
}

/// The interacting particle system with fermions (drift factor max(1 − β f̂^γ, 0), the
/// same `drift_factor` the device's particle kernel calls, compared in tests/gpu_model.rs):
/// mass is exact, and the particle density is close to the grid solution at the same time
/// (relative L1 below 0.05, the size of the CIC estimate's noise at N_p = 10⁵ on 41 cells
/// plus the grid scheme's O(h) error).
#[test]
fn fermion_particles_follow_the_grid_solution() {
    let cfg = fermi_config(
        1,
        "gradient-flow",
        "euler",
        &["run.t_final=1.0", "run.precision=\"f64\"", "initial.centres=[-1.5, 1.0]"],
    );
    let grid = cfg.grid().unwrap();
    let mut b = loaded(&cfg);
    run_to(b.as_mut(), 1.0);
    let pde = field(b.as_mut(), grid.len());
    let params = cfg.model_params();
    let count = 100_000;
    let settings = fpgen::particles::ParticleSettings {
        count,
        dt: 1.0 / 400.0,
        seed: 3,
        stepper: fpgen::particles::ParticleMethod::DriftImplicit,
        smoothing_sweeps: 0,
    };
    let init = cfg.initial_density().unwrap();
    let x = fpgen::particles::sample::sample(&init, &grid, count, 3).unwrap();
    let mut system =
        fpgen::particles::ParticleSystem::<f64>::new(&grid, &params, settings, cfg.initial.mass, &x);
    for _ in 0..400 {
        system.step();
    }
    let density = system.estimate_density().to_vec();
    let mass: f64 = density.iter().sum::<f64>() * grid.cell_volume();
    assert!((mass - cfg.initial.mass).abs() < 1e-9 * cfg.initial.mass, "mass {mass}");
    let gap = rel_l1(&density, &pde);
    eprintln!("fermion particles (10⁵) vs the grid solution at t = 1: relative L1 {gap:e}");
    assert!(gap < 0.05, "{gap:e}");
}

/// The implicit integrators (Newton on the gradient-flow scheme's fluxes, with the
/// mobility split and its Jacobian) carry fermions to the same discrete Fermi–Dirac state,
/// below saturation at every accepted step, in a few dozen steps: their fixed point is the
/// same f_θ(x_i), reached to the Newton tolerance once the steps have grown (t = 1000;
/// backward Euler damps a mode of rate 0.52 by 1/(1 + 0.52 Δt) per step, not e^{−0.52 Δt}).
#[test]
fn implicit_steps_reach_the_fermi_dirac_state() {
    for integrator in ["backward-euler", "bdf2"] {
        let cfg = fermi_config(1, "gradient-flow", integrator, &["run.precision=\"f64\""]);
        let grid = cfg.grid().unwrap();
        let sat = cfg.model_params().saturation().unwrap();
        let mut b = loaded(&cfg);
        let h = history(b.as_mut(), &control(&cfg, 1000.0), 100_000);
        assert!(h.iter().all(|d| d.max <= sat && d.min >= 0.0), "{integrator}: left [0, saturation]");
        let m0 = h[0].mass;
        assert!(h.iter().all(|d| (d.mass - m0).abs() <= 1e-12 * m0), "{integrator}: mass drift");
        let f = field(b.as_mut(), grid.len());
        let (_, steady) = equilibrium::grid_profile(&cfg.model_params(), &grid, cfg.initial.mass);
        let e = rel_l1(&f, &steady);
        eprintln!("{integrator}: {} steps to t = 1000, relative L1 to f_θ(x_i) = {e:e}", h.len() - 1);
        assert!(e < 1e-10, "{integrator}: relative L1 {e:e}");
    }
}
