//! `fpgen render RUN_DIR`: draw the snapshots of a finished run again with new colour
//! settings, one colour range for all of them (by default the range of every snapshot).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::frames::{self, FrameStyle};
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
    let snapshot_dir = run_dir.join("snapshots");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&snapshot_dir)
        .map_err(|e| Error::io(&snapshot_dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Data {
            path: snapshot_dir,
            message: "no snapshots (*.npy) to render (was the run made with output.snapshots = false?)"
                .into(),
        });
    }
    // two passes over the files (range, then frames): one field in memory at a time
    let mut extremes = frames::Extremes::default();
    if config.output.color_range.is_none() {
        for path in &paths {
            extremes.add(&crate::config::npy::read_field_npy(path, &grid)?);
        }
    }
    let style = FrameStyle::for_extremes(&config.output, &extremes);
    let out_dir = out_dir.map(Path::to_path_buf).unwrap_or_else(|| run_dir.join("frames"));
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(&out_dir, e))?;
    let mut written = Vec::with_capacity(paths.len());
    for path in &paths {
        let png = out_dir.join(path.with_extension("png").file_name().unwrap_or_default());
        let field = crate::config::npy::read_field_npy(path, &grid)?;
        if colours.bare {
            super::save_png(&png, &frames::render(&grid, &field, &style))?;
        } else {
            let title =
                format!("{}: {}", config.name, path.file_stem().unwrap_or_default().to_string_lossy());
            frames::write_frame(&png, &grid, &field, &style, &title)?;
        }
        written.push(png);
    }
    Ok(RenderReport { frames: written, scale: style.scale })
}
