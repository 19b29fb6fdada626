//! The score-based diffusion pipelines' time stepping on the one `Simulation` loop (its
//! interrupt, first signal at a step boundary, and its limits): the backward
//! Fokker–Planck solve of `check-theory` (`diffusion::backward::BackwardSolve`, one piece
//! of a check interval per step).

use super::simulation::{Advance, EndReason, Moment, Observer, Schedule, Simulation};
use crate::diffusion::backward::{BackwardSolve, BackwardStepper};
use crate::error::{Error, Result};
use crate::forward::StepOutcome;

/// Hands the loop one step at a time, so that it checks for an interrupt between steps.
struct StepByStep;

impl<S: ?Sized> Observer<S> for StepByStep {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(1)]
    }

    fn on_steps(&mut self, _: &Moment, _: &mut S) -> Result<()> {
        Ok(())
    }
}

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
    if span > 0.0 {
        let simulation = Simulation {
            t_final: span,
            max_steps: u64::MAX,
            wall_time_limit: None,
            stall: None,
            first_step: 0,
        };
        let end = simulation.run(&mut run, &mut [&mut StepByStep])?;
        if let EndReason::Interrupted = end.reason {
            return Err(Error::Interrupted(format!(
                "the backward Fokker–Planck solve at t = {:.6e}; no checks were written",
                times[0] - end.t
            )));
        }
    }
    Ok(run.solve.finish())
}
