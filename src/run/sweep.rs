//! Parameter sweeps: a spec (a base config, overrides for every point, axes taken as a
//! product and zipped groups whose keys vary together) expanded into points, each a run
//! directory `<out>/<sweep>/<point>` named from its values, and the manifest `sweep.json`
//! that lists them. Running a point (`run_point`) skips a finished one, resumes an
//! interrupted one from its checkpoint and reruns a failed one.
//!
//! ```toml
//! base = "../configs/supercritical_2d.toml"   # relative to the spec's folder
//! command = "run"                             # or "generate"
//! set = { "grid.cells" = 129 }                # every point
//! [axes]                                      # the product of these
//! "model.gamma" = [1.5, 2.0, 3.0]
//! "initial.mass_ratio" = [0.5, 0.9, 1.1]
//! [zip.resolution]                            # one axis: its keys vary together
//! "grid.cells" = [129, 257]
//! "run.t_final" = [1.0, 0.5]
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{ConfigError, Error, Result};

/// What each point runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SweepCommand {
    #[default]
    Run,
    Generate,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    name: String,
    base: PathBuf,
    #[serde(default)]
    command: SweepCommand,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    zip: toml::Table,
}

/// One dimension of the sweep: a key (a product axis) or a zipped group of keys.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Axis {
    /// The key itself, or the zipped group's name.
    pub name: String,
    pub keys: Vec<String>,
    /// values[k][i]: key k at position i.
    pub values: Vec<Vec<toml::Value>>,
}

impl Axis {
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One point: its index, its run name and its key values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Point {
    pub index: usize,
    pub name: String,
    /// Position along each axis.
    pub position: Vec<usize>,
    /// (key, value) for every swept key.
    pub values: Vec<(String, toml::Value)>,
}

/// A parsed spec with its points.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub name: String,
    pub spec_path: PathBuf,
    pub base: PathBuf,
    pub command: SweepCommand,
    pub set: Vec<(String, toml::Value)>,
    pub axes: Vec<Axis>,
    pub points: Vec<Point>,
}

/// The manifest written beside the points.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub spec: PathBuf,
    pub base: PathBuf,
    pub command: SweepCommand,
    pub set: Vec<(String, toml::Value)>,
    pub axes: Vec<Axis>,
    pub points: Vec<Point>,
}

pub const MANIFEST: &str = "sweep.json";

fn bad(key: impl Into<String>, message: impl Into<String>) -> Error {
    ConfigError::new(key, message).into()
}

/// `key=value` as the CLI's `--set` takes it.
pub fn override_item(key: &str, value: &toml::Value) -> String {
    format!("{key}={value}")
}

/// A value as it appears in a point's name: numbers as written, strings bare, only
/// letters, digits, '.', '-' and '+' kept.
fn label(value: &toml::Value) -> String {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    };
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "+-.".contains(c) { c } else { '_' }).collect()
}

