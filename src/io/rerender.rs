//! `fpgen render RUN_DIR`: draw the snapshots of a finished run again with new colour
//! settings, one colour range for all of them (by default the range of every snapshot).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::frames::{self, FrameStyle};
use super::zarr::ZarrStore;
use crate::config::{Colormap, Config};
use crate::error::{Error, Result};

/// Colour settings that replace the run's `[output]` ones (None: keep the run's).
#[derive(Clone, Debug, Default)]
pub struct ColourOverrides {
    pub colormap: Option<Colormap>,
    pub log_scale: Option<bool>,
    pub log_decades: Option<f64>,
    /// A fixed range; without it the range covers every snapshot of the run.
    pub range: Option<[f64; 2]>,
    pub min_pixels: Option<u32>,
    /// Only the colour-mapped field (no axes, colour bar or title): for compositing.
    pub bare: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RenderReport {
    pub frames: Vec<PathBuf>,
    pub scale: frames::Scale,
}

/// Re-render `run_dir/snapshots/*.npy` into `out_dir` (default `run_dir/frames`).
pub fn rerender(run_dir: &Path, colours: &ColourOverrides, out_dir: Option<&Path>) -> Result<RenderReport> {
    let mut config = Config::load(&run_dir.join("config.toml"), &[])?;
    let o = &mut config.output;
    // the run's own range does not carry over: the default is the snapshots' range
    o.color_range = colours.range;
    if let Some(v) = colours.colormap {
        o.colormap = v;
    }
    if let Some(v) = colours.log_scale {
        o.log_scale = v;
    }
    if let Some(v) = colours.log_decades {
        o.log_decades = v;
    }
    if let Some(v) = colours.min_pixels {
        o.min_pixels = v;
    }
    config.validate()?;
    let grid = config.grid()?;
    let snapshots = snapshots_of(run_dir, &config.name)?;
    let load = |s: &Snapshot| match &s.source {
        Source::Npy(path) => crate::config::npy::read_field_npy(path, &grid),
        Source::Stored(store, k) => store.read_slab("f", *k),
    };
    // two passes over the snapshots (range, then frames): one field in memory at a time
    let mut extremes = frames::Extremes::default();
    if config.output.color_range.is_none() {
        for s in &snapshots {
            extremes.add(&load(s)?);
        }
    }
    let style = FrameStyle::for_extremes(&config.output, &extremes);
    let out_dir = out_dir.map(Path::to_path_buf).unwrap_or_else(|| run_dir.join("frames"));
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(&out_dir, e))?;
    let mut written = Vec::with_capacity(snapshots.len());
    for s in &snapshots {
        let png = out_dir.join(format!("{}.png", s.stem));
        let field = load(s)?;
        if colours.bare {
            super::save_png(&png, &frames::render(&grid, &field, &style))?;
        } else {
            frames::write_frame(&png, &grid, &field, &style, &s.title)?;
        }
        written.push(png);
    }
    Ok(RenderReport { frames: written, scale: style.scale })
}

/// Where a snapshot's field is.
enum Source {
    Npy(PathBuf),
    Stored(std::rc::Rc<ZarrStore>, usize),
}

/// A snapshot to draw: its frame's file stem and title, and its field.
struct Snapshot {
    stem: String,
    title: String,
    source: Source,
}

/// The run's snapshots: snapshots/*.npy when it wrote them, else run.zarr's f.
fn snapshots_of(run_dir: &Path, name: &str) -> Result<Vec<Snapshot>> {
    let snapshot_dir = run_dir.join("snapshots");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&snapshot_dir)
        .map(|entries| entries.filter_map(|entry| entry.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "npy"));
    paths.sort();
    if !paths.is_empty() {
        return Ok(paths
            .into_iter()
            .map(|path| {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                Snapshot { title: format!("{name}: {stem}"), stem, source: Source::Npy(path) }
            })
            .collect());
    }
    let dataset = run_dir.join("run.zarr");
    let store = match ZarrStore::open(&dataset) {
        Ok(store) if store.len("f") > 0 => std::rc::Rc::new(store),
        _ => {
            return Err(Error::Data {
                path: snapshot_dir,
                message: "no snapshots to render: neither snapshots/*.npy nor run.zarr (was the run made with output.snapshots = false and output.dataset = false?)".into(),
            })
        }
    };
    let (times, steps) = (store.read_whole("t")?, store.read_whole("step")?);
    Ok(times
        .iter()
        .zip(&steps)
        .enumerate()
        .map(|(k, (t, step))| Snapshot {
            stem: format!("f_{:08}", *step as u64),
            title: format!("{name}   t = {t:.4}"),
            source: Source::Stored(store.clone(), k),
        })
        .collect())
}
