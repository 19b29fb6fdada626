//! `fpgen movie`: a movie of a finished run's frames (frames/*.png, in step order).

use std::path::PathBuf;

use anyhow::{Context, Result};

use fpgen::config::MovieFormat;

#[derive(clap::Args)]
pub struct Args {
    /// The run directory (with its frames/).
    pub run_dir: PathBuf,
    /// gif (written by fpgen) or mp4 (through ffmpeg, which must be on PATH).
    #[arg(long, value_enum, default_value = "gif")]
    pub format: MovieFormat,
    /// Frames per second.
    #[arg(long, default_value_t = 4.0)]
    pub fps: f64,
}

pub fn run(args: Args) -> Result<()> {
    let Args { run_dir, format, fps } = args;
    anyhow::ensure!(fps.is_finite() && fps > 0.0 && fps <= 120.0, "--fps must be in (0, 120] (got {fps})");
    let frames =
        fpgen::io::movie::frames_of(&run_dir).with_context(|| format!("movie {}", run_dir.display()))?;
    let out = run_dir.join(format.file_name());
    fpgen::io::movie::write_movie(&frames, &out, format, fps)
        .with_context(|| format!("movie {}", run_dir.display()))?;
    log::info!("{} frames -> {}", frames.len(), out.display());
    Ok(())
}
