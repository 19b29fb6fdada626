//! The reverse particles under the one `Simulation` loop: the loop's interrupt (first
//! signal at a step boundary, second exits), progress, stall and step limits apply to them
//! as to every other pipeline; the stepping itself is `reverse::particles::ReverseParticles`.

use super::simulation::{Advance, EndReason, Moment, Observer, Schedule, Simulation};
use crate::error::{Error, Result};
use crate::forward::cpu::Discretisation;
use crate::forward::StepOutcome;
use crate::reverse::particles::{ReverseParticleSettings, ReverseParticles, ReverseStepper};
use crate::reverse::store::SnapshotStore;

/// Steps between progress reports (and interrupt checks).
const REPORT_EVERY: u64 = 16;

struct ReverseParticleRun<'a, 'm> {
    particles: ReverseParticles<'a>,
    mover: &'m mut dyn ReverseStepper,
}

impl Advance for ReverseParticleRun<'_, '_> {
    fn time(&self) -> f64 {
        self.particles.time()
    }

    fn advance(&mut self, max_steps: u64, t_stop: f64) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while out.steps < max_steps && self.particles.time() < t_stop {
            out.dt_last = self.particles.step(t_stop, self.mover)?;
            out.steps += 1;
        }
        Ok(out)
    }
}

/// `progress(phase, fraction)` every few steps.
pub(super) struct PhaseProgress<'p> {
    pub phase: &'static str,
    pub t_final: f64,
    pub progress: &'p mut dyn FnMut(&str, f64),
}

impl<S: ?Sized> Observer<S> for PhaseProgress<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(REPORT_EVERY)]
    }

    fn on_steps(&mut self, at: &Moment, _: &mut S) -> Result<()> {
        (self.progress)(self.phase, at.t / self.t_final);
        Ok(())
    }
}

/// Move the particles from s = 0 to T with `mover`; the number of steps. An interrupt ends
/// the run with `Error::Interrupted`.
pub fn run(
    disc: &Discretisation,
    store: &SnapshotStore,
    t_final: f64,
    settings: &ReverseParticleSettings,
    mover: &mut dyn ReverseStepper,
    progress: &mut dyn FnMut(&str, f64),
) -> Result<u32> {
    let mut run =
        ReverseParticleRun { particles: ReverseParticles::new(disc, store, t_final, settings), mover };
    let simulation =
        Simulation { t_final, max_steps: u64::MAX, wall_time_limit: None, stall: None, first_step: 0 };
    let mut bar = PhaseProgress { phase: "reverse particles", t_final, progress };
    let end = simulation.run(&mut run, &mut [&mut bar])?;
    match end.reason {
        EndReason::Interrupted => Err(Error::Interrupted(format!(
            "the reverse particles at reverse time s = {:.6e}; no samples were written",
            end.t
        ))),
        _ => Ok(run.particles.steps()),
    }
}
