//! [output]: snapshots, the dataset and frames.

use serde::{Deserialize, Serialize};

use super::defaults::*;
pub use crate::kinds::Colormap;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Write PNG frames at output times.
    #[serde(default = "yes")]
    pub frames: bool,
    /// Write snapshots/f_<step>.npy at output times (f_final.npy is always written).
    #[serde(default = "yes")]
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
}

impl Default for OutputSection {
    fn default() -> Self {
        Self {
            frames: true,
            snapshots: true,
            dataset: true,
            colormap: Colormap::default(),
            log_scale: false,
            log_decades: default_log_decades(),
            color_range: None,
            min_pixels: default_min_pixels(),
        }
    }
}
