//! The one time loop of every pipeline: it drives a stepper to the times its observers
//! ask for (landing exactly on them), in chunks no longer than their step schedules
//! allow, and calls them on their schedules; it stops at the end time, at a stop the
//! stepper reports (condensation, NaN/Inf, an unstable fixed Δt), at `max_steps`, at the
//! wall-clock limit, or at a signal (`interrupt`), always at a step boundary.

use std::time::Instant;

use crate::error::Result;
use crate::forward::{ForwardStepper, StepControl, StepOutcome, StopReason};

/// When an observer fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Every k steps (and at every landing time and at a stop, so that the last state of
    /// each stretch is seen).
    EverySteps(u64),
    /// At multiples of this much simulated time (landed on exactly).
    EveryTime(f64),
    /// At these times (landed on exactly).
    AtTimes(Vec<f64>),
}

/// Anything the loop can drive.
pub trait Advance {
    fn time(&self) -> f64;
    /// Take up to `max_steps` steps without passing `t_stop` (the last one lands on it).
    fn advance(&mut self, max_steps: u64, t_stop: f64) -> Result<StepOutcome>;
}

/// Where the loop is when it calls an observer.
#[derive(Clone, Debug)]
pub struct Moment {
    /// Steps since the start.
    pub step: u64,
    pub t: f64,
    /// Steps in the chunk just taken, and Δt of its last step (0 if none).
    pub steps_in_chunk: u64,
    pub dt_last: f64,
    /// The chunk ended on a landing time.
    pub landed: bool,
    pub stop: Option<StopReason>,
}

/// A callback of the loop: writers (diagnostics, snapshots, the reverse snapshot store,
/// particle outputs), progress, recorders.
pub trait Observer<S: ?Sized> {
    fn schedules(&self) -> Vec<Schedule>;
    /// After every chunk of steps (progress displays).
    fn on_chunk(&mut self, _at: &Moment, _stepper: &mut S) -> Result<()> {
        Ok(())
    }
    /// When this observer's `EverySteps` schedule is due.
    fn on_steps(&mut self, _at: &Moment, _stepper: &mut S) -> Result<()> {
        Ok(())
    }
    /// At one of this observer's times.
    fn on_time(&mut self, _at: &Moment, _stepper: &mut S) -> Result<()> {
        Ok(())
    }
}

/// Why the loop ended.
#[derive(Clone, Debug, PartialEq)]
pub enum EndReason {
    /// t_final reached.
    Completed,
    /// The stepper stopped (condensation, NaN/Inf, an unstable fixed Δt).
    Stopped(StopReason),
    /// `max_steps` steps taken before t_final.
    MaxSteps,
    /// The wall-clock limit passed.
    WallTime,
    /// SIGINT or SIGTERM (`interrupt`).
    Interrupted,
    /// Simulated time advanced by less than the watchdog's least advance over its window.
    Stalled { steps: u64, advanced: f64, least: f64 },
}

#[derive(Clone, Debug)]
pub struct End {
    pub steps: u64,
    pub t: f64,
    pub reason: EndReason,
    /// Wall time spent inside the stepper (not in the observers).
    pub stepping_seconds: f64,
}

/// The loop's settings.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub t_final: f64,
    pub max_steps: u64,
    /// Seconds of wall time after which the loop ends at the next chunk boundary.
    pub wall_time_limit: Option<f64>,
    /// The progress watchdog: over every window of this many steps, t must advance by at
    /// least this much (None: no watchdog).
    pub stall: Option<(u64, f64)>,
    /// The step count the stepper is at (a resumed run): schedules stay aligned to the
    /// steps of the whole run, and landing times before its time are not revisited.
    pub first_step: u64,
}

impl Simulation {
    /// Every time the observers ask for up to t_final, and t_final, in order.
    fn landing_times<S: ?Sized>(&self, observers: &[&mut dyn Observer<S>]) -> Vec<f64> {
        let mut times = vec![self.t_final];
        for o in observers {
            for s in o.schedules() {
                match s {
                    Schedule::AtTimes(ts) => {
                        times.extend(ts.into_iter().filter(|&t| t > 0.0 && t <= self.t_final))
                    }
                    Schedule::EveryTime(every) if every > 0.0 => {
                        let count = (self.t_final / every).floor() as u64;
                        times.extend((1..=count).map(|k| k as f64 * every).filter(|&t| t < self.t_final));
                    }
                    _ => {}
                }
            }
        }
        times.sort_by(f64::total_cmp);
        times.dedup();
        times
    }

