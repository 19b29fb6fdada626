//! Run outputs: .npy arrays, PNG frames, diagnostics CSV, summary JSON, run folders.

pub mod frames;
pub mod plot;
pub mod rerender;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Write a field as float64 .npy with shape [N] or [N, N] (index order [ix, iy]).
pub fn write_field_npy(path: &Path, grid: &Grid, field: &[f64]) -> Result<()> {
    let data_err = |e: String| Error::Data { path: path.to_path_buf(), message: e };
    let array =
        ndarray::ArrayD::from_shape_vec(grid.shape(), field.to_vec()).map_err(|e| data_err(e.to_string()))?;
    ndarray_npy::write_npy(path, &array).map_err(|e| data_err(format!("cannot write .npy: {e}")))
}

/// Create `dir` (and parents). An existing non-empty directory is refused unless
/// `force`, in which case it is emptied first.
pub fn prepare_run_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.next().is_some();
        if non_empty {
            if !force {
                return Err(Error::RunDirExists(dir.to_path_buf()));
            }
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
    }
    for sub in ["snapshots", "frames"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

pub fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: e.to_string() })?;
    write_text(path, &(text + "\n"))
}

/// A CSV file written row by row (flushed at each row so a killed run keeps its rows).
pub struct CsvWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl CsvWriter {
    pub fn create(path: &Path, header: &[&str]) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = Self { path: path.to_path_buf(), file: std::io::BufWriter::new(file) };
        w.line(&header.join(","))?;
        Ok(w)
    }

    pub fn row(&mut self, values: &[f64]) -> Result<()> {
        let text: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
        self.line(&text.join(","))
    }

    /// A row of text fields, quoted where they hold a comma, quote or line break.
    pub fn text_row(&mut self, fields: &[String]) -> Result<()> {
        let quoted: Vec<String> = fields
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        self.line(&quoted.join(","))
    }

    fn line(&mut self, text: &str) -> Result<()> {
        use std::io::Write;
        writeln!(self.file, "{text}").and_then(|_| self.file.flush()).map_err(|e| Error::io(&self.path, e))
    }
}
