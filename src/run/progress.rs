//! Progress of a run: a bar with ETA on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Where a host process (the Python package: tqdm or its own line) shows progress instead.
pub trait ProgressSink: Send + Sync {
    /// `fraction` of the work done; `message` says where the run is.
    fn report(&self, fraction: f64, message: &str);
    fn finish(&self);
}

static SINK: Mutex<Option<Arc<dyn ProgressSink>>> = Mutex::new(None);

/// Send the progress of the runs that start from now on to `sink` (None: the terminal).
pub fn set_sink(sink: Option<Arc<dyn ProgressSink>>) {
    if let Ok(mut slot) = SINK.lock() {
        *slot = sink;
    }
}

/// The shortest interval between two reports to a sink (a host's bar redraws on each).
const SINK_INTERVAL: Duration = Duration::from_millis(100);

pub enum Progress {
    Bar(ProgressBar),
    Log { next_tenth: u32 },
    Sink { sink: Arc<dyn ProgressSink>, last: Option<Instant> },
    Silent,
}

impl Progress {
    /// The sink when one is set, else a bar on a terminal and a log line per tenth
    /// otherwise; nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        if quiet {
            return Progress::Silent;
        }
        if let Some(sink) = SINK.lock().ok().and_then(|slot| slot.clone()) {
            return Progress::Sink { sink, last: None };
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(1000);
            let style = ProgressStyle::with_template("{bar:40.cyan/blue} {percent:>3}%  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Progress::Bar(bar)
        } else {
            Progress::Log { next_tenth: 1 }
        }
    }

    /// A time-stepping run at time t of [0, t_final].
    pub fn update(&mut self, t: f64, t_final: f64, step: u64, dt: f64) {
        self.report(t / t_final, || format!("t = {t:.4e}  step {step}  dt = {dt:.2e}"));
    }

    /// `fraction` of the work done; `message` says where the run is.
    pub fn report(&mut self, fraction: f64, message: impl Fn() -> String) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position((1000.0 * fraction).clamp(0.0, 1000.0) as u64);
                bar.set_message(message());
            }
            Progress::Log { next_tenth } => {
                // one line per report, however many tenths it crossed
                let reached = ((fraction * 10.0 * (1.0 + 1e-12)).floor().clamp(0.0, 10.0)) as u32;
                if reached >= *next_tenth {
                    log::info!("{:>3}%  {}", reached * 10, message());
                    *next_tenth = reached + 1;
                }
            }
            Progress::Sink { sink, last } => {
                if fraction >= 1.0 || last.is_none_or(|at| at.elapsed() >= SINK_INTERVAL) {
                    sink.report(fraction.clamp(0.0, 1.0), &message());
                    *last = Some(Instant::now());
                }
            }
            Progress::Silent => {}
        }
    }

    pub fn finish(&self) {
        match self {
            Progress::Bar(bar) => bar.finish_and_clear(),
            Progress::Sink { sink, .. } => sink.finish(),
            _ => {}
        }
    }
}
