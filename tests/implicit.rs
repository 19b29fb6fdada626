//! Backward Euler on the gradient-flow scheme (1D): through condensation to t = 100 with the
//! mass kept to 1e-12 and the origin-cell mass of the discrete steady state reached; the
//! discrete steady states kept exactly; first order in Δt against the explicit scheme;
//! positivity; the config keys it needs are named.

mod common;

use fpgen::config::Config;
use fpgen::forward::{self, DtPolicy, ForwardStepper, Problem};
use fpgen::gpu::Device;
use fpgen::model::equilibrium;

/// 1D, γ = 3 (M_c = 5.8721 on ℝ), two Gaussians: the supercritical config of the repo.
fn supercritical(cells: usize, mass_ratio: f64) -> Config {
    let text = format!(
        r#"
name = "implicit"
[model]
dim = 1
gamma = 3.0
[grid]
half_width = 8.0
cells = {cells}
[initial]
kind = "gaussian-mixture"
mass_ratio = {mass_ratio}
centres = [-2.5, 2.0]
std_devs = [0.6, 0.4]
[scheme]
kind = "gradient-flow"
integrator = "backward-euler"
[run]
t_final = 100.0
"#
    );
    Config::from_toml_str(&text, "test", &[]).unwrap()
}

fn backend(cfg: &Config) -> (Box<dyn ForwardStepper>, Vec<f64>) {
    let problem = Problem::from_config(cfg).unwrap();
    let mut b = forward::create(&problem, &Device::Cpu).unwrap();
    b.upload(&problem.initial, 0.0).unwrap();
    (b, problem.initial.clone())
}

/// Through condensation to t = 100 (2 M_c): the mass to 1e-12, f > 0 everywhere, and the
/// origin cell holds the mass of the discrete steady state f_θ(x_i) of that mass (the
/// scheme keeps it exactly) to 1e-6, at N = 301 and 1201, in a few hundred steps.
#[test]
fn supercritical_runs_reach_the_discrete_steady_state_at_t_100() {
    for cells in [301, 1201] {
        let cfg = supercritical(cells, 2.0);
        let (mut b, _) = backend(&cfg);
        let m0 = b.diagnostics().unwrap().mass;
        let steps = common::run_to(b.as_mut(), 100.0);
        let d = b.diagnostics().unwrap();
        assert!(((d.mass - m0) / m0).abs() <= 1e-12, "N = {cells}: mass {m0} -> {}", d.mass);
        assert!(d.min > 0.0, "N = {cells}: min {}", d.min);
        let predicted = common::steady_origin_mass(&cfg);
        let rel = (d.origin_mass - predicted).abs() / predicted;
        eprintln!(
            "N = {cells}: {steps} steps, origin-cell mass {:.10} vs {predicted:.10} (rel {rel:.1e})",
            d.origin_mass
        );
        assert!(rel <= 1e-6, "N = {cells}: origin-cell mass off by {rel:e}");
        assert!(steps < 2000, "N = {cells}: {steps} steps");
    }
}

/// A discrete steady state f_θ(x_i) is a fixed point of the implicit step: a subcritical
/// one stays put to round-off over long steps.
#[test]
fn discrete_steady_states_are_kept() {
    let cfg = supercritical(201, 0.6);
    let grid = cfg.grid().unwrap();
    let (_, steady) = equilibrium::grid_profile(&cfg.model_params(), &grid, cfg.initial.mass);
    let (mut b, _) = backend(&cfg);
    b.upload(&steady, 0.0).unwrap();
    b.set_dt_policy(DtPolicy::Fixed(5.0)).unwrap();
    common::run_to(b.as_mut(), 50.0);
    let mut f = vec![0.0; grid.len()];
    b.read_back(&mut f).unwrap();
    let top = steady.iter().fold(0.0f64, |m, v| m.max(*v));
    let change = f.iter().zip(&steady).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / top;
    assert!(change < 1e-12, "the steady state moved by {change:e}");
}

/// First order in Δt: against the explicit gradient-flow scheme at its own small step (the
/// same space discretisation), the error halves with Δt.
#[test]
fn backward_euler_is_first_order_in_time() {
    let cfg = supercritical(101, 0.5);
    let t = 0.2;
    let mut reference_cfg = cfg.clone();
    reference_cfg.scheme.integrator = fpgen::config::Integrator::SspRk2;
    let (mut reference, _) = backend(&reference_cfg);
    common::run_to(reference.as_mut(), t);
    let n = cfg.grid().unwrap().len();
    let mut exact = vec![0.0; n];
    reference.read_back(&mut exact).unwrap();
    let errors: Vec<f64> = [0.004, 0.002, 0.001]
        .iter()
        .map(|&dt| {
            let (mut b, _) = backend(&cfg);
            b.set_dt_policy(DtPolicy::Fixed(dt)).unwrap();
            common::run_to(b.as_mut(), t);
            let mut f = vec![0.0; n];
            b.read_back(&mut f).unwrap();
            f.iter().zip(&exact).map(|(a, e)| (a - e).abs()).sum::<f64>() / exact.iter().sum::<f64>()
        })
        .collect();
    let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    eprintln!("relative L1 errors {errors:?}, orders {orders:?}");
    assert!(orders.iter().all(|p| (0.9..1.1).contains(p)), "orders {orders:?}");
}

#[test]
fn the_keys_it_needs_are_named() {
    let base = supercritical(101, 0.5).to_toml_string();
    for (set, needs) in [("scheme.kind=\"upwind\"", "gradient-flow"), ("run.precision=\"f32\"", "f64")] {
        let e = Config::from_toml_str(&base, "x", &[set.to_string()]).unwrap_err().to_string();
        assert!(e.contains("`scheme.integrator`") && e.contains(needs), "{set}: {e}");
    }
    let _ = common::control;
}

/// `configs/blowup_1d.toml` (the issue's run: M = 2 M_c, f0 = M·N(0, 1), L = 6, N = 301)
/// goes to t = 100 in under 100 steps and ends on the discrete steady state.
#[test]
fn the_blowup_config_runs_to_t_100() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/blowup_1d.toml");
    let cfg = Config::load(&path, &[]).unwrap();
    let (mut b, _) = backend(&cfg);
    let m0 = b.diagnostics().unwrap().mass;
    let steps = common::run_to(b.as_mut(), cfg.run.t_final);
    let d = b.diagnostics().unwrap();
    assert!(steps < 100, "{steps} steps");
    assert!(((d.mass - m0) / m0).abs() <= 1e-12);
    let predicted = common::steady_origin_mass(&cfg);
    assert!((d.origin_mass - predicted).abs() <= 1e-6 * predicted, "{} vs {predicted}", d.origin_mass);
}
