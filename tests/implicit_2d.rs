//! Condensation through the implicit steps in 2D, BDF2's order, the error control, and
//! the threshold-free verdict in every run's summary (docs/MATH.md §2e–§2g).

mod common;

use std::path::Path;
use std::process::Command;

use fpgen::config::{Config, Integrator};
use fpgen::forward::{self, DtPolicy, ForwardStepper, Problem};
use fpgen::gpu::Device;

fn repo_config(name: &str, overrides: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::load(&path, &o).unwrap()
}

fn backend(cfg: &Config) -> Box<dyn ForwardStepper> {
    let problem = Problem::from_config(cfg).unwrap();
    let mut b = forward::create(&problem, &Device::Cpu).unwrap();
    b.upload(&problem.initial, 0.0).unwrap();
    b
}

fn field(b: &mut dyn ForwardStepper, len: usize) -> Vec<f64> {
    let mut f = vec![0.0; len];
    b.read_back(&mut f).unwrap();
    f
}

/// configs/blowup_2d.toml (γ = 2, 1.5 M_c) at N = 65, both implicit integrators, to
/// t = 100: the mass to 1e-12, f > 0, and the origin cell holds the discrete steady
/// state's mass to 1e-6 (the scheme keeps f_θ(x_i) exactly).
#[test]
fn two_d_runs_go_through_condensation_to_the_discrete_steady_state() {
    for integrator in ["backward-euler", "bdf2"] {
        let set = format!("scheme.integrator=\"{integrator}\"");
        let cfg = repo_config("blowup_2d.toml", &["grid.cells=65", &set]);
        let mut b = backend(&cfg);
        let m0 = b.diagnostics().unwrap().mass;
        let steps = common::run_to(b.as_mut(), 100.0);
        let d = b.diagnostics().unwrap();
        let drift = ((d.mass - m0) / m0).abs();
        assert!(drift <= 1e-12, "{integrator}: mass drift {drift:e}");
        assert!(d.min > 0.0, "{integrator}: min {}", d.min);
        let predicted = common::steady_origin_mass(&cfg);
        let rel = (d.origin_mass - predicted).abs() / predicted;
        eprintln!(
            "{integrator}: {steps} steps, origin-cell mass {} vs {predicted} (rel {rel:.1e})",
            d.origin_mass
        );
        assert!(rel <= 1e-6, "{integrator}: origin-cell mass off by {rel:e}");
    }
}

/// The observed orders from runs at fixed Δt, Δt/2, Δt/4, Δt/8 (self-convergence:
/// log2 of the ratio of successive differences), and the finest run's distance to the
/// explicit scheme at its own small step (the same fluxes: the twin of the step).
fn orders_in_dt(cfg: &Config, t: f64, dt: f64) -> (Vec<f64>, f64) {
    let n = cfg.grid().unwrap().len();
    let runs: Vec<Vec<f64>> = (0..4)
        .map(|k| {
            let mut b = backend(cfg);
            b.set_dt_policy(DtPolicy::Fixed(dt / f64::from(1 << k))).unwrap();
            common::run_to(b.as_mut(), t);
            field(b.as_mut(), n)
        })
        .collect();
    let differences: Vec<f64> = runs.windows(2).map(|w| common::rel_l1(&w[0], &w[1])).collect();
    let orders: Vec<f64> = differences.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    let mut reference_cfg = cfg.clone();
    reference_cfg.scheme.integrator = Integrator::SspRk2;
    let mut reference = backend(&reference_cfg);
    // at a step where its own O(Δt²) error is far below BDF2's
    reference.set_dt_policy(DtPolicy::Fixed(dt / 64.0)).unwrap();
    common::run_to(reference.as_mut(), t);
    let twin = common::rel_l1(&runs[3], &field(reference.as_mut(), n));
    eprintln!("differences {differences:?}, orders {orders:?}, against the explicit scheme {twin:e}");
    (orders, twin)
}

/// BDF2 is second order in Δt, in 1D and in 2D (its first step is backward Euler: one
/// O(Δt²) error, which keeps the global order 2), and converges to the explicit scheme's
/// solution at 64 times finer steps: at the finest Δt, BDF2's time error is about the
/// last difference/3 (≤ 4e-5 here), so they agree to 1e-4.
#[test]
fn bdf2_is_second_order_in_time() {
    let one = repo_config(
        "blowup_1d.toml",
        &["grid.cells=101", "initial.mass_ratio=0.5", "scheme.integrator=\"bdf2\""],
    );
    let (orders, twin) = orders_in_dt(&one, 0.2, 0.008);
    assert!(orders.iter().all(|p| (1.8..2.2).contains(p)) && twin < 1e-4, "1D: {orders:?}, {twin:e}");
    let two = repo_config("blowup_2d.toml", &["grid.cells=33", "initial.mass_ratio=0.5"]);
    let (orders, twin) = orders_in_dt(&two, 0.05, 0.005);
    assert!(orders.iter().all(|p| (1.8..2.2).contains(p)) && twin < 1e-4, "2D: {orders:?}, {twin:e}");
}

