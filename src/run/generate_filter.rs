//! `fpgen generate` and `fpgen filter`: the reverse-time pipelines with their outputs.
//!
//! generate: <dir>/run.zarr (the forward and reverse paths, the generated density and
//! samples), initial/terminal/generated.png in one colour range, samples.png when reverse
//! particles are on, summary.json; the .npy files with `output.npy`.
//! filter: <dir>/run.zarr (the iterates), filter.csv (per iteration: L1 to the input, L1 to
//! the previous iterate, total variation, entropy, max), strip.png, summary.json;
//! iterate_<k>.npy with `output.npy`.

use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::forward::Problem;
use crate::gpu::Device;
use crate::io::RunDir;
use crate::io::{self, frames};
use crate::reverse::metrics::{self, Comparison};
use crate::run::dataset::{IterateDataset, PathDataset};
use crate::run::generation::{generate_from, Generation, NoPath, ReverseSettings};
use crate::run::progress::Progress;

#[derive(Serialize)]
pub struct GenerateSummary {
    pub name: String,
    /// "cpu" (f64) or the GPU adapter's name (f32).
    pub device: String,
    pub dim: usize,
    pub cells: usize,
    pub eta: f64,
    pub start: crate::kinds::Start,
    pub mode: crate::kinds::ReverseMode,
    pub store_every: u64,
    pub t_final: f64,
    /// The reconstruction g against f(0).
    pub generated_vs_initial: Comparison,
    /// The histogram of the generated samples against f(0) (with reverse particles).
    pub samples_vs_initial: Option<Comparison>,
    pub generation: Generation,
    pub outputs: Vec<String>,
}

/// A progress display for the phases of a pipeline ("forward", "reverse", …).
fn phase_progress(quiet: bool) -> impl FnMut(&str, f64) {
    let mut bar = Progress::new(quiet);
    let mut current = String::new();
    move |phase: &str, fraction: f64| {
        if phase != current {
            bar.finish();
            if !quiet {
                log::info!("{phase} …");
            }
            bar = Progress::new(quiet);
            current = phase.to_string();
        }
        bar.report(fraction, || current.clone());
    }
}

/// The store's spill folder, empty once the store is dropped.
fn remove_spill_dir(dir: &Path) {
    let _ = std::fs::remove_dir(spill_dir(dir));
}

fn spill_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("snapshot_store")
}

/// Why the reverse pipelines of `config` cannot run on the GPU (None: they can).
pub fn gpu_unsupported(config: &Config) -> Option<String> {
    (config.reverse.mode != crate::kinds::ReverseMode::LogScore)
        .then(|| format!("reverse.mode = {:?}: the GPU runs the log-score mode only", config.reverse.mode))
}

