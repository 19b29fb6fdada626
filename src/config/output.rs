//! [output]: snapshots, the dataset and frames.

use serde::{Deserialize, Serialize};

use super::defaults::*;
pub use crate::kinds::{Colormap, MovieFormat};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Write PNG frames at output times.
    #[serde(default = "yes")]
    pub frames: bool,
    /// Write snapshots/f_<step>.npy at output times beside the dataset (f_final.npy is
    /// always written). `output.npy` is the same key.
    #[serde(default, alias = "npy")]
    pub snapshots: bool,
    /// Write the run's dataset (run.zarr, Zarr v3: xarray.open_zarr opens it).
    #[serde(default = "yes")]
    pub dataset: bool,
    #[serde(default)]
    pub colormap: Colormap,
    /// Colour (2D) or vertical axis (1D) on a log10 scale.
    #[serde(default)]
    pub log_scale: bool,
    /// Decades shown below the maximum on a log scale.
    #[serde(default = "default_log_decades")]
    pub log_decades: f64,
    /// [min, max] of the colour/vertical range of every frame; default: the range of the
    /// initial density (linear: [min(0, min f0), max f0]; log: log_decades below max f0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_range: Option<[f64; 2]>,
    /// Frames are upscaled (nearest cell) to at least this many pixels per side.
    #[serde(default = "default_min_pixels")]
    pub min_pixels: u32,
    /// A movie of the frames at the end of the run: "gif" or "mp4" (ffmpeg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<MovieFormat>,
    /// Frames per second of the movie.
    #[serde(default = "default_movie_fps")]
    pub movie_fps: f64,
}

fn default_movie_fps() -> f64 {
    4.0
}

impl OutputSection {
    /// The movie settings are usable here: a positive frame rate, and ffmpeg on PATH for
    /// an MP4.
    pub fn check_movie(&self) -> Result<(), crate::error::ConfigError> {
        if !(self.movie_fps.is_finite() && self.movie_fps > 0.0 && self.movie_fps <= 120.0) {
            return Err(crate::error::ConfigError::new(
                "output.movie_fps",
                format!("must be in (0, 120] (got {})", self.movie_fps),
            ));
        }
        if self.movie == Some(MovieFormat::Mp4) && !crate::resources::ffmpeg_available() {
            return Err(crate::error::ConfigError::new(
                "output.movie",
                "\"mp4\" needs ffmpeg on PATH, and there is none; use \"gif\" or install ffmpeg",
            ));
        }
        Ok(())
    }
}

impl Default for OutputSection {
    fn default() -> Self {
        Self {
            frames: true,
            snapshots: false,
            dataset: true,
            colormap: Colormap::default(),
            log_scale: false,
            log_decades: default_log_decades(),
            color_range: None,
            min_pixels: default_min_pixels(),
            movie: None,
            movie_fps: default_movie_fps(),
        }
    }
}
