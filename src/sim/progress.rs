//! Progress of a run: a bar with ETA on a terminal, plain log lines otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub enum Progress {
    Bar(ProgressBar),
    Log { t_final: f64, next_tenth: u32 },
    Silent,
}

impl Progress {
    pub fn new(t_final: f64, quiet: bool) -> Self {
        if quiet {
            return Progress::Silent;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(1000);
            let style = ProgressStyle::with_template("{bar:40.cyan/blue} {percent:>3}%  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Progress::Bar(bar)
        } else {
            Progress::Log { t_final, next_tenth: 1 }
        }
    }

    pub fn update(&mut self, t: f64, t_final: f64, step: u64, dt: f64) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position((1000.0 * t / t_final).min(1000.0) as u64);
                bar.set_message(format!("t = {t:.4e}  step {step}  dt = {dt:.2e}"));
            }
            Progress::Log { t_final, next_tenth } => {
                while *next_tenth <= 10 && t >= *t_final * f64::from(*next_tenth) / 10.0 * (1.0 - 1e-12) {
                    log::info!("{:>3}%  t = {t:.4e}  step {step}  dt = {dt:.2e}", *next_tenth * 10);
                    *next_tenth += 1;
                }
            }
            Progress::Silent => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
