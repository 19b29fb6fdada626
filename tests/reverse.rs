//! The reverse-time PDE (R_η) against the forward equation it reverses.

mod common;
use common::*;
use fpgen::backend::DtPolicy;
use fpgen::reverse::pde::ReversePde;

/// g(s) = f(T − s) solves (R_η) for every η, i.e. L_rev[f] f = −L_fwd f. On the grid the two
/// operators are different first-order discretisations of the same expression, so
/// ‖L_rev f + L_fwd f‖₁ / ‖L_fwd f‖₁ must vanish at order ≈ 1 in h. Each operator is read off
/// one explicit step of tiny Δt (exact in Δt: the Euler step is linear in it).
#[test]
fn forward_solution_is_a_discrete_solution_of_the_reverse_pde() {
    for eta in [0.0, 0.5, 1.0] {
        let mut residuals = Vec::new();
        for cells in [101, 201, 401, 801] {
            let cfg = scheme_config(
                1,
                "upwind",
                "euler",
                &[&format!("grid.cells={cells}"), "model.gamma=3.0", "model.beta=1.0", "initial.mass=2.0"],
            );
            let grid = cfg.grid().unwrap();
            let mut fwd = loaded(&cfg);
            let f = field(fwd.as_mut(), grid.len());
            let dt = 1e-3 * fwd.dt_bound();
            let mut ctl = control(&cfg, f64::INFINITY);
            ctl.dt = DtPolicy::Fixed(dt);
            fwd.step_n(1, &ctl).unwrap();
            let forward_rate: Vec<f64> =
                field(fwd.as_mut(), grid.len()).iter().zip(&f).map(|(a, b)| (a - b) / dt).collect();

            let mut rev = ReversePde::new(&grid, &cfg.model_params(), eta, 1e-30);
            rev.set_forward(&f);
            let mut g = vec![0.0; grid.len()];
            rev.step(&f, dt, &mut g);
            let reverse_rate: Vec<f64> = g.iter().zip(&f).map(|(a, b)| (a - b) / dt).collect();

            let num: f64 = reverse_rate.iter().zip(&forward_rate).map(|(r, q)| (r + q).abs()).sum();
            let den: f64 = forward_rate.iter().map(|q| q.abs()).sum();
            residuals.push(num / den);
        }
        let orders: Vec<f64> = residuals.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("eta = {eta}: relative residuals {residuals:?}, orders {orders:?}");
        for o in &orders {
            assert!(*o > 0.8 && *o < 1.3, "eta = {eta}: order {o}");
        }
    }
}

/// The reverse step conserves mass and keeps g ≥ 0 under its bound (2D).
#[test]
fn reverse_step_keeps_mass_and_positivity() {
    let cfg = config(2, &["grid.cells=41", "initial.mass=3.0"]);
    let grid = cfg.grid().unwrap();
    let mut fwd = loaded(&cfg);
    fwd.step_n(50, &control(&cfg, f64::INFINITY)).unwrap();
    let f = field(fwd.as_mut(), grid.len());
    let mut rev = ReversePde::new(&grid, &cfg.model_params(), 0.5, 1e-30);
    rev.set_forward(&f);
    // a different, compactly supported g
    let mut g: Vec<f64> = f.iter().enumerate().map(|(i, &v)| if i % 7 == 0 { 0.0 } else { v }).collect();
    let m0: f64 = g.iter().sum();
    let mut out = vec![0.0; g.len()];
    for _ in 0..200 {
        rev.step(&g, 0.99 * rev.bound(), &mut out);
        std::mem::swap(&mut g, &mut out);
    }
    let m1: f64 = g.iter().sum();
    assert!(((m1 - m0) / m0).abs() < 1e-13, "mass drift {}", (m1 - m0) / m0);
    assert!(g.iter().all(|&v| v >= 0.0), "min {}", g.iter().copied().fold(f64::INFINITY, f64::min));
}

fn generation_config(mass_factor: f64, t_final: f64) -> fpgen::config::Config {
    // 1D, γ = 3: M_c = 5.8721 on ℝ
    let mass = mass_factor * 5.872_100_154_556_979;
    scheme_config(
        1,
        "gradient-flow",
        "euler",
        &[
            "grid.cells=601",
            "grid.half_width=8.0",
            "model.gamma=3.0",
            &format!("initial.mass={mass}"),
            &format!("run.t_final={t_final}"),
            "initial.centres=[-2.5, 2.0]",
            "initial.std_devs=[0.6, 0.4]",
        ],
    )
}

/// Generation from the asymptotic state (subcritical, 1D N = 601, γ = 3, M = 0.5 M_c,
/// T = 2): the reconstruction error decreases monotonically as η grows over {0, 0.5, 1, 2}
/// (measured 0.124, 0.078, 0.062, 0.046 relative L1: the KL contraction of (R_η) damps the
/// error of the starting state faster for larger η); mass is kept to 1e-13 and g ≥ 0.
/// Not yet met: issue 5's 1e-2 from f(T) (measured 0.081 / 0.062 at η = 0.5 / 1, limited by
/// the first-order schemes), and supercritical runs, whose reverse step collapses with the
/// score near the condensate.
#[test]
fn generation_error_decreases_with_eta() {
    use fpgen::reverse::generate::{generate, ReverseSettings, Start};
    let mut errors = Vec::new();
    for eta in [0.0, 0.5, 1.0, 2.0] {
        let cfg = generation_config(0.5, 2.0);
        let dir = tempfile::tempdir().unwrap();
        let s = ReverseSettings {
            eta,
            start: Start::Equilibrium,
            store_every: 1,
            memory_budget_bytes: 1 << 30,
            safety: 0.9,
            log_floor: 1e-30,
        };
        let g = generate(&cfg, &s, dir.path()).unwrap();
        assert!(((g.mass_generated - g.mass_initial) / g.mass_initial).abs() < 1e-13);
        assert!(g.min_generated >= 0.0);
        errors.push(g.rel_l1_to_initial);
    }
    eprintln!("from equilibrium, eta = 0, 0.5, 1, 2: relative L1 {errors:?}");
    assert!(errors.windows(2).all(|w| w[1] < w[0]), "{errors:?}");
}
