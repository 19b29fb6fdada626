//! The forward run's record for the reverse-time pipelines (`generate`, `filter`).

use super::generation::PathObserver;
use super::simulation::{ForwardRun, Moment, Observer, Schedule};
use crate::error::Result;
use crate::reverse::store::SnapshotStore;

/// The forward run's record for the reverse: the time grid (every step, when the reverse
/// retraces it) and the field every `store_every` steps and at T, into the store; at the
/// output times f goes to the path observer (and, for the log-score mode, into the store
/// too, so that the reverse path is at those times exactly).
pub(super) struct ForwardRecorder<'s, 'p, 'q> {
    pub(super) chunk: u64,
    pub(super) store_every: u64,
    pub(super) retrace: bool,
    pub(super) t_final: f64,
    pub(super) times: Vec<f64>,
    pub(super) dts: Vec<f64>,
    pub(super) field: Vec<f64>,
    pub(super) store: &'s mut SnapshotStore,
    pub(super) progress: &'p mut dyn FnMut(&str, f64),
    pub(super) output_times: Vec<f64>,
    /// The time of the store's last snapshot.
    pub(super) last_stored: f64,
    pub(super) path: &'q mut dyn PathObserver,
}

impl<'a> Observer<ForwardRun<'a>> for ForwardRecorder<'_, '_, '_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(self.chunk), Schedule::AtTimes(self.output_times.clone())]
    }

    fn on_steps(&mut self, at: &Moment, s: &mut ForwardRun<'a>) -> Result<()> {
        if at.stop.is_some() {
            return Ok(());
        }
        if self.retrace {
            self.dts.push(at.dt_last);
            self.times.push(at.t);
        }
        if at.step % 64 < self.chunk {
            (self.progress)("forward", at.t / self.t_final);
        }
        if at.step % self.store_every == 0 || at.t >= self.t_final {
            s.backend.read_back(&mut self.field)?;
            self.store.push(at.t, &self.field)?;
            self.last_stored = at.t;
        }
        Ok(())
    }

    fn on_time(&mut self, at: &Moment, s: &mut ForwardRun<'a>) -> Result<()> {
        if at.stop.is_some() {
            return Ok(());
        }
        s.backend.read_back(&mut self.field)?;
        self.path.forward(at.t, &self.field)?;
        if !self.retrace && at.t > self.last_stored {
            self.store.push(at.t, &self.field)?;
            self.last_stored = at.t;
        }
        Ok(())
    }
}
