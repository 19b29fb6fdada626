//! What a run directory keeps of its inputs: the resolved config.toml and, for inputs
//! given in memory (the Python package's arrays), their .npy copies where config.toml's
//! relative `path` finds them, so that `fpgen run RUN_DIR/config.toml` runs it again.

use std::path::Path;

use crate::config::{Config, DiffusionConfig};
use crate::error::Result;
use crate::io;

/// config.toml, and the initial field when it was given as an array.
pub fn write_config(dir: &Path, config: &Config) -> Result<()> {
    io::write_text(&dir.join("config.toml"), &config.to_toml_string())?;
    if let (Some(field), Some(path)) = (&config.initial.field, &config.initial.path) {
        io::write_field_npy(&dir.join(path), &config.grid()?, field)?;
    }
    Ok(())
}

/// config.toml, and the data points when they were given as an array.
pub fn write_diffusion_config(dir: &Path, config: &DiffusionConfig) -> Result<()> {
    io::write_text(&dir.join("config.toml"), &config.to_toml_string())?;
    if let (Some(array), Some(path)) = (&config.data.points_array, &config.data.path) {
        io::write_positions(&dir.join(path), &array.0, array.1)?;
    }
    Ok(())
}
