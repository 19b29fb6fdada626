//! Accuracy against exact solutions: linear OU convergence orders and the discrete
//! Bose–Einstein steady state.

mod common;
use common::*;
use fpgen::forward::DtPolicy;
use fpgen::model::equilibrium;

/// Exact 1D linear OU solution from N(m0, s0²) with mass 1 (docs/MATH.md §1, β = 0).
fn ou_exact(x: f64, t: f64, m0: f64, s0: f64) -> f64 {
    let m = m0 * (-t).exp();
    let var = s0 * s0 * (-2.0 * t).exp() + (1.0 - (-2.0 * t).exp());
    (-(x - m).powi(2) / (2.0 * var)).exp() / (2.0 * std::f64::consts::PI * var).sqrt()
}

fn ou_config(cells: usize, scheme: &str, integrator: &str) -> fpgen::config::Config {
    config(
        1,
        &[
            "model.beta=0.0",
            "grid.half_width=8.0",
            &format!("grid.cells={cells}"),
            "initial.centres=[1.0]",
            "initial.std_devs=[0.5]",
            "initial.weights=[1.0]",
            &format!("scheme.kind=\"{scheme}\""),
            &format!("scheme.integrator=\"{integrator}\""),
        ],
    )
}

/// L1 error at t = 0.5 against the exact Gaussian, for N cells.
fn ou_error(cells: usize, scheme: &str, integrator: &str) -> f64 {
    let cfg = ou_config(cells, scheme, integrator);
    let grid = cfg.grid().unwrap();
    let mut b = loaded(&cfg);
    let out = b.step_n(1_000_000, &control(&cfg, 0.5)).unwrap();
    assert!(out.stop.is_none());
    let f = field(b.as_mut(), cells);
    f.iter().enumerate().map(|(i, v)| (v - ou_exact(grid.centre(i), 0.5, 1.0, 0.5)).abs()).sum::<f64>()
        * grid.h()
}

/// Both schemes are first order in h (upwinded drift); Δt ∝ h² makes the time error
/// O(h²), so the measured order over N = 101 → 1601 must approach 1.
#[test]
fn linear_ou_converges_first_order_in_h() {
    for (scheme, integrator) in [("upwind", "euler"), ("gradient-flow", "ssp-rk2")] {
        let errors: Vec<f64> =
            [101, 201, 401, 801, 1601].iter().map(|&n| ou_error(n, scheme, integrator)).collect();
        let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("{scheme}/{integrator}: L1 errors {errors:?}, orders {orders:.3?}");
        let last = *orders.last().unwrap();
        assert!((0.9..=1.1).contains(&last), "{scheme}: order in h {last:.3} (errors {errors:?})");
        assert!(orders.iter().all(|o| *o > 0.9), "{scheme}: orders {orders:?}");
    }
}

/// On a fixed grid, against a reference with Δt/64: forward Euler is first order in Δt,
/// SSP-RK2 second order. Δt = T/K exactly, K chosen above the stability bound.
#[test]
fn time_integrators_have_their_order() {
    let cells = 201;
    let t_end = 0.25;
    for (scheme, integrator, expected) in [
        ("upwind", "euler", 1.0),
        ("upwind", "ssp-rk2", 2.0),
        ("gradient-flow", "euler", 1.0),
        ("gradient-flow", "ssp-rk2", 2.0),
    ] {
        let cfg = ou_config(cells, scheme, integrator);
        let bound = loaded(&cfg).dt_bound();
        let k0 = (t_end / (0.5 * bound)).ceil();
        let run = |k: f64| {
            let mut b = loaded(&cfg);
            let ctl = control(&cfg, t_end);
            b.set_dt_policy(DtPolicy::Fixed(t_end / k)).unwrap();
            let out = b.step_n(u64::MAX, &ctl).unwrap();
            assert!(out.stop.is_none(), "{:?}", out.stop);
            field(b.as_mut(), cells)
        };
        let reference = run(64.0 * k0);
        let errs: Vec<f64> = [1.0, 2.0, 4.0].iter().map(|m| rel_l1(&run(m * k0), &reference)).collect();
        let orders: Vec<f64> = errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("{scheme}/{integrator}: errors {errs:?}, orders {orders:.3?}");
        for o in orders {
            assert!(
                (o - expected).abs() < 0.15,
                "{scheme}/{integrator}: order in dt {o:.3}, expected {expected}"
            );
        }
    }
}

/// The gradient-flow scheme's discrete steady states are exactly f_θ(x_i) (ξ constant),
/// so a subcritical run (γ = 3, M = M_c/2 in 1D) converges to f_θ(x_i) with θ fixed by
/// the discrete mass. The distance decays like e^{-κt}: measured κ ≈ 1.6 (errors 5.7e-3,
/// 2.1e-6 at t = 5, 10), so at T = 20 about e^{-32} ≈ 1e-14 remains (measured 4e-13);
/// 1e-9 is asserted, with room for the round-off of ~10^4 steps.
#[test]
fn subcritical_run_reaches_the_discrete_bose_einstein_profile() {
    let p = fpgen::model::ModelParams::bose(1.0, 1.0, 3.0, 1.0);
    let mass = 0.5 * equilibrium::critical_mass(&p, 1, None).unwrap();
    let cfg = config(
        1,
        &[
            "model.gamma=3.0",
            "grid.half_width=8.0",
            "grid.cells=201",
            &format!("initial.mass={mass}"),
            "scheme.kind=\"gradient-flow\"",
        ],
    );
    let grid = cfg.grid().unwrap();
    let (theta, profile) = equilibrium::grid_profile(&p, &grid, mass);
    let mut b = loaded(&cfg);
    let mut errors = Vec::new();
    for t in [5.0, 10.0, 20.0] {
        b.step_n(u64::MAX, &control(&cfg, t)).unwrap();
        let f = field(b.as_mut(), grid.len());
        let err = f.iter().zip(&profile).map(|(a, e)| (a - e).abs() / e).fold(0.0, f64::max);
        errors.push(err);
    }
    eprintln!("theta = {theta}, max relative error at t = 5, 10, 20: {errors:?}");
    assert!(errors[2] < 1e-9, "max relative error {:e}", errors[2]);
    assert!(errors[1] < errors[0], "no convergence: {errors:?}");
    // θ from the discrete mass agrees with θ of the box to the quadrature order O(h²).
    let theta_box = equilibrium::theta_for_mass(&p, 1, mass, Some(8.0)).unwrap();
    assert!((theta - theta_box).abs() < 5.0 * grid.h().powi(2), "{theta} vs {theta_box}");
}
