//! The observers of the forward run: the progress line, diagnostics.csv (every k steps,
//! at output times and at a stop) with the running extremes for the summary, and the
//! snapshots, the dataset's fields and frames at output times.

use std::path::Path;

use serde::Serialize;

use super::progress::Progress;
use super::simulation::{ForwardRun, Moment, Observer, Schedule};
use crate::config::Config;
use crate::error::Result;
use crate::forward::{Diagnostics, ForwardStepper};
use crate::io::{self, frames, CsvWriter};

crate::csv_row! {
    /// One row of diagnostics.csv (its header is these names).
    #[derive(Clone, Copy, Debug, Serialize)]
    pub struct DiagnosticsRow {
        pub step: u64,
        pub t: f64,
        pub dt: f64,
        pub mass: f64,
        pub rel_mass_drift: f64,
        pub min: f64,
        pub max: f64,
        pub l2: f64,
        pub entropy: f64,
        pub second_moment: f64,
        pub origin_mass: f64,
    }
}

/// The progress line.
pub(super) struct ProgressObserver {
    pub(super) bar: Progress,
    pub(super) t_final: f64,
}

impl<'a> Observer<ForwardRun<'a>> for ProgressObserver {
    fn schedules(&self) -> Vec<Schedule> {
        Vec::new()
    }

    fn on_chunk(&mut self, at: &Moment, _: &mut ForwardRun<'a>) -> Result<()> {
        self.bar.update(at.t, self.t_final, at.step, at.dt_last);
        Ok(())
    }
}

/// diagnostics.csv every `every` steps, at output times and at a stop.
pub(super) struct DiagnosticsWriter {
    pub(super) csv: CsvWriter,
    pub(super) every: u64,
    pub(super) tracker: Tracker,
}

impl<'a> Observer<ForwardRun<'a>> for DiagnosticsWriter {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::EverySteps(self.every)]
    }

    fn on_chunk(&mut self, at: &Moment, _: &mut ForwardRun<'a>) -> Result<()> {
        if at.steps_in_chunk > 0 {
            self.tracker.dt(at.dt_last);
        }
        Ok(())
    }

    fn on_steps(&mut self, at: &Moment, s: &mut ForwardRun<'a>) -> Result<()> {
        let d = s.backend.diagnostics()?;
        self.tracker.record(&mut self.csv, at.step, at.dt_last, d)
    }
}

/// Writes snapshots/f_<step>.npy, run.zarr's f and frames/f_<step>.png at output times.
pub(super) struct SnapshotWriter<'a> {
    pub(super) dir: &'a Path,
    pub(super) config: &'a Config,
    pub(super) grid: &'a crate::grid::Grid,
    pub(super) style: frames::FrameStyle,
    pub(super) times_wanted: Vec<f64>,
    pub(super) field: &'a mut [f64],
    pub(super) names: Vec<String>,
    pub(super) times: Vec<f64>,
    /// The exponent of f ~ |x|^p near the origin at each of `times` (`model::condensation`).
    pub(super) exponents: Vec<Option<f64>>,
    pub(super) frames: Vec<String>,
    pub(super) drawn_on: Option<&'static str>,
    pub(super) last_step: Option<u64>,
    /// run.zarr, when the config writes it.
    pub(super) dataset: Option<super::dataset::RunDataset>,
    pub(super) on_output: Option<super::forward::OutputHook>,
}

impl<'b> Observer<ForwardRun<'b>> for SnapshotWriter<'_> {
    fn schedules(&self) -> Vec<Schedule> {
        vec![Schedule::AtTimes(self.times_wanted.clone())]
    }

    fn on_time(&mut self, at: &Moment, s: &mut ForwardRun<'b>) -> Result<()> {
        self.write(at.step, s.backend)
    }
}