/// The error control: the global error against a run at a far tighter tolerance falls
/// with scheme.time_tolerance, by at least the factor a per-step control gives for BDF2
/// (10^(2/3) ≈ 4.6 a decade; asked: 3), and stays below (steps × tolerance), what the
/// local errors add up to at most on this contracting problem.
#[test]
fn the_global_error_follows_the_tolerance() {
    let t = 1.0;
    let run = |tol: f64| {
        let set = format!("scheme.time_tolerance={tol}");
        let cfg = repo_config("blowup_1d.toml", &["grid.cells=201", "scheme.integrator=\"bdf2\"", &set]);
        let n = cfg.grid().unwrap().len();
        let mut b = backend(&cfg);
        let steps = common::run_to(b.as_mut(), t);
        (field(b.as_mut(), n), steps)
    };
    let (exact, _) = run(1e-8);
    let results: Vec<(f64, f64, u64)> = [1e-3, 1e-4, 1e-5]
        .iter()
        .map(|&tol| {
            let (f, steps) = run(tol);
            (tol, common::rel_l1(&f, &exact), steps)
        })
        .collect();
    eprintln!("(tolerance, error, steps): {results:?}");
    for w in results.windows(2) {
        assert!(w[0].1 / w[1].1 >= 3.0, "{results:?}");
    }
    assert!(results.iter().all(|&(tol, err, steps)| err <= steps as f64 * tol), "{results:?}");
}

fn fpgen(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(args)
        .args(["--quiet", "--out", dir.path().to_str().unwrap(), "--set", "name=\"x\""])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(dir.path().join("x/summary.json")).unwrap()).unwrap()
}

/// The case: explicit steps (1D, γ = 3, 2 M_c, f0 = M·N(0, 1), N = 301) with a
/// density threshold the run never reaches. It still condenses, at the same time whatever
/// that threshold, and the condensate tends to M − M_c(box) less the discrete profile's
/// origin share.
#[test]
fn status_and_condensation_time_do_not_depend_on_a_density_threshold() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/blowup_1d.toml");
    let summaries: Vec<serde_json::Value> = ["1e4", "1e6"]
        .iter()
        .map(|bound| {
            let stop = format!("stop.max_density={bound}");
            fpgen(&[
                "run",
                config.to_str().unwrap(),
                "--set",
                "scheme.integrator=\"euler\"",
                "--set",
                "run.t_final=2.0",
                "--set",
                "run.output_times=[1.0]",
                "--set",
                &stop,
            ])
        })
        .collect();
    for s in &summaries {
        assert_eq!(s["status"], "condensed", "{s}");
        assert!(s["stop"].is_null(), "{s}");
    }
    let times: Vec<f64> = summaries.iter().map(|s| s["condensation_time"].as_f64().unwrap()).collect();
    assert_eq!(times[0], times[1]);
    assert!(times[0] > 0.0 && times[0] < 1.0, "{times:?}");
    let s = &summaries[0];
    let condensate = s["condensate_mass"].as_f64().unwrap();
    let origin = s["origin_cell_mass"].as_f64().unwrap();
    let regular = s["regular_origin_mass"].as_f64().unwrap();
    assert!((origin - regular - condensate).abs() <= 1e-12 * origin);
    assert!(condensate > 0.0 && regular > 0.0, "{s}");
}

/// A subcritical run never condenses: `completed`, no condensation time, and a negative
/// condensate (its origin cell stays below the critical profile's share).
#[test]
fn a_subcritical_run_completes_without_condensing() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/blowup_1d.toml");
    let s = fpgen(&[
        "run",
        config.to_str().unwrap(),
        "--set",
        "initial.mass_ratio=0.7",
        "--set",
        "run.t_final=20.0",
        "--set",
        "run.output_times=[1.0]",
    ]);
    assert_eq!(s["status"], "completed", "{s}");
    assert!(s["condensation_time"].is_null(), "{s}");
    assert!(s["condensate_mass"].as_f64().unwrap() < 0.0, "{s}");
}

/// The profile exponent in every summary: ≈ 0 for the Gaussian at t = 0; at t = 100 the
/// regular part is the critical profile (the condensate holds M − M_c), so −2/γ = −2/3 up
/// to the fit window's 1.6 % curvature bias (asked: 3 %; docs/MATH.md §2f).
#[test]
fn the_profile_exponent_reaches_minus_two_over_gamma() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/blowup_1d.toml");
    let s = fpgen(&["run", config.to_str().unwrap(), "--set", "grid.cells=1201"]);
    let exponents: Vec<f64> =
        s["profile_exponents"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).collect();
    let (first, last) = (exponents[0], exponents[exponents.len() - 1]);
    assert!(first.abs() < 0.15, "{exponents:?}");
    assert!((last + 2.0 / 3.0).abs() <= 0.03 * 2.0 / 3.0, "{exponents:?}");
}