impl Sweep {
    /// Read and expand a spec file (the points' configs are checked by `check_points`).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::config::read_config_text(path)?;
        let origin = path.display().to_string();
        let spec: SpecFile = toml::from_str(&text)
            .map_err(|e| Error::ConfigSyntax { path: origin.clone(), message: e.to_string() })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        let name = if spec.name.is_empty() {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            spec.name.clone()
        };
        crate::io::run_dir::check_run_name(&name)?;
        let base = if spec.base.is_relative() { folder.join(&spec.base) } else { spec.base.clone() };
        let mut axes = Vec::new();
        for (key, list) in &spec.axes {
            let values = list_of(&format!("axes.\"{key}\""), list)?;
            axes.push(Axis { name: key.clone(), keys: vec![key.clone()], values: vec![values] });
        }
        for (group, table) in &spec.zip {
            let table = table
                .as_table()
                .ok_or_else(|| bad(format!("zip.{group}"), "must be a table of key = [values]"))?;
            let mut keys = Vec::new();
            let mut values = Vec::new();
            for (key, list) in table {
                keys.push(key.clone());
                values.push(list_of(&format!("zip.{group}.\"{key}\""), list)?);
            }
            if values.iter().any(|v| v.len() != values[0].len()) || values.is_empty() {
                return Err(bad(
                    format!("zip.{group}"),
                    "needs lists of one length (the keys vary together)",
                ));
            }
            axes.push(Axis { name: group.clone(), keys, values });
        }
        let mut all_keys: Vec<&String> = axes.iter().flat_map(|a| &a.keys).collect();
        all_keys.sort();
        if let Some(w) = all_keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(w[0].clone(), "is swept twice (in [axes] and [zip], or in two groups)"));
        }
        let set: Vec<(String, toml::Value)> = spec.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let points = expand(&axes);
        Ok(Self { name, spec_path: path.to_path_buf(), base, command: spec.command, set, axes, points })
    }

    /// Every point's config, checked, so that a bad value is named (with its point) before
    /// anything runs. A task running one point checks only its own.
    pub fn check_points(&self) -> Result<()> {
        for point in &self.points {
            self.config(point)?;
        }
        Ok(())
    }

    /// The config of a point: the base, the spec's `set`, the point's values; named after
    /// the point.
    pub fn config(&self, point: &Point) -> Result<Config> {
        let overrides: Vec<String> = self
            .set
            .iter()
            .chain(&point.values)
            .map(|(k, v)| override_item(k, v))
            .chain(std::iter::once(override_item("name", &toml::Value::String(point.name.clone()))))
            .collect();
        Config::load(&self.base, &overrides).map_err(|e| match e {
            Error::Config(c) => {
                Error::Config(ConfigError::new(c.key, format!("{} (point {})", c.message, point.name)))
            }
            other => other,
        })
    }

    pub fn manifest(&self) -> Manifest {
        Manifest {
            name: self.name.clone(),
            spec: self.spec_path.clone(),
            base: self.base.clone(),
            command: self.command,
            set: self.set.clone(),
            axes: self.axes.clone(),
            points: self.points.clone(),
        }
    }

    /// `<out>/<name>`, with sweep.json written (or checked against the one there: a spec
    /// whose points changed needs a new name).
    pub fn prepare(&self, out: &Path) -> Result<PathBuf> {
        let dir = out.join(&self.name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(MANIFEST);
        let manifest = self.manifest();
        if path.exists() {
            let old = read_manifest(&dir)?;
            if old.points != manifest.points || old.base != manifest.base || old.set != manifest.set {
                return Err(Error::Data {
                    path,
                    message: "lists other points, base or settings than the spec: give the sweep a new name"
                        .into(),
                });
            }
        } else {
            crate::io::write_json(&path, &manifest)?;
        }
        Ok(dir)
    }
}

/// The manifest of a sweep directory.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Data { path, message: e.to_string() })
}

fn list_of(key: &str, value: &toml::Value) -> Result<Vec<toml::Value>> {
    match value {
        toml::Value::Array(items) if !items.is_empty() => Ok(items.clone()),
        _ => Err(bad(key, "must be a non-empty list of values")),
    }
}

/// The product of the axes, the last varying fastest; names `<index>_<key>-<value>_…`
/// with the last component of each key (the full key where two share it).
fn expand(axes: &[Axis]) -> Vec<Point> {
    let keys: Vec<&String> = axes.iter().flat_map(|a| &a.keys).collect();
    let short = |key: &str| -> String {
        let last = key.rsplit('.').next().unwrap_or(key);
        let shared = keys.iter().filter(|k| k.rsplit('.').next() == Some(last)).count() > 1;
        if shared {
            key.replace('.', "-")
        } else {
            last.to_string()
        }
    };
    let count: usize = axes.iter().map(Axis::len).product();
    let width = count.saturating_sub(1).to_string().len();
    (0..count)
        .map(|index| {
            let mut rest = index;
            let mut position = vec![0; axes.len()];
            for (a, axis) in axes.iter().enumerate().rev() {
                position[a] = rest % axis.len();
                rest /= axis.len();
            }
            let values: Vec<(String, toml::Value)> = axes
                .iter()
                .zip(&position)
                .flat_map(|(axis, &i)| {
                    axis.keys.iter().zip(&axis.values).map(move |(k, v)| (k.clone(), v[i].clone()))
                })
                .collect();
            let mut name = format!("{index:0width$}");
            for (key, value) in &values {
                name.push_str(&format!("_{}-{}", short(key), label(value)));
            }
            Point { index, name, position, values }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_and_zip_expand_in_order_with_names() {
        let axes = vec![
            Axis {
                name: "model.gamma".into(),
                keys: vec!["model.gamma".into()],
                values: vec![vec![1.5.into(), 2.0.into()]],
            },
            Axis {
                name: "res".into(),
                keys: vec!["grid.cells".into(), "run.t_final".into()],
                values: vec![
                    vec![129.into(), 257.into(), 513.into()],
                    vec![1.0.into(), 0.5.into(), 0.25.into()],
                ],
            },
        ];
        let points = expand(&axes);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0].name, "0_gamma-1.5_cells-129_t_final-1");
        assert_eq!(points[4].position, vec![1, 1]);
        assert_eq!(points[4].name, "4_gamma-2_cells-257_t_final-0.5");
    }
}
