//! Run outputs: the run directory (`RunDir`), .npy arrays, PNG frames, diagnostics CSV,
//! JSON; every file but the row-by-row CSVs is written atomically.

pub mod colormap_tables;
pub mod figure;
pub mod frames;
pub mod movie;
pub mod plot;
pub mod provenance;
pub mod rerender;
pub mod run_dir;
pub mod zarr;

pub use run_dir::RunDir;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Write a file atomically: into a temporary sibling, then renamed over `path`, so that
/// a crash or a full disk never leaves a truncated file under the final name. Missing
/// parent folders are created (a run directory holds only what is written into it).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut file| write(&mut file).and_then(|_| file.sync_data()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Write an array as .npy (atomically).
pub fn write_npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(
    path: &Path,
    array: &ndarray::Array<A, D>,
) -> Result<()> {
    use ndarray_npy::WriteNpyExt;
    write_atomic(path, |file| {
        let mut buffered = std::io::BufWriter::new(file);
        array.write_npy(&mut buffered).map_err(std::io::Error::other)?;
        std::io::Write::flush(&mut buffered)
    })
}

/// Write a field as float64 .npy with shape [N] or [N, N] (index order [ix, iy]).
pub fn write_field_npy(path: &Path, grid: &Grid, field: &[f64]) -> Result<()> {
    let array = ndarray::ArrayD::from_shape_vec(grid.shape(), field.to_vec())
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: e.to_string() })?;
    write_npy(path, &array)
}

/// Write points (particles, samples) as float64 .npy of shape (n, d).
pub fn write_positions(path: &Path, x: &[f64], dim: usize) -> Result<()> {
    let array = ndarray::Array2::from_shape_vec((x.len() / dim, dim), x.to_vec())
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: e.to_string() })?;
    write_npy(path, &array)
}

/// Write an image as PNG (atomically).
pub fn save_png(path: &Path, image: &image::RgbImage) -> Result<()> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: format!("cannot encode PNG: {e}") })?;
    write_atomic(path, |file| std::io::Write::write_all(file, bytes.get_ref()))
}

pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |file| std::io::Write::write_all(file, text.as_bytes()))
}

pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: e.to_string() })?;
    write_text(path, &(text + "\n"))
}

/// A row type of a CSV file: its header is its field names, in order.
pub trait CsvRow: Sized {
    const HEADER: &'static [&'static str];
    fn values(&self) -> Vec<f64>;
    /// The fields as written: integers as integers, floats in exponent form.
    fn texts(&self) -> Vec<String>;
    /// The row of these values (None: too few).
    fn from_values(values: &[f64]) -> Option<Self>;
}

/// A value of a CSV column: integers are written as integers (so that `int(row["step"])`
/// works), floats in exponent form with all their digits.
pub trait CsvValue {
    fn text(&self) -> String;
}

macro_rules! csv_integers {
    ($($t:ty),*) => {$(
        impl CsvValue for $t {
            fn text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
csv_integers!(u32, u64, usize, i64);

impl CsvValue for f64 {
    fn text(&self) -> String {
        format!("{self:e}")
    }
}

/// The rows of a CSV file of `R` written by `CsvWriter` (the header checked).
pub fn read_rows<R: CsvRow>(path: &Path) -> Result<Vec<R>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let bad = |message: String| Error::Data { path: path.to_path_buf(), message };
    if lines.next() != Some(R::HEADER.join(",").as_str()) {
        return Err(bad(format!("the header is not `{}`", R::HEADER.join(","))));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let values: std::result::Result<Vec<f64>, _> = line.split(',').map(str::parse).collect();
            values
                .ok()
                .filter(|v| v.len() == R::HEADER.len())
                .and_then(|v| R::from_values(&v))
                .ok_or_else(|| bad(format!("row {} is not {} numbers: `{line}`", i + 1, R::HEADER.len())))
        })
        .collect()
}

/// Define a struct of numeric fields that is a `CsvRow`: the header is generated from the
/// field names, so the two cannot drift apart.
#[macro_export]
macro_rules! csv_row {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        impl $crate::io::CsvRow for $name {
            const HEADER: &'static [&'static str] = &[$(stringify!($field)),*];
            fn values(&self) -> Vec<f64> {
                vec![$(self.$field as f64),*]
            }
            fn texts(&self) -> Vec<String> {
                vec![$($crate::io::CsvValue::text(&self.$field)),*]
            }
            fn from_values(values: &[f64]) -> Option<Self> {
                let mut it = values.iter();
                Some(Self { $($field: *it.next()? as $ty),* })
            }
        }
    };
}

/// A CSV file written row by row (flushed at each row so a killed run keeps its rows).
pub struct CsvWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl CsvWriter {
    pub fn create(path: &Path, header: &[&str]) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = Self { path: path.to_path_buf(), file: std::io::BufWriter::new(file) };
        w.line(&header.join(","))?;
        Ok(w)
    }

    /// An existing CSV, continued at its end (a resumed run).
    pub fn append(path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self { path: path.to_path_buf(), file: std::io::BufWriter::new(file) })
    }

    /// A file of `R` rows, its header from the row type.
    pub fn for_rows<R: CsvRow>(path: &Path) -> Result<Self> {
        Self::create(path, R::HEADER)
    }

    pub fn write<R: CsvRow>(&mut self, row: &R) -> Result<()> {
        self.line(&row.texts().join(","))
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
