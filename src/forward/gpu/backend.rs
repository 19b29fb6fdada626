//! `GpuBackend`: the `ForwardStepper` trait on the device, for both schemes (forward Euler or
//! SSP-RK2) in f32.
//! The field and Δt stay on the device; the host reads a few floats per batch of steps
//! (stop checks) and per diagnostics, and whole fields only at output times.

use std::sync::Arc;

use super::reduce::GpuReducer;
use super::render::GpuRenderer;
use super::{GpuContext, GpuStepper, StepState};
use crate::error::{Error, Result};
use crate::forward::cpu::Discretisation;
use crate::forward::{
    BackendInfo, Diagnostics, DtPolicy, ForwardStepper, StepControl, StepOutcome, StopReason,
};
use crate::gpu::context::PassTimer;
use crate::io::frames::FrameStyle;

/// Passes recorded per submission between two reads of the stepping state: a batch is
/// BATCH × steps_per_pass steps, and stop conditions are noticed at most that many steps
/// late. Each batch also copies the field aside (for the undo after NaN or an overstep),
/// which then costs 1/BATCH of a pass's traffic whatever the steps per pass.
pub const BATCH: u64 = 32;

pub struct GpuBackend {
    ctx: Arc<GpuContext>,
    stepper: GpuStepper,
    reducer: GpuReducer,
    /// Times passes on the device when the adapter has timestamp queries (benches).
    timer: Option<PassTimer>,
    /// Made at the first frame (its size comes from the style).
    renderer: Option<GpuRenderer>,
    disc: Discretisation,
    t: f64,
    t_stop: f64,
    host: Vec<f32>,
}

impl GpuBackend {
    pub fn new(ctx: Arc<GpuContext>, disc: &Discretisation) -> Result<Self> {
        let stepper = GpuStepper::new(&ctx, disc)?;
        let reducer = GpuReducer::new(&ctx, &disc.grid, &disc.params, stepper.fields().0)?;
        Ok(Self {
            stepper,
            reducer,
            timer: PassTimer::new(&ctx),
            renderer: None,
            disc: disc.clone(),
            t: 0.0,
            t_stop: f64::INFINITY,
            host: vec![0.0; disc.grid.len()],
            ctx,
        })
    }
}

impl GpuBackend {
    /// Take `steps` steps (no stop checks: a benchmark with a fixed Δt) in submissions of
    /// `BATCH` passes and return the device time of those passes from timestamp queries, or
    /// None when the adapter has none.
    pub fn step_timed(&mut self, steps: u64) -> Result<Option<f64>> {
        let Some(timer) = &self.timer else { return Ok(None) };
        let mut seconds = 0.0;
        let mut left = steps;
        let full = self.batch_steps();
        while left > 0 {
            let batch = left.min(full);
            self.stepper.step_n_timed(&self.ctx, batch as u32, true, Some(timer));
            seconds += timer.seconds(&self.ctx)?;
            left -= batch;
        }
        let state = self.stepper.read_state(&self.ctx)?;
        self.t = state.t();
        Ok(Some(seconds))
    }

    /// Retake up to `steps` steps one at a time from the kept state and stop before the first
    /// whose result is not finite; returns the stepping state there.
    fn replay_to_last_finite(&mut self, steps: u64, outcome: &mut StepOutcome) -> Result<StepState> {
        let mut state = self.stepper.read_state(&self.ctx)?;
        for _ in 0..steps {
            self.stepper.keep(&self.ctx);
            self.stepper.step_n(&self.ctx, 1, false);
            let next = self.stepper.read_state(&self.ctx)?;
            if next.nonfinite != 0 {
                self.stepper.restore_kept(&self.ctx);
                break;
            }
            let taken = (next.steps - state.steps) as u64;
            state = next;
            if taken == 0 {
                break;
            }
            outcome.steps += taken;
            outcome.dt_last = state.dt_last as f64;
        }
        Ok(state)
    }

    /// Steps per batch: `BATCH` passes.
    fn batch_steps(&self) -> u64 {
        BATCH * self.stepper.steps_per_pass() as u64
    }

    /// Steps taken since the last upload.
    pub fn steps_since_upload(&self) -> Result<u64> {
        Ok(self.stepper.read_state(&self.ctx)?.steps as u64)
    }
}

impl ForwardStepper for GpuBackend {
    fn info(&self) -> BackendInfo {
        let s = &self.ctx.summary;
        BackendInfo {
            backend: "gpu".into(),
            precision: "f32".into(),
            device: format!("{} ({}, driver {} {})", s.name, s.backend, s.driver, s.driver_info),
            threads: 0,
        }
    }

    fn upload(&mut self, field: &[f64], t: f64) -> Result<()> {
        if field.len() != self.host.len() {
            return Err(Error::Numerics(format!(
                "upload of {} values into {} cells",
                field.len(),
                self.host.len()
            )));
        }
        for (h, &v) in self.host.iter_mut().zip(field) {
            *h = v as f32;
        }
        self.stepper.upload(&self.ctx, &self.host, t);
        self.t = t;
        self.t_stop = f64::INFINITY;
        Ok(())
    }