pub fn generate_run(
    config: &Config,
    run_dir: &mut RunDir,
    quiet: bool,
    device: &Device,
) -> Result<GenerateSummary> {
    let dir = run_dir.path().to_path_buf();
    let dir = dir.as_path();
    let problem = Problem::from_config(config)?;
    let grid = problem.grid().clone();
    let f0 = problem.initial.clone();
    let settings = ReverseSettings::from_config(config);
    let mut progress = phase_progress(quiet);
    let device_name = device.gpu().map_or("cpu (f64)".to_string(), |d| format!("{} (f32)", d.summary.name));
    let mut dataset = match config.output.dataset {
        true => Some(PathDataset::create(dir, config, &grid, &device_name, problem.t_final)?),
        false => None,
    };
    let path: &mut dyn crate::run::generation::PathObserver = match &mut dataset {
        Some(d) => d,
        None => &mut NoPath,
    };
    let g = generate_from(&problem, f0, &settings, &spill_dir(dir), device, &mut progress, path)?;
    if let Some(d) = &mut dataset {
        d.finish(&grid, &g.generated, &g.samples)?;
    }
    remove_spill_dir(dir);
    run_dir.mark_started();
    super::inputs::write_config(dir, config)?;

    let directions = config.reverse.sliced_w1_directions;
    let generated_vs_initial = metrics::compare(&grid, &g.initial, &g.generated, directions);
    let mut outputs = Vec::new();
    let fields = [("initial", &g.initial), ("terminal", &g.terminal), ("generated", &g.generated)];
    let style = frames::FrameStyle::covering(&config.output, fields.iter().map(|(_, f)| f.as_slice()));
    // .npy files beside the dataset only on request (`output.snapshots`)
    let npy = config.output.snapshots;
    for (name, f) in fields {
        if npy {
            io::write_field_npy(&dir.join(format!("{name}.npy")), &grid, f)?;
            outputs.push(format!("{name}.npy"));
        }
        let title = format!("{}: {name}", config.name);
        frames::write_frame(&dir.join(format!("{name}.png")), &grid, f, &style, &title)?;
        outputs.push(format!("{name}.png"));
    }
    let mut samples_vs_initial = None;
    if !g.samples.is_empty() {
        if npy {
            io::write_positions(&dir.join("samples.npy"), &g.samples, grid.dim)?;
            outputs.push("samples.npy".into());
        }
        let hist = crate::reverse::particles::histogram(&grid, &g.samples, g.mass_initial);
        let image = if grid.dim == 2 {
            frames::scatter_figure(
                &g.samples,
                &grid,
                &config.output,
                &format!("{}: generated samples", config.name),
            )
        } else {
            frames::figure(&grid, &hist, &style, &format!("{}: histogram of the samples", config.name))
        };
        io::save_png(&dir.join("samples.png"), &image)?;
        outputs.push("samples.png".into());
        samples_vs_initial = Some(metrics::compare(&grid, &g.initial, &hist, directions));
    }
    let summary = GenerateSummary {
        name: config.name.clone(),
        device: device_name,
        dim: grid.dim,
        cells: grid.cells,
        eta: settings.eta,
        start: settings.start,
        mode: settings.mode,
        store_every: settings.store_every,
        t_final: config.run.t_final,
        generated_vs_initial,
        samples_vs_initial,
        generation: g,
        outputs,
    };
    run_dir.add_summary(None, &summary)?;
    run_dir.write_summary()?;
    Ok(summary)
}

crate::csv_row! {
    /// One row of filter.csv (its header is these names).
    #[derive(Clone, Debug, Serialize)]
    pub struct FilterIteration {
        pub iteration: usize,
        pub l1_to_input: f64,
        pub l1_to_previous: f64,
        pub total_variation: f64,
        pub entropy: f64,
        pub max: f64,
        pub mass: f64,
        pub seconds: f64,
    }
}

#[derive(Serialize)]
pub struct FilterSummary {
    pub name: String,
    /// `completed`, or `interrupted` (the iterates finished before the signal are kept).
    pub status: String,
    /// The iterations asked for (`fpgen resume` goes on to this many).
    pub iterations_requested: usize,
    pub iterations: Vec<FilterIteration>,
    pub eta: f64,
    pub start: crate::kinds::Start,
    pub mode: crate::kinds::ReverseMode,
    pub outputs: Vec<String>,
}

