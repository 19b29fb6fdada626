//! `fpgen verify`: the same config on the GPU (f32), the CPU (f32) and the CPU (f64);
//! differences of the final density and of the diagnostics at every output time,
//! against printed tolerances. The cross-check users run on a new GPU.

use serde::Serialize;

use super::simulation::{EndReason, ForwardRun, Moment, Observer, Schedule, Simulation};
use crate::config::{Config, Precision};
use crate::error::{Error, Result};
use crate::forward::{self, Diagnostics, ForwardStepper, Problem, StepControl};
use crate::gpu::{Device, DeviceChoice, DeviceNeeds};

/// Tolerances (relative to the CPU reference of the pair), scaled by `--tol-scale`.
/// GPU vs CPU in f32: the same arithmetic in another order, so differences are f32
/// round-off (measured 2e-7 relative L1 after 1000 steps on lavapipe). f32 vs f64:
/// accumulated f32 rounding of every step, allowed ten times more.
pub const GPU_VS_CPU_F32: Tolerances = Tolerances { rel_l1: 1e-5, rel_linf: 1e-4, diagnostics: 1e-5 };
pub const F32_VS_F64: Tolerances = Tolerances { rel_l1: 1e-4, rel_linf: 1e-3, diagnostics: 1e-4 };

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Tolerances {
    pub rel_l1: f64,
    pub rel_linf: f64,
    /// Largest relative difference of any diagnostic at any output time.
    pub diagnostics: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub pair: String,
    pub max_abs: f64,
    pub rel_l1: f64,
    pub rel_linf: f64,
    pub diagnostics: f64,
    pub worst_diagnostic: String,
    pub tolerances: Tolerances,
    pub pass: bool,
}

/// A run without outputs: diagnostics at every output time and the final field.
struct Trace {
    times: Vec<Diagnostics>,
    field: Vec<f64>,
    steps: u64,
}

/// The diagnostics at every output time.
struct AtOutputTimes {
    times: Vec<f64>,
    seen: Vec<Diagnostics>,
}

impl<'a> Observer<ForwardRun<'a>> for AtOutputTimes {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::AtTimes(self.times.clone())]
    }

    fn on_time(&mut self, _: &Moment, s: &mut ForwardRun<'a>) -> Result<()> {
        self.seen.push(s.backend.diagnostics()?);
        Ok(())
    }
}

fn evolve(problem: &Problem, backend: &mut dyn ForwardStepper) -> Result<Trace> {
    backend.upload(&problem.initial, 0.0)?;
    let bound0 = backend.dt_bound();
    let control = StepControl {
        t_stop: problem.t_final,
        dt_bound_floor: problem.stop.dt_collapse_fraction * bound0,
        max_density: problem.stop.max_density,
    };
    let mut tracer = AtOutputTimes { times: problem.output_times.clone(), seen: Vec::new() };
    let simulation = Simulation {
        t_final: problem.t_final,
        max_steps: problem.max_steps,
        wall_time_limit: None,
        stall: problem.stall,
        first_step: 0,
    };
    let mut stepper = ForwardRun { backend, control };
    let end = simulation.run(&mut stepper, &mut [&mut tracer])?;
    match end.reason {
        EndReason::Completed => {}
        EndReason::Stopped(stop) => {
            return Err(Error::Numerics(format!(
                "verify needs a run that reaches t_final: {}",
                stop.message()
            )))
        }
        other => return Err(Error::Numerics(format!("verify needs a run that reaches t_final: {other:?}"))),
    }
    let mut field = vec![0.0; problem.grid().len()];
    stepper.backend.read_back(&mut field)?;
    Ok(Trace { times: tracer.seen, field, steps: end.steps })
}

fn compare(pair: &str, test: &Trace, reference: &Trace, tol: Tolerances, scale: f64) -> Comparison {
    let diff: Vec<f64> = test.field.iter().zip(&reference.field).map(|(a, b)| (a - b).abs()).collect();
    let max_abs = diff.iter().copied().fold(0.0, f64::max);
    let l1_ref: f64 = reference.field.iter().map(|v| v.abs()).sum();
    let linf_ref = reference.field.iter().map(|v| v.abs()).fold(0.0, f64::max);
    let rel_l1 = diff.iter().sum::<f64>() / l1_ref;
    let rel_linf = max_abs / linf_ref;
    let mut worst = (0.0, String::new());
    for (a, b) in test.times.iter().zip(&reference.times) {
        let named = [
            ("mass", a.mass, b.mass),
            ("max", a.max, b.max),
            ("l2", a.l2, b.l2),
            ("entropy", a.entropy, b.entropy),
            ("second_moment", a.second_moment, b.second_moment),
            ("origin_mass", a.origin_mass, b.origin_mass),
        ];
        for (name, x, y) in named {
            let rel = (x - y).abs() / y.abs().max(1e-30);
            if rel > worst.0 || rel.is_nan() {
                worst = (rel, format!("{name} at t = {:.6e}", b.t));
            }
        }
    }
    let tolerances = Tolerances {
        rel_l1: tol.rel_l1 * scale,
        rel_linf: tol.rel_linf * scale,
        diagnostics: tol.diagnostics * scale,
    };
    let pass =
        rel_l1 <= tolerances.rel_l1 && rel_linf <= tolerances.rel_linf && worst.0 <= tolerances.diagnostics;
    Comparison {
        pair: pair.to_string(),
        max_abs,
        rel_l1,
        rel_linf,
        diagnostics: worst.0,
        worst_diagnostic: worst.1,
        tolerances,
        pass,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub device: String,
    pub steps: [u64; 3],
    pub comparisons: Vec<Comparison>,
    pub pass: bool,
}

/// Run `config` on GPU f32, CPU f32 and CPU f64 and compare (tolerances × `tol_scale`).
pub fn verify(config: &Config, tol_scale: f64) -> Result<Report> {
    let with = |p: Precision| {
        let mut c = config.clone();
        c.run.precision = p;
        c
    };
    let (p32, p64) =
        (Problem::from_config(&with(Precision::F32))?, Problem::from_config(&with(Precision::F64))?);
    let grid = p32.grid();
    let mut gpu = forward::create(&p32, &Device::resolve(DeviceChoice::Gpu, DeviceNeeds::for_grid(grid))?)?;
    let device = gpu.info().device;
    let g = evolve(&p32, gpu.as_mut())?;
    let c = evolve(&p32, forward::create(&p32, &Device::Cpu)?.as_mut())?;
    let d = evolve(&p64, forward::create(&p64, &Device::Cpu)?.as_mut())?;
    let comparisons = vec![
        compare("gpu-f32 vs cpu-f32", &g, &c, GPU_VS_CPU_F32, tol_scale),
        compare("cpu-f32 vs cpu-f64", &c, &d, F32_VS_F64, tol_scale),
        compare("gpu-f32 vs cpu-f64", &g, &d, F32_VS_F64, tol_scale),
    ];
    let pass = comparisons.iter().all(|c| c.pass);
    Ok(Report { device, steps: [g.steps, c.steps, d.steps], comparisons, pass })
}