    /// Run `stepper` from its current time to t_final.
    pub fn run<S: Advance + ?Sized>(
        &self,
        stepper: &mut S,
        observers: &mut [&mut dyn Observer<S>],
    ) -> Result<End> {
        let clock = Instant::now();
        let landing = self.landing_times(observers);
        let step_every: Vec<Option<u64>> = observers
            .iter()
            .map(|o| {
                o.schedules().iter().find_map(|s| match s {
                    Schedule::EverySteps(k) => Some((*k).max(1)),
                    _ => None,
                })
            })
            .collect();
        let times_of: Vec<Vec<f64>> = observers
            .iter()
            .map(|o| {
                let mut mine = Vec::new();
                for s in o.schedules() {
                    match s {
                        Schedule::AtTimes(ts) => mine.extend(ts),
                        Schedule::EveryTime(every) if every > 0.0 => mine.extend(
                            landing
                                .iter()
                                .copied()
                                .filter(|t| (t / every - (t / every).round()).abs() < 1e-9),
                        ),
                        _ => {}
                    }
                }
                mine
            })
            .collect();
        let mut step = self.first_step;
        let t_start = stepper.time();
        let mut stepping = 0.0;
        let mut window_start = (step, t_start);
        let mut reason = EndReason::Completed;
        'outer: for &target in landing.iter().filter(|&&t| t >= t_start) {
            let mut last = Moment {
                step,
                t: stepper.time(),
                steps_in_chunk: 0,
                dt_last: 0.0,
                landed: false,
                stop: None,
            };
            while stepper.time() < target {
                if step >= self.max_steps {
                    reason = EndReason::MaxSteps;
                    break 'outer;
                }
                if self.wall_time_limit.is_some_and(|limit| clock.elapsed().as_secs_f64() > limit) {
                    reason = EndReason::WallTime;
                    break 'outer;
                }
                if super::interrupt::requested() {
                    reason = EndReason::Interrupted;
                    break 'outer;
                }
                let todo = step_every
                    .iter()
                    .flatten()
                    .map(|k| k - step % k)
                    .min()
                    .unwrap_or(u64::MAX)
                    .min(self.max_steps - step);
                let chunk_clock = Instant::now();
                let out = stepper.advance(todo, target)?;
                stepping += chunk_clock.elapsed().as_secs_f64();
                step += out.steps;
                let t = stepper.time();
                last = Moment {
                    step,
                    t,
                    steps_in_chunk: out.steps,
                    dt_last: out.dt_last,
                    landed: t >= target,
                    stop: out.stop.clone(),
                };
                for (o, every) in observers.iter_mut().zip(&step_every) {
                    o.on_chunk(&last, stepper)?;
                    if let Some(k) = every {
                        if out.steps > 0 && (step % k == 0 || last.landed || out.stop.is_some()) {
                            o.on_steps(&last, stepper)?;
                        }
                    }
                }
                if let Some(stop) = out.stop {
                    reason = EndReason::Stopped(stop);
                    break 'outer;
                }
                if let Some((window, least)) = self.stall {
                    if step - window_start.0 >= window {
                        let advanced = t - window_start.1;
                        if advanced < least {
                            reason = EndReason::Stalled { steps: step - window_start.0, advanced, least };
                            break 'outer;
                        }
                        window_start = (step, t);
                    }
                }
                if out.steps == 0 {
                    break;
                }
            }
            if stepper.time() >= target {
                last.landed = true;
                for (o, mine) in observers.iter_mut().zip(&times_of) {
                    if mine.contains(&target) {
                        o.on_time(&last, stepper)?;
                    }
                }
            }
        }
        Ok(End { steps: step, t: stepper.time(), reason, stepping_seconds: stepping })
    }
}

/// Hands the loop one step at a time, so that it checks for an interrupt between steps.
pub struct StepByStep;

impl<S: ?Sized> Observer<S> for StepByStep {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(1)]
    }
}

/// Drive `stepper` to `t_final` with `observers` and no step, wall-time or stall limit (a
/// phase inside a pipeline whose own limits apply around it); an interrupt becomes the
/// error `interrupted(t reached)`.
pub fn run_phase<S: Advance>(
    stepper: &mut S,
    t_final: f64,
    observers: &mut [&mut dyn Observer<S>],
    interrupted: impl FnOnce(f64) -> crate::error::Error,
) -> Result<()> {
    if stepper.time() >= t_final {
        return Ok(());
    }
    let simulation =
        Simulation { t_final, max_steps: u64::MAX, wall_time_limit: None, stall: None, first_step: 0 };
    match simulation.run(stepper, observers)?.reason {
        EndReason::Interrupted => Err(interrupted(stepper.time())),
        _ => Ok(()),
    }
}

/// A forward backend under the loop, with the stop thresholds of its run.
pub struct ForwardRun<'a> {
    pub backend: &'a mut dyn ForwardStepper,
    pub control: StepControl,
}

