//! The three reverse phases of `generate` and `filter` on the one `Simulation` loop, so
//! that its interrupt (first signal at a step boundary, second exits), progress and limits
//! apply to them as to every other pipeline: retracing the stored forward steps (exact and
//! scheme modes), the log-score PDE over the stored intervals, and the reverse particles.
//! Reverse time s = T − t runs from 0 to T.

use super::simulation::{run_phase, Advance, Moment, Observer, Schedule};
use crate::error::{Error, Result};
use crate::forward::cpu::Discretisation;
use crate::forward::StepOutcome;
use crate::gpu::{Device, GpuContext};
use crate::reverse::consistent::SchemeReverse;
use crate::reverse::gpu_pde::GpuReversePde;
use crate::reverse::particles::{ReverseParticleSettings, ReverseParticles, ReverseStepper};
use crate::reverse::pde::ReversePde;
use crate::reverse::store::SnapshotStore;

use super::generation::{interrupted, ReverseSettings};

/// `progress(phase, s / T)` every `every` loop steps (each also an interrupt check).
struct PhaseProgress<'p> {
    phase: &'static str,
    t_final: f64,
    every: u64,
    progress: &'p mut dyn FnMut(&str, f64),
}

impl<S: ?Sized> Observer<S> for PhaseProgress<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(self.every)]
    }

    fn on_steps(&mut self, at: &Moment, _: &mut S) -> Result<()> {
        (self.progress)(self.phase, at.t / self.t_final);
        Ok(())
    }
}

/// Run `stepper` from s = 0 to T with a progress observer; an interrupt becomes
/// `interrupted(what, t)` at the forward time t = T − s it reached.
fn on_the_loop<S: Advance>(
    stepper: &mut S,
    t_final: f64,
    phase: &'static str,
    every: u64,
    progress: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    let mut bar = PhaseProgress { phase, t_final, every, progress };
    run_phase(stepper, t_final, &mut [&mut bar], |s| interrupted(&format!("the {phase} run"), t_final - s))
}

/// Undoing the forward steps one by one, last first: step n (t_n → t_{n+1}, Δt_n) is
/// reversed with the fluxes of f^n and the divisor f^{n+1}, then smoothed towards f^n.
struct Retrace<'a> {
    op: SchemeReverse,
    store: &'a SnapshotStore,
    times: &'a [f64],
    dts: &'a [f64],
    g: &'a mut Vec<f64>,
    next: Vec<f64>,
    after: Vec<f64>,
    before: Vec<f64>,
    /// Steps still to reverse (the next one is `left − 1`).
    left: usize,
    t_final: f64,
    at: &'a mut dyn FnMut(f64, &[f64]) -> Result<()>,
}

impl Advance for Retrace<'_> {
    fn time(&self) -> f64 {
        self.t_final - self.times[self.left]
    }

    fn advance(&mut self, max_steps: u64, s_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && self.left > 0 && self.time() < s_stop {
            let n = self.left - 1;
            self.store.interpolate(self.times[n], &mut self.before)?;
            self.op.set_transport(&self.before, &self.after);
            self.op.transport(self.g, self.dts[n], &mut self.next);
            self.op.smooth(&self.before, self.dts[n], &mut self.next);
            std::mem::swap(self.g, &mut self.next);
            std::mem::swap(&mut self.before, &mut self.after);
            (self.at)(self.times[n], self.g)?;
            self.left = n;
            out.steps += 1;
            out.dt_last = self.dts[n];
        }
        Ok(out)
    }
}

/// Undo the forward steps (`times`, `dts`) from g = the start state. With every step stored
/// this is the exact mode; otherwise f^n is interpolated between checkpoints. `at(t_n, g)`
/// sees g after each step. Returns the steps taken.
#[allow(clippy::too_many_arguments)]
pub fn retrace_forward_steps(
    disc: &Discretisation,
    eta: f64,
    store: &SnapshotStore,
    times: &[f64],
    dts: &[f64],
    g: &mut Vec<f64>,
    progress: &mut dyn FnMut(&str, f64),
    at: &mut dyn FnMut(f64, &[f64]) -> Result<()>,
) -> Result<u64> {
    let len = g.len();
    let mut after = vec![0.0; len];
    store.interpolate(times[dts.len()], &mut after)?;
    let t_final = times[dts.len()];
    let mut retrace = Retrace {
        op: SchemeReverse::new(disc, eta),
        store,
        times,
        dts,
        g,
        next: vec![0.0; len],
        after,
        before: vec![0.0; len],
        left: dts.len(),
        t_final,
        at,
    };
    on_the_loop(&mut retrace, t_final, "reverse", 64, progress)?;
    Ok(dts.len() as u64)
}

/// (R_η) with log-difference face scores over the stored intervals, last first: over each,
/// the velocities are frozen at f of its midpoint and the interval is split into equal
/// steps under safety × the positivity bound. On the device the steps of an interval go
/// in one submission; the bound comes from the host twin, which holds the same f.
struct LogScore<'a> {
    pde: ReversePde,
    gpu: Option<(&'a GpuContext, GpuReversePde)>,
    store: &'a SnapshotStore,
    times: Vec<f64>,
    safety: f64,
    g: &'a mut Vec<f64>,
    field: Vec<f64>,
    next: Vec<f64>,
    /// Intervals still to integrate (the next one is [times[left − 1], times[left]]).
    left: usize,
    pde_steps: u64,
    recorded: &'a [f64],
    at: &'a mut dyn FnMut(f64, &[f64]) -> Result<()>,
}