impl SnapshotWriter<'_> {
    fn exponent(&self, f: &[f64]) -> Option<f64> {
        crate::model::condensation::profile_exponent(&self.config.model_params(), self.grid, f)
    }

    /// A resumed run's snapshots: those before `step` are kept and listed (their times
    /// from the diagnostics rows); later ones, and a stop's extra one, are removed.
    pub(super) fn restore(&mut self, rows: &[Vec<f64>], step: u64) -> Result<()> {
        let mut kept = Vec::new();
        for (sub, ext) in [("snapshots", "npy"), ("frames", "png")] {
            let Ok(entries) = std::fs::read_dir(self.dir.join(sub)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(k) = name.strip_prefix("f_").and_then(|n| n.strip_suffix(&format!(".{ext}"))) else {
                    continue;
                };
                let Ok(k) = k.parse::<u64>() else { continue };
                if k >= step {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| crate::error::Error::io(entry.path(), e))?;
                } else if sub == "snapshots" {
                    kept.push(k);
                }
            }
        }
        kept.sort_unstable();
        // their times: from the diagnostics rows; without .npy files, the dataset's (already
        // cut back to the checkpoint)
        let mut kept: Vec<(u64, f64)> = kept
            .into_iter()
            .map(|k| (k, rows.iter().find(|r| r[0] == k as f64).map_or(0.0, |r| r[1])))
            .collect();
        if kept.is_empty() {
            if let Some(dataset) = &self.dataset {
                kept = dataset.snapshots();
            }
        }
        for (k, t) in kept {
            let name = format!("f_{k:08}");
            if self.dir.join("snapshots").join(format!("{name}.npy")).exists() {
                self.names.push(format!("snapshots/{name}.npy"));
            }
            self.times.push(t);
            let npy = self.dir.join("snapshots").join(format!("{name}.npy"));
            let kept: Option<ndarray::ArrayD<f64>> = crate::config::npy::read_npy_as_f64(&npy).ok();
            self.exponents.push(kept.and_then(|a| self.exponent(a.as_slice()?)));
            if self.dir.join("frames").join(format!("{name}.png")).exists() {
                self.frames.push(format!("frames/{name}.png"));
            }
            self.last_step = Some(k);
        }
        Ok(())
    }

    pub(super) fn write(&mut self, step: u64, backend: &mut dyn ForwardStepper) -> Result<()> {
        let name = format!("f_{step:08}");
        let out = &self.config.output;
        let read = out.snapshots || self.dataset.is_some() || self.on_output.is_some();
        if read {
            backend.read_back(self.field)?;
        }
        if let Some(hook) = &self.on_output {
            if !hook(backend.time(), self.field) {
                log::info!("the output callback asked to stop at t = {:.6e}", backend.time());
                super::interrupt::request();
            }
        }
        if let Some(dataset) = &mut self.dataset {
            dataset.snapshot(step, backend.time(), self.field)?;
        }
        if read {
            self.times.push(backend.time());
            self.exponents.push(self.exponent(self.field));
        }
        if out.snapshots {
            io::write_field_npy(
                &self.dir.join("snapshots").join(format!("{name}.npy")),
                self.grid,
                self.field,
            )?;
            self.names.push(format!("snapshots/{name}.npy"));
        }
        if out.frames {
            // the colour map is drawn where the field is; axes, colour bar and title around it
            let title = format!("{}   t = {:.4}", self.config.name, backend.time());
            let image = match backend.render_frame(&self.style)? {
                Some(image) => {
                    self.drawn_on = Some("device");
                    frames::frame_figure(self.grid, image, &self.style, &title)
                }
                None => {
                    if !read {
                        backend.read_back(self.field)?;
                    }
                    self.drawn_on = Some("host");
                    frames::figure(self.grid, self.field, &self.style, &title)
                }
            };
            io::save_png(&self.dir.join("frames").join(format!("{name}.png")), &image)?;
            self.frames.push(format!("frames/{name}.png"));
        }
        self.last_step = Some(step);
        Ok(())
    }
}