impl Advance for ForwardRun<'_> {
    fn time(&self) -> f64 {
        self.backend.time()
    }

    fn advance(&mut self, max_steps: u64, t_stop: f64) -> Result<StepOutcome> {
        self.control.t_stop = t_stop;
        self.backend.step_n(max_steps, &self.control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps of a fixed Δt; records what the loop asked for.
    struct Ticker {
        t: f64,
        dt: f64,
        stop_at_step: Option<u64>,
        steps: u64,
    }

    impl Advance for Ticker {
        fn time(&self) -> f64 {
            self.t
        }
        fn advance(&mut self, max_steps: u64, t_stop: f64) -> Result<StepOutcome> {
            let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
            while out.steps < max_steps && self.t < t_stop {
                if self.stop_at_step == Some(self.steps) {
                    out.stop = Some(StopReason::NonFinite);
                    break;
                }
                let dt = self.dt.min(t_stop - self.t);
                self.t = if dt < self.dt { t_stop } else { self.t + dt };
                self.steps += 1;
                out.steps += 1;
                out.dt_last = dt;
            }
            Ok(out)
        }
    }

    #[derive(Default)]
    struct Log {
        schedules: Vec<Schedule>,
        steps: Vec<u64>,
        times: Vec<f64>,
        chunks: usize,
    }

    impl Observer<Ticker> for Log {
        fn schedules(&self) -> Vec<Schedule> {
            self.schedules.clone()
        }
        fn on_chunk(&mut self, _: &Moment, _: &mut Ticker) -> Result<()> {
            self.chunks += 1;
            Ok(())
        }
        fn on_steps(&mut self, at: &Moment, _: &mut Ticker) -> Result<()> {
            self.steps.push(at.step);
            Ok(())
        }
        fn on_time(&mut self, at: &Moment, _: &mut Ticker) -> Result<()> {
            self.times.push(at.t);
            Ok(())
        }
    }

    fn ticker(dt: f64) -> Ticker {
        Ticker { t: 0.0, dt, stop_at_step: None, steps: 0 }
    }

    /// Step schedules fire at multiples and at landing times; time schedules land exactly.
    #[test]
    fn schedules_fire_where_they_should() {
        let sim = Simulation {
            t_final: 1.0,
            max_steps: u64::MAX,
            wall_time_limit: None,
            stall: None,
            first_step: 0,
        };
        let mut every3 = Log { schedules: vec![Schedule::EverySteps(3)], ..Log::default() };
        let mut at = Log { schedules: vec![Schedule::AtTimes(vec![0.25, 1.0])], ..Log::default() };
        let mut every_half = Log { schedules: vec![Schedule::EveryTime(0.5)], ..Log::default() };
        let mut s = ticker(0.125);
        let end = sim.run(&mut s, &mut [&mut every3, &mut at, &mut every_half]).unwrap();
        assert_eq!(end.reason, EndReason::Completed);
        assert_eq!((end.t, end.steps), (1.0, 8));
        assert_eq!(at.times, vec![0.25, 1.0]);
        assert_eq!(every_half.times, vec![0.5, 1.0]);
        // multiples of 3, and the landings at 0.25 (step 2), 0.5 (step 4) and 1 (step 8)
        assert_eq!(every3.steps, vec![2, 3, 4, 6, 8]);
        assert_eq!(every3.chunks, 5);
    }

    #[test]
    fn max_steps_and_stops_end_the_loop() {
        let sim =
            Simulation { t_final: 1.0, max_steps: 4, wall_time_limit: None, stall: None, first_step: 0 };
        let mut log = Log { schedules: vec![Schedule::EverySteps(10)], ..Log::default() };
        let end = sim.run(&mut ticker(0.1), &mut [&mut log]).unwrap();
        assert_eq!((end.steps, end.reason), (4, EndReason::MaxSteps));
        let sim =
            Simulation { t_final: 1.0, max_steps: 100, wall_time_limit: None, stall: None, first_step: 0 };
        let mut s = Ticker { stop_at_step: Some(5), ..ticker(0.1) };
        let mut log = Log { schedules: vec![Schedule::EverySteps(2)], ..Log::default() };
        let end = sim.run(&mut s, &mut [&mut log]).unwrap();
        assert_eq!((end.steps, end.reason), (5, EndReason::Stopped(StopReason::NonFinite)));
        // the stop's partial chunk is seen by the step schedule
        assert_eq!(log.steps, vec![2, 4, 5]);
    }

    #[test]
    fn wall_time_limit_ends_the_loop() {
        let sim = Simulation {
            t_final: 1.0,
            max_steps: u64::MAX,
            wall_time_limit: Some(0.0),
            stall: None,
            first_step: 0,
        };
        let mut log = Log { schedules: vec![Schedule::EverySteps(1)], ..Log::default() };
        let mut s = ticker(0.1);
        let end = sim.run(&mut s, &mut [&mut log]).unwrap();
        assert_eq!((end.steps, end.reason), (0, EndReason::WallTime));
    }
}
