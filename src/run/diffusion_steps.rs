//! The score-based diffusion pipelines' time stepping on the one `Simulation` loop (its
//! interrupt, first signal at a step boundary, and its limits): the reverse sampler of
//! `sample` and `check-theory` (`diffusion::sampler::Sampler`) and the backward
//! Fokker–Planck solve of `check-theory` (`diffusion::backward::BackwardSolve`, one piece
//! of a check interval per step).

use super::simulation::{run_phase, Advance, StepByStep};
use crate::diffusion::backward::{BackwardSolve, BackwardStepper};
use crate::diffusion::sampler::{
    self, BatchScore, CpuSampler, DeviceSampler, SampleStepper, Sampled, Sampler, SamplerSettings,
};
use crate::error::{Error, Result};
use crate::forward::StepOutcome;
use crate::gpu::Device;
use crate::model::score::{LinearProcess, PointCloud};

struct BackwardRun<'a, 'm> {
    solve: BackwardSolve<'m>,
    times: &'a [f64],
    progress: &'a mut dyn FnMut(usize, f64),
}

impl Advance for BackwardRun<'_, '_> {
    fn time(&self) -> f64 {
        self.solve.time()
    }

    fn advance(&mut self, max_steps: u64, s_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && !self.solve.done() && self.time() < s_stop {
            let before = self.time();
            if let Some(k) = self.solve.step()? {
                (self.progress)(k, self.times[k]);
            }
            out.steps += 1;
            out.dt_last = self.time() - before;
        }
        Ok(out)
    }
}

/// The densities at each of `times` (descending from T; `out[k][j]`: density j at
/// times[k]) from the mover's starts at times[0], calling `progress(check times reached,
/// time)`; the sub-steps taken. An interrupt ends it with `Error::Interrupted`.
pub fn backward_solve(
    mover: &mut dyn BackwardStepper,
    safety: f64,
    times: &[f64],
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(Vec<Vec<Vec<f64>>>, u64)> {
    let solve = BackwardSolve::new(mover, safety, times)?;
    let span = match times.last() {
        Some(&last) => times[0] - last,
        None => return Ok(solve.finish()),
    };
    let mut run = BackwardRun { solve, times, progress };
    run_phase(&mut run, span, &mut [&mut StepByStep], |s| {
        Error::Interrupted(format!(
            "the backward Fokker–Planck solve at t = {:.6e}; no checks were written",
            times[0] - s
        ))
    })?;
    Ok(run.solve.finish())
}

struct SamplerRun<'a, 'p> {
    sampler: Sampler<'a>,
    progress: &'p mut dyn FnMut(usize, f64) -> Result<()>,
}

impl Advance for SamplerRun<'_, '_> {
    fn time(&self) -> f64 {
        self.sampler.time()
    }

    fn advance(&mut self, max_steps: u64, s_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && !self.sampler.done() && self.time() < s_stop {
            let before = self.time();
            let (k, t) = self.sampler.step()?;
            (self.progress)(k, t)?;
            out.steps += 1;
            out.dt_last = self.time() - before;
        }
        Ok(out)
    }
}

/// Run the sampler from `start` (heat coordinates) with `mover` holding the same
/// positions; `progress(steps done, time reached)` after each step (an error from it ends
/// the run there). An interrupt ends it with `Error::Interrupted`.
pub fn sample(
    process: &LinearProcess,
    dim: usize,
    settings: &SamplerSettings,
    mover: &mut dyn SampleStepper,
    start: &[f64],
    progress: &mut dyn FnMut(usize, f64) -> Result<()>,
) -> Result<Sampled> {
    let mut run = SamplerRun { sampler: Sampler::new(process, dim, settings, mover, start), progress };
    let span = run.sampler.span();
    run_phase(&mut run, span, &mut [&mut StepByStep], |s| {
        Error::Interrupted(format!(
            "the sampler at t = {:.6e}; the samples of this stopping time were not written",
            settings.t_final - s
        ))
    })?;
    run.sampler.finish()
}

/// Run the sampler once from the config's start: on the device when one is given, with a
/// user's score (`user_score`, on the CPU) when one is given, else with the exact score.
pub fn sample_once(
    process: &LinearProcess,
    cloud: &PointCloud,
    settings: &SamplerSettings,
    device: &Device,
    user_score: Option<&mut (dyn BatchScore + '_)>,
    progress: &mut dyn FnMut(usize, f64) -> Result<()>,
) -> Result<Sampled> {
    let start = sampler::start_positions(process, cloud, settings);
    match (device.gpu(), user_score) {
        (Some(_), Some(_)) => {
            Err(Error::Unsupported("a user's score runs on the CPU sampler: use the cpu backend".into()))
        }
        (Some(ctx), None) => {
            let mut mover = DeviceSampler::new(ctx, cloud, &start, settings.seed)?;
            sample(process, cloud.dim, settings, &mut mover, &start, progress)
        }
        (None, Some(score)) => {
            let mut mover =
                CpuSampler::with_score(process, cloud.dim, Box::new(score), start.clone(), settings.seed);
            sample(process, cloud.dim, settings, &mut mover, &start, progress)
        }
        (None, None) => {
            let mut mover = CpuSampler::exact(process, cloud, start.clone(), settings.seed);
            sample(process, cloud.dim, settings, &mut mover, &start, progress)
        }
    }
}