/// K forward + reverse cycles from the config's initial density (iterate 0). With
/// `resume`, the cycles go on from the last iterate that filter.csv records in `run_dir`
/// (each cycle depends only on the iterate before it, so they are the same bits).
pub fn filter_run(
    config: &Config,
    run_dir: &mut RunDir,
    iterations: usize,
    quiet: bool,
    device: &Device,
    resume: bool,
) -> Result<FilterSummary> {
    let dir = run_dir.path().to_path_buf();
    let dir = dir.as_path();
    if iterations == 0 {
        return Err(Error::Numerics("--iterations must be at least 1".into()));
    }
    let problem = Problem::from_config(config)?;
    let grid = problem.grid().clone();
    let input = problem.initial.clone();
    let settings = ReverseSettings::from_config(config);
    run_dir.mark_started();
    super::inputs::write_config(dir, config)?;
    let vol = grid.cell_volume();
    let l1 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() * vol;
    let row = |k: usize, f: &[f64], previous: &[f64], seconds: f64| FilterIteration {
        iteration: k,
        l1_to_input: l1(f, &input),
        l1_to_previous: l1(f, previous),
        total_variation: metrics::total_variation(&grid, f),
        entropy: metrics::shannon_entropy(&grid, f),
        max: f.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mass: f.iter().sum::<f64>() * vol,
        seconds,
    };
    // each iterate is written as it finishes, so an interrupted filter keeps them
    let csv_path = dir.join("filter.csv");
    let mut outputs = vec!["filter.csv".to_string(), "strip.png".to_string()];
    let (mut csv, mut rows, mut iterates) = if resume {
        let rows: Vec<FilterIteration> = io::read_rows(&csv_path)?;
        let mut iterates = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            if r.iteration != k {
                return Err(Error::Data {
                    path: csv_path.clone(),
                    message: format!("row {k} is iteration {}", r.iteration),
                });
            }
            // each iterate from its .npy file, else from run.zarr
            let npy = dir.join(format!("iterate_{k}.npy"));
            if npy.exists() {
                iterates.push(crate::config::npy::read_field_npy(&npy, &grid)?);
                outputs.push(format!("iterate_{k}.npy"));
            } else {
                iterates.push(IterateDataset::read(dir, k)?);
            }
        }
        if iterates.is_empty() {
            return Err(Error::Data { path: csv_path.clone(), message: "no iterate to resume from".into() });
        }
        log::info!("filter: resuming after iteration {}", iterates.len() - 1);
        (io::CsvWriter::append(&csv_path)?, rows, iterates)
    } else {
        let mut csv = io::CsvWriter::for_rows::<FilterIteration>(&csv_path)?;
        let first = row(0, &input, &input, 0.0);
        csv.write(&first)?;
        if config.output.snapshots {
            io::write_field_npy(&dir.join("iterate_0.npy"), &grid, &input)?;
            outputs.push("iterate_0.npy".into());
        }
        (csv, vec![first], vec![input.clone()])
    };
    let device_name = device.gpu().map_or("cpu (f64)".to_string(), |d| format!("{} (f32)", d.summary.name));
    let mut dataset = match config.output.dataset {
        true => {
            let kept = if resume { iterates.len() } else { 0 };
            let mut d = IterateDataset::open(dir, config, &grid, &device_name, kept)?;
            if !resume {
                d.push(&input)?;
            }
            Some(d)
        }
        false => None,
    };
    let mut stop = None;
    for k in iterates.len()..=iterations {
        if !quiet {
            log::info!("filter iteration {k} of {iterations}");
        }
        let mut progress = phase_progress(quiet);
        let previous = iterates.last().cloned().unwrap_or_default();
        let g = match generate_from(
            &problem,
            previous.clone(),
            &settings,
            &spill_dir(dir),
            device,
            &mut progress,
            &mut NoPath,
        ) {
            Ok(g) => g,
            Err(Error::Interrupted(why)) => {
                stop = Some(format!("iteration {k}: {why}"));
                break;
            }
            Err(e) => return Err(e),
        };
        let seconds = g.forward_seconds + g.reverse_seconds;
        rows.push(row(k, &g.generated, &previous, seconds));
        csv.write(&rows[k])?;
        if config.output.snapshots {
            io::write_field_npy(&dir.join(format!("iterate_{k}.npy")), &grid, &g.generated)?;
            outputs.push(format!("iterate_{k}.npy"));
        }
        if let Some(d) = &mut dataset {
            d.push(&g.generated)?;
        }
        iterates.push(g.generated);
    }
    remove_spill_dir(dir);
    let style = frames::FrameStyle::covering(&config.output, iterates.iter().map(|f| f.as_slice()));
    let images: Vec<image::RgbImage> = iterates
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let title = if k == 0 { "input".to_string() } else { format!("iteration {k}") };
            frames::figure(&grid, f, &style, &title)
        })
        .collect();
    io::save_png(&dir.join("strip.png"), &strip(&images))?;
    let summary = FilterSummary {
        name: config.name.clone(),
        status: if stop.is_some() { "interrupted" } else { "completed" }.to_string(),
        iterations_requested: iterations,
        iterations: rows,
        eta: settings.eta,
        start: settings.start,
        mode: settings.mode,
        outputs,
    };
    run_dir.add_summary(None, &summary)?;
    run_dir.write_summary()?;
    if let Some(why) = stop {
        return Err(Error::Interrupted(format!("{why}; the finished iterates are written")));
    }
    Ok(summary)
}

/// Images side by side, separated by a white gap.
fn strip(images: &[image::RgbImage]) -> image::RgbImage {
    let gap = 4;
    let height = images.iter().map(|i| i.height()).max().unwrap_or(1);
    let width = images.iter().map(|i| i.width() + gap).sum::<u32>().saturating_sub(gap).max(1);
    let mut out = image::RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let mut x = 0;
    for img in images {
        image::imageops::replace(&mut out, img, x as i64, 0);
        x += img.width() + gap;
    }
    out
}