/// Running extremes over the diagnostics and Δt history.
pub(super) struct Tracker {
    pub(super) mass0: f64,
    pub(super) max_drift: f64,
    pub(super) min_density: f64,
    pub(super) dt_min: f64,
    pub(super) dt_max: f64,
}

impl Tracker {
    pub(super) fn new(mass0: f64) -> Self {
        Self { mass0, max_drift: 0.0, min_density: f64::INFINITY, dt_min: f64::INFINITY, dt_max: 0.0 }
    }

    /// Take in a diagnostics row written before (a resumed run): the same extremes as
    /// when it was recorded, and its Δt as a chunk's last.
    pub(super) fn replay(&mut self, row: &[f64]) {
        self.max_drift = self.max_drift.max(row[4].abs());
        self.min_density = self.min_density.min(row[5]);
        if row[0] > 0.0 {
            self.dt(row[2]);
        }
    }

    pub(super) fn dt(&mut self, dt: f64) {
        self.dt_min = self.dt_min.min(dt);
        self.dt_max = self.dt_max.max(dt);
    }

    pub(super) fn record(&mut self, csv: &mut CsvWriter, step: u64, dt: f64, d: Diagnostics) -> Result<()> {
        let drift = (d.mass - self.mass0) / self.mass0;
        self.max_drift = self.max_drift.max(drift.abs());
        self.min_density = self.min_density.min(d.min);
        csv.write(&DiagnosticsRow {
            step,
            t: d.t,
            dt,
            mass: d.mass,
            rel_mass_drift: drift,
            min: d.min,
            max: d.max,
            l2: d.l2,
            entropy: d.entropy,
            second_moment: d.second_moment,
            origin_mass: d.origin_mass,
        })
    }
}

/// diagnostics.png (relative mass drift, max f, entropy and origin-cell mass against t),
/// the movie of the frames (`output.movie`) and, for a 1D run with snapshots (.npy or in
/// the dataset), kymograph.png (f over x and t).
pub(super) fn write_run_figures(snapshots: &SnapshotWriter<'_>, rows: &[DiagnosticsRow]) -> Result<()> {
    let (config, grid, dir) = (snapshots.config, snapshots.grid, snapshots.dir);
    if !config.output.frames {
        return Ok(());
    }
    let t: Vec<f64> = rows.iter().map(|r| r.t).collect();
    let column = |f: fn(&DiagnosticsRow) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let series = [
        ("relative mass drift", column(|r| r.rel_mass_drift)),
        ("max f", column(|r| r.max)),
        ("entropy", column(|r| r.entropy)),
        ("origin-cell mass", column(|r| r.origin_mass)),
    ];
    match io::figure::panels(&t, &series, &format!("{}: diagnostics", config.name)) {
        Ok(image) => io::save_png(&dir.join("diagnostics.png"), &image)?,
        Err(why) => log::warn!("diagnostics.png: {why}"),
    }
    if let Some(format) = config.output.movie {
        let frames: Vec<_> = snapshots.frames.iter().map(|f| dir.join(f)).collect();
        io::movie::write_movie(&frames, &dir.join(format.file_name()), format, config.output.movie_fps)?;
    }
    // the snapshots as the run wrote them: .npy files, else run.zarr
    let stored = if snapshots.names.is_empty() {
        super::dataset::GridFields::stored(dir)?
    } else {
        super::dataset::GridFields::Npy(
            snapshots.times.iter().copied().zip(snapshots.names.iter().map(|n| dir.join(n))).collect(),
        )
    };
    let times = stored.times();
    if grid.dim == 1 && times.len() >= 2 {
        let fields = (0..times.len()).map(|k| stored.field(k, grid)).collect::<Result<Vec<_>>>()?;
        let title = format!("{}: f(t, x)", config.name);
        let image = frames::kymograph(grid, &times, &fields, &snapshots.style, &title);
        io::save_png(&dir.join("kymograph.png"), &image)?;
    }
    Ok(())
}