impl Advance for LogScore<'_> {
    fn time(&self) -> f64 {
        self.times[self.times.len() - 1] - self.times[self.left]
    }

    fn advance(&mut self, max_steps: u64, s_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && self.left > 0 && self.time() < s_stop {
            let (a, b) = (self.times[self.left - 1], self.times[self.left]);
            self.store.interpolate(0.5 * (a + b), &mut self.field)?;
            self.pde.set_forward(&self.field);
            let count = ((b - a) / (self.safety * self.pde.bound())).ceil().max(1.0);
            if count > u32::MAX as f64 {
                return Err(Error::Numerics(format!(
                    "the reverse step bound collapsed on [{a}, {b}] ({count:e} steps)"
                )));
            }
            let (count, dt) = (count as u32, (b - a) / count);
            match &mut self.gpu {
                Some((ctx, op)) => {
                    op.set_forward(ctx, &to_f32(&self.field));
                    op.step_n(ctx, count, dt);
                    if self.recorded.contains(&a) {
                        read_g(ctx, op, self.g)?;
                    }
                }
                None => {
                    for _ in 0..count {
                        self.pde.step(self.g, dt, &mut self.next);
                        std::mem::swap(self.g, &mut self.next);
                    }
                }
            }
            self.pde_steps += count as u64;
            (self.at)(a, self.g)?;
            self.left -= 1;
            out.steps += 1;
            out.dt_last = dt;
        }
        Ok(out)
    }
}

/// Integrate (R_η) from g over s ∈ [0, T] on `device`; `at(t, g)` sees g at the start t of
/// each interval (read back from the device only at the `recorded` times). Returns the PDE
/// steps taken.
#[allow(clippy::too_many_arguments)]
pub fn reverse_log_score(
    disc: &Discretisation,
    settings: &ReverseSettings,
    store: &SnapshotStore,
    g: &mut Vec<f64>,
    device: &Device,
    progress: &mut dyn FnMut(&str, f64),
    recorded: &[f64],
    at: &mut dyn FnMut(f64, &[f64]) -> Result<()>,
) -> Result<u64> {
    let pde =
        ReversePde::new(&disc.grid, &disc.params, settings.eta, settings.log_floor).with_flux(settings.flux);
    let gpu = match device.gpu() {
        Some(ctx) => {
            let mut op = GpuReversePde::new(ctx, &disc.grid, &disc.params, settings.eta, settings.log_floor)?;
            op.set_flux(ctx, settings.flux);
            op.upload(ctx, &to_f32(g));
            Some((ctx.as_ref(), op))
        }
        None => None,
    };
    let times = store.times().to_vec();
    let t_final = times.last().copied().unwrap_or(0.0);
    let len = g.len();
    let left = times.len().saturating_sub(1);
    let mut run = LogScore {
        pde,
        gpu,
        store,
        times,
        safety: settings.safety,
        g,
        field: vec![0.0; len],
        next: vec![0.0; len],
        left,
        pde_steps: 0,
        recorded,
        at,
    };
    on_the_loop(&mut run, t_final, "reverse", 1, progress)?;
    if let Some((ctx, op)) = &run.gpu {
        read_g(ctx, op, run.g)?;
    }
    Ok(run.pde_steps)
}

fn read_g(ctx: &GpuContext, op: &GpuReversePde, g: &mut [f64]) -> Result<()> {
    let mut out = vec![0f32; g.len()];
    op.read_g(ctx, &mut out)?;
    g.iter_mut().zip(&out).for_each(|(a, &b)| *a = b as f64);
    Ok(())
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

struct ReverseParticleRun<'a, 'm> {
    particles: ReverseParticles<'a>,
    mover: &'m mut dyn ReverseStepper,
}

impl Advance for ReverseParticleRun<'_, '_> {
    fn time(&self) -> f64 {
        self.particles.time()
    }

    fn advance(&mut self, max_steps: u64, s_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && self.particles.time() < s_stop {
            out.dt_last = self.particles.step(s_stop, self.mover)?;
            out.steps += 1;
        }
        Ok(out)
    }
}

/// Move the reverse particles from s = 0 to T with `mover`; the number of steps. An
/// interrupt ends the run with `Error::Interrupted`.
pub fn reverse_particles(
    disc: &Discretisation,
    store: &SnapshotStore,
    t_final: f64,
    settings: &ReverseParticleSettings,
    mover: &mut dyn ReverseStepper,
    progress: &mut dyn FnMut(&str, f64),
) -> Result<u32> {
    let mut run =
        ReverseParticleRun { particles: ReverseParticles::new(disc, store, t_final, settings), mover };
    on_the_loop(&mut run, t_final, "reverse particles", 16, progress)?;
    Ok(run.particles.steps())
}
