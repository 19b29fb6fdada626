//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cli;

use fpgen::config::Config;
use fpgen::forward::{self, Diagnostics, ForwardStepper, Problem, StepControl};
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};

/// A small config: Gaussian mixture in the box [-L, L]^d, adaptive Δt.
pub fn config(dim: usize, overrides: &[&str]) -> Config {
    let centres = if dim == 1 { "[-1.5, 1.0]" } else { "[[-1.5, 0.0], [1.0, 0.5]]" };
    let text = format!(
        r#"
name = "test"
[model]
dim = {dim}
gamma = 2.0
[grid]
half_width = 5.0
cells = 41
[initial]
kind = "gaussian-mixture"
mass = 1.0
centres = {centres}
std_devs = [0.6, 0.4]
weights = [1.0, 2.0]
[run]
t_final = 1.0
"#
    );
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::from_toml_str(&text, "test", &o).expect("test config must be valid")
}

/// The backend of `cfg` loaded with its initial density at t = 0.
pub fn loaded(cfg: &Config) -> Box<dyn ForwardStepper> {
    let mut b = forward::create(&problem(cfg), &Device::Cpu).expect("backend");
    let grid = cfg.grid().expect("grid");
    let f0 = cfg.initial_density().expect("initial").on_grid(&grid, cfg.initial.mass).expect("f0");
    b.upload(&f0, 0.0).expect("upload");
    b
}

pub fn control(cfg: &Config, t_stop: f64) -> StepControl {
    let _ = cfg;
    StepControl { t_stop, dt_bound_floor: 0.0, max_density: f64::INFINITY }
}

/// Step one at a time until `t_stop` (or `max_steps`), collecting diagnostics after
/// every step (the first entry is the initial state).
pub fn history(b: &mut dyn ForwardStepper, ctl: &StepControl, max_steps: usize) -> Vec<Diagnostics> {
    let mut out = vec![b.diagnostics().expect("diagnostics")];
    for _ in 0..max_steps {
        let o = b.step_n(1, ctl).expect("step");
        assert!(o.stop.is_none(), "unexpected stop: {:?}", o.stop);
        if o.steps == 0 {
            break;
        }
        out.push(b.diagnostics().expect("diagnostics"));
    }
    out
}

pub fn field(b: &mut dyn ForwardStepper, len: usize) -> Vec<f64> {
    let mut f = vec![0.0; len];
    b.read_back(&mut f).expect("read back");
    f
}

/// Σ |a − b| h^d / Σ |b| h^d
pub fn rel_l1(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum();
    num / b.iter().map(|y| y.abs()).sum::<f64>()
}

/// Every (scheme, integrator) pair.
pub const SCHEMES: [(&str, &str); 4] =
    [("upwind", "euler"), ("upwind", "ssp-rk2"), ("gradient-flow", "euler"), ("gradient-flow", "ssp-rk2")];

/// `config` with the given scheme and integrator, plus more overrides.
pub fn scheme_config(dim: usize, scheme: &str, integrator: &str, extra: &[&str]) -> Config {
    let kind = format!("scheme.kind=\"{scheme}\"");
    let integ = format!("scheme.integrator=\"{integrator}\"");
    let mut o = vec![kind.as_str(), integ.as_str()];
    o.extend_from_slice(extra);
    config(dim, &o)
}

/// The GPU for `cfg`'s grid (GPU tests call this after `context_for_tests` found one).
pub fn gpu_device(cfg: &Config) -> Device {
    let grid = cfg.grid().expect("grid");
    let needs = DeviceNeeds { buffer_bytes: (grid.len() * 4) as u64, grid_dim: Some(grid.dim) };
    Device::resolve(DeviceChoice::Gpu, needs).expect("a GPU device")
}

/// The validated forward problem of `cfg`.
pub fn problem(cfg: &Config) -> Problem {
    Problem::from_config(cfg).expect("problem")
}

/// The base config of the sweep tests: 1D, γ = 3, a mass ratio set by each point.
pub const SWEEP_BASE_1D: &str = r#"
[model]
dim = 1
gamma = 3.0
[grid]
half_width = 6.0
cells = 101
[initial]
kind = "gaussian-mixture"
mass = 1.0
centres = [-1.5, 1.0]
std_devs = [0.6, 0.4]
[run]
t_final = 0.1
[output]
frames = false
"#;

/// Step `b` to `t` (no stop may intervene); the steps taken.
pub fn run_to(b: &mut dyn ForwardStepper, t: f64) -> u64 {
    let ctl = StepControl { t_stop: t, dt_bound_floor: 0.0, max_density: f64::INFINITY };
    let mut steps = 0;
    while b.time() < t {
        let out = b.step_n(1000, &ctl).expect("step");
        assert!(out.stop.is_none(), "stopped: {:?}", out.stop);
        steps += out.steps;
    }
    steps
}

/// The origin-cell mass of the discrete steady state f_θ(x_i) of the config's mass.
pub fn steady_origin_mass(cfg: &Config) -> f64 {
    let grid = cfg.grid().expect("grid");
    let (_, steady) = fpgen::model::equilibrium::grid_profile(&cfg.model_params(), &grid, cfg.initial.mass);
    grid.origin_cells().iter().map(|&i| steady[i]).sum::<f64>() * grid.cell_volume()
}