    fn step_n(&mut self, max_steps: u64, ctl: &StepControl) -> Result<StepOutcome> {
        if ctl.t_stop != self.t_stop {
            self.stepper.set_t_stop(&self.ctx, ctl.t_stop);
            self.t_stop = ctl.t_stop;
        }
        let mut outcome = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        let mut state = self.stepper.read_state(&self.ctx)?;
        while outcome.steps < max_steps && self.t < ctl.t_stop {
            let bound = state.bound as f64;
            if bound < ctl.dt_bound_floor {
                outcome.stop = Some(StopReason::DtCollapse { dt_bound: bound, floor: ctl.dt_bound_floor });
                break;
            }
            if let DtPolicy::Fixed(dt) = self.disc.dt {
                // f32 bound: allow its rounding
                if dt > bound * (1.0 + 1e-6) {
                    outcome.stop = Some(StopReason::FixedDtUnstable { dt, dt_bound: bound });
                    break;
                }
            }
            let batch = (max_steps - outcome.steps).min(self.batch_steps());
            self.stepper.keep(&self.ctx);
            let before = state.steps;
            self.stepper.step_n(&self.ctx, batch as u32, true);
            state = self.stepper.read_state(&self.ctx)?;
            if state.overstep != 0 {
                // a blocked pass's frozen Δt broke a later field's bound: the batch is
                // taken again a step per pass, each Δt from its own field's bound
                self.stepper.restore_kept(&self.ctx);
                self.stepper.step_n(&self.ctx, batch as u32, false);
                state = self.stepper.read_state(&self.ctx)?;
            }
            if state.nonfinite != 0 {
                // undo the batch and replay it a step at a time: the run ends on the last
                // finite state, and the count names the step that failed
                self.stepper.restore_kept(&self.ctx);
                state = self.replay_to_last_finite(batch, &mut outcome)?;
                self.t = if state.dt == 0.0 { ctl.t_stop } else { state.t() };
                outcome.stop = Some(StopReason::NonFinite);
                break;
            }
            let taken = (state.steps - before) as u64;
            outcome.steps += taken;
            if taken > 0 {
                outcome.dt_last = state.dt_last as f64;
            }
            // Δt = 0: the device landed on t_stop (in f32); report t_stop exactly.
            self.t = if state.dt == 0.0 { ctl.t_stop } else { state.t() };
            if state.max_density as f64 > ctl.max_density {
                outcome.stop = Some(StopReason::DensityBound {
                    max_density: state.max_density as f64,
                    bound: ctl.max_density,
                });
                break;
            }
            if taken < batch {
                break;
            }
        }
        Ok(outcome)
    }

    /// The policy is part of the device's uniform block: the stepper is rebuilt and the
    /// current field and time uploaded again.
    fn set_dt_policy(&mut self, dt: DtPolicy) -> Result<()> {
        if dt == self.disc.dt {
            return Ok(());
        }
        let mut field = vec![0.0; self.disc.grid.len()];
        self.read_back(&mut field)?;
        let t = self.t;
        self.disc.dt = dt;
        self.stepper = GpuStepper::new(&self.ctx, &self.disc)?;
        self.reducer =
            GpuReducer::new(&self.ctx, &self.disc.grid, &self.disc.params, self.stepper.fields().0)?;
        self.renderer = None;
        self.upload(&field, t)
    }

    fn dt_bound(&mut self) -> f64 {
        self.stepper.read_state(&self.ctx).map(|s| s.bound as f64).unwrap_or(f64::NAN)
    }

    fn diagnostics(&mut self) -> Result<Diagnostics> {
        let (_, current) = self.stepper.fields();
        let s = self.reducer.sums(&self.ctx, current)?;
        let vol = self.disc.grid.cell_volume();
        Ok(Diagnostics {
            t: self.t,
            mass: s.sum * vol,
            min: s.min,
            max: s.max,
            l2: (s.sum_squares * vol).sqrt(),
            entropy: s.entropy * vol,
            second_moment: s.moment * vol,
            origin_mass: s.origin * vol,
        })
    }

    fn read_back(&mut self, out: &mut [f64]) -> Result<()> {
        self.stepper.read_back(&self.ctx, &mut self.host)?;
        for (o, &v) in out.iter_mut().zip(&self.host) {
            *o = v as f64;
        }
        Ok(())
    }

    /// The compensated time pair and the step bound as the device holds them: `upload`
    /// alone would split t afresh, and the next steps would round differently.
    fn cached_state(&self) -> Vec<f64> {
        match self.stepper.read_state(&self.ctx) {
            Ok(s) => vec![s.t_hi as f64, s.t_lo as f64, s.bound as f64],
            Err(_) => Vec::new(),
        }
    }

    fn restore_cached_state(&mut self, state: &[f64]) -> Result<()> {
        // the host's t stays the one uploaded: the checkpoint's, which is t_stop exactly when
        // the device had landed on it (the pair then sums to its f32 rounding)
        let [t_hi, t_lo, bound] = *state else {
            crate::forward::other_backends_checkpoint();
            return Ok(());
        };
        Ok(self.stepper.restore_time_and_bound(&self.ctx, t_hi as f32, t_lo as f32, bound as f32)?)
    }

    fn time(&self) -> f64 {
        self.t
    }

    /// 2D fields are colour-mapped on the device; 1D profiles are line plots drawn on the
    /// host from the N values.
    fn render_frame(&mut self, style: &FrameStyle) -> Result<Option<image::RgbImage>> {
        if self.disc.grid.dim != 2 {
            return Ok(None);
        }
        let (cells, k) = (self.disc.grid.cells, style.pixels_per_cell(self.disc.grid.cells));
        if !self.renderer.as_ref().is_some_and(|r| r.fits(cells, k)) {
            self.renderer = Some(GpuRenderer::new(&self.ctx, cells, k, self.stepper.fields().0)?);
        }
        let (_, current) = self.stepper.fields();
        match &self.renderer {
            Some(r) => Ok(Some(r.render(&self.ctx, current, style)?)),
            None => Ok(None),
        }
    }
}
