//! Supercritical runs: the condensate, and clean stops (dt collapse, density bound, NaN).

mod common;
use common::*;
use fpgen::forward::StopReason;
use fpgen::model::equilibrium;
use fpgen::model::ModelParams;

fn supercritical_1d(extra: &[&str]) -> fpgen::config::Config {
    let p = ModelParams::bose(1.0, 1.0, 3.0, 1.0);
    let mc = equilibrium::critical_mass(&p, 1, Some(6.0)).unwrap();
    let mass = format!("initial.mass={}", 2.0 * mc);
    let mut o = vec!["model.gamma=3.0", "grid.half_width=6.0", "grid.cells=121", mass.as_str()];
    o.extend_from_slice(extra);
    config(1, &o)
}

/// Above M_c the excess mass M − M_c(box) collects in the origin cell. With the
/// gradient-flow scheme the discrete steady state is f_θ(x_i) with θ → 0 (the origin
/// cell then holds the excess), so after relaxation the origin-cell mass must be
/// M − Σ_{i≠0} f_0(x_i) h, which equals M − M_c,box up to the O(h^{1−2/γ}) quadrature
/// error of the singular profile near 0 (here 7.85 vs 5.87: h^{1/3} converges slowly).
#[test]
fn excess_mass_condenses_in_the_origin_cell() {
    let cfg = supercritical_1d(&["scheme.kind=\"gradient-flow\""]);
    let grid = cfg.grid().unwrap();
    let p = cfg.model_params();
    let mut b = loaded(&cfg);
    let out = b.step_n(u64::MAX, &control(&cfg, 15.0)).unwrap();
    assert!(out.stop.is_none(), "{:?}", out.stop);
    let d = b.diagnostics().unwrap();
    let h = grid.h();
    let origin = grid.origin_cells()[0];
    let off_origin: f64 = (0..grid.len())
        .filter(|&i| i != origin)
        .map(|i| equilibrium::profile(&p, 0.0, grid.radius_squared(i)))
        .sum::<f64>()
        * h;
    let expected = cfg.initial.mass - off_origin;
    let mc_box = equilibrium::critical_mass(&p, 1, Some(6.0)).unwrap();
    eprintln!(
        "origin mass {} expected {expected} (M - M_c,box = {})",
        d.origin_mass,
        cfg.initial.mass - mc_box
    );
    assert!((d.origin_mass - expected).abs() < 1e-4 * expected, "{} vs {expected}", d.origin_mass);
}

#[test]
fn density_bound_stops_with_condensation() {
    let cfg = supercritical_1d(&[]);
    let mut b = loaded(&cfg);
    let mut ctl = control(&cfg, 10.0);
    ctl.max_density = 50.0;
    let out = b.step_n(u64::MAX, &ctl).unwrap();
    match out.stop {
        Some(StopReason::DensityBound { max_density, bound }) => {
            assert!(max_density > bound && bound == 50.0)
        }
        other => panic!("expected a density-bound stop, got {other:?}"),
    }
    assert!(b.time() < 10.0);
}

/// A flat supercritical density (γ = 3, 1D) gathering towards the origin: f grows where
/// the drift is strong, so the explicit bound shrinks (to about 1/40 of its initial value).
fn gathering_1d() -> fpgen::config::Config {
    let text = r#"
[model]
dim = 1
gamma = 3.0
[grid]
half_width = 6.0
cells = 121
[initial]
kind = "uniform-box"
mass = 11.7
lower = -5.0
upper = 5.0
[run]
t_final = 10.0
"#;
    fpgen::config::Config::from_toml_str(text, "gathering", &[]).unwrap()
}

#[test]
fn dt_collapse_stops_with_condensation() {
    let cfg = gathering_1d();
    let mut b = loaded(&cfg);
    let bound0 = b.dt_bound();
    let mut ctl = control(&cfg, 10.0);
    ctl.dt_bound_floor = 0.5 * bound0;
    let out = b.step_n(u64::MAX, &ctl).unwrap();
    match out.stop {
        Some(StopReason::DtCollapse { dt_bound, floor }) => assert!(dt_bound < floor),
        other => panic!("expected a dt-collapse stop, got {other:?}"),
    }
    assert!(b.dt_bound() < 0.5 * bound0);
}

#[test]
fn nan_in_the_field_stops_the_run() {
    let cfg = config(1, &[]);
    let mut b = loaded(&cfg);
    let mut f = field(b.as_mut(), 41);
    f[20] = f64::NAN;
    b.upload(&f, 0.0).unwrap();
    let out = b.step_n(10, &control(&cfg, 1.0)).unwrap();
    assert_eq!(out.stop, Some(StopReason::NonFinite));
    // the step whose result is not finite is not taken: t and the field stay as they were
    assert_eq!((out.steps, b.time()), (0, 0.0));
    let after = field(b.as_mut(), 41);
    assert!(after.iter().zip(&f).all(|(a, e)| a.to_bits() == e.to_bits()));
}

#[test]
fn fixed_dt_above_the_bound_is_refused_during_the_run() {
    let cfg = gathering_1d();
    let mut b = loaded(&cfg);
    let dt = 0.99 * b.dt_bound();
    let ctl = control(&cfg, 10.0);
    b.set_dt_policy(fpgen::forward::DtPolicy::Fixed(dt)).unwrap();
    let out = b.step_n(u64::MAX, &ctl).unwrap();
    assert!(matches!(out.stop, Some(StopReason::FixedDtUnstable { .. })), "{:?}", out.stop);
}

/// SSP-RK2 keeps the last finite state also when only its second stage overflows: its blend
/// ½ (f + f₂) overflows in f + f₂ for a spike near f64::MAX that both stages keep finite. Over
/// a sweep of spike heights, every non-finite step leaves t and the field as they were, and
/// at least one height is a case where the first stage (which is the Euler step) was finite.
#[test]
fn a_nan_in_the_second_rk2_stage_keeps_the_last_finite_state() {
    let linear = ["model.beta=0.0", "model.gamma=0.5", "model.lambda=0.1", "model.diffusion=0.01"];
    let euler = config(1, &linear);
    let rk2 = config(1, &[linear[0], linear[1], linear[2], linear[3], "scheme.integrator=\"ssp-rk2\""]);
    let mut second_stage_cases = 0;
    for k in 0..450 {
        let mut f = vec![0.0; 41];
        f[30] = 10f64.powf(307.0 + 0.003 * k as f64);
        let mut e = loaded(&euler);
        e.upload(&f, 0.0).unwrap();
        let first_stage_finite = e.step_n(1, &control(&euler, 1.0)).unwrap().stop.is_none();
        let mut b = loaded(&rk2);
        b.upload(&f, 0.0).unwrap();
        let out = b.step_n(1, &control(&rk2, 1.0)).unwrap();
        if out.stop == Some(StopReason::NonFinite) {
            assert_eq!((out.steps, b.time()), (0, 0.0), "spike {:e}", f[30]);
            let after = field(b.as_mut(), 41);
            assert!(after.iter().zip(&f).all(|(a, e)| a.to_bits() == e.to_bits()), "spike {:e}", f[30]);
            second_stage_cases += usize::from(first_stage_finite);
        }
    }
    assert!(second_stage_cases > 0, "no spike overflowed in the second stage only");
}
