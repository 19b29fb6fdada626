//! `fpgen render`: draw the snapshots of a finished run again with new colour settings, one
//! colour range for all (default: the range of every snapshot).

use std::path::PathBuf;

use anyhow::{Context, Result};

use fpgen::config::Colormap;

#[derive(clap::Args)]
pub struct Args {
    pub run_dir: PathBuf,
    #[arg(long, value_enum)]
    pub colormap: Option<Colormap>,
    /// log10 colour scale.
    #[arg(long, conflicts_with = "linear")]
    pub log_scale: bool,
    /// Linear colour scale.
    #[arg(long)]
    pub linear: bool,
    /// Decades below the maximum shown on a log scale.
    #[arg(long)]
    pub log_decades: Option<f64>,
    /// Fixed colour range.
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], allow_negative_numbers = true)]
    pub range: Option<Vec<f64>>,
    /// Frames are upscaled to at least this many pixels per side.
    #[arg(long)]
    pub min_pixels: Option<u32>,
    /// Where the PNGs go (default: RUN_DIR/frames, replacing the run's frames).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Only the colour-mapped field, without axes, colour bar or title.
    #[arg(long)]
    pub bare: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { run_dir, colormap, log_scale, linear, log_decades, range, min_pixels, out_dir, bare } = args;
    let colours = fpgen::io::rerender::ColourOverrides {
        colormap,
        log_scale: if log_scale {
            Some(true)
        } else if linear {
            Some(false)
        } else {
            None
        },
        log_decades,
        range: range.map(|r| [r[0], r[1]]),
        min_pixels,
        bare,
    };
    let report = fpgen::io::rerender::rerender(&run_dir, &colours, out_dir.as_deref())
        .with_context(|| format!("render {}", run_dir.display()))?;
    let s = report.scale;
    log::info!(
        "rendered {} frames, {} colour range [{:e}, {:e}]",
        report.frames.len(),
        if s.log { "log" } else { "linear" },
        s.lo,
        s.hi
    );
    Ok(())
}
