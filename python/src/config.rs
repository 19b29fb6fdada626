//! `fpgen.Config`: a TOML configuration held as its table, validated by the library on
//! every change with the CLI's own parser and checks (so the errors name the same keys),
//! plus the arrays a notebook hands over (an initial density).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{to_toml, toml_to_py};
use crate::errors::{config_error, to_py};
use fpgen::config::{fill_name_and_path, parse_with_overrides, Config, DiffusionConfig};

/// The run name of a config built from a dict without `name`.
const DEFAULT_NAME: &str = "run";

/// A configuration: a forward config (`fpgen run`, `generate`, `filter`) or a
/// score-based diffusion config (`[data]`: `fpgen sample`, `check-theory`).
///
/// Build it with ``Config.from_toml(path)`` or ``Config({...})`` (the TOML layout as
/// nested dicts), change keys with ``cfg.set("grid.cells", 513)`` or ``cfg.update({...})``;
/// every change is validated at once and a bad key or value raises ``fpgen.ConfigError``
/// naming it, as the CLI does.
#[pyclass(name = "Config", module = "fpgen", from_py_object)]
#[derive(Clone)]
pub struct PyConfig {
    table: toml::Table,
    /// Where the config came from (a file, or "<dict>"), for the errors.
    origin: String,
    /// The file it was read from: relative paths are taken from its folder.
    file: Option<PathBuf>,
    /// An initial density given as an array (`initial_from_array`).
    initial_field: Option<Arc<Vec<f64>>>,
}

/// A validated config of either kind (short-lived: the size difference does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Validated {
    Forward(Config),
    Diffusion(DiffusionConfig),
}

impl PyConfig {
    fn is_diffusion(&self) -> bool {
        self.table.contains_key("data")
    }

    /// Validate `table` as this config's kind (the library's parser and checks).
    fn validate_table(&self, table: &toml::Table) -> fpgen::Result<Validated> {
        let text = toml::to_string(table)
            .map_err(|e| fpgen::Error::ConfigSyntax { path: self.origin.clone(), message: e.to_string() })?;
        let file = self.file.as_deref().unwrap_or(Path::new(DEFAULT_NAME));
        if self.is_diffusion() {
            let mut cfg = DiffusionConfig::from_toml_str(&text, &self.origin, &[])?;
            fill_name_and_path(file, &mut cfg.name, cfg.data.path.as_mut());
            Ok(Validated::Diffusion(cfg))
        } else {
            let mut cfg: Config = fpgen::config::parse_config(&text, &self.origin, &[])?;
            fill_name_and_path(file, &mut cfg.name, cfg.initial.path.as_mut());
            cfg.initial.field = self.initial_field.clone();
            cfg.resolve_and_validate()?;
            Ok(Validated::Forward(cfg))
        }
    }

    pub fn validated(&self) -> PyResult<Validated> {
        self.validate_table(&self.table).map_err(to_py)
    }

    /// The forward config, or a ConfigError saying this is a diffusion config.
    pub fn forward(&self, what: &str) -> PyResult<Config> {
        match self.validated()? {
            Validated::Forward(cfg) => Ok(cfg),
            Validated::Diffusion(_) => Err(config_error(
                "data",
                format!("makes this a score-based diffusion config; {what} needs a forward config ([model], [grid], [initial], [run])"),
            )),
        }
    }

    /// The diffusion config, or a ConfigError saying this is a forward config.
    pub fn diffusion(&self, what: &str) -> PyResult<DiffusionConfig> {
        match self.validated()? {
            Validated::Diffusion(cfg) => Ok(cfg),
            Validated::Forward(_) => Err(config_error(
                "data",
                format!(
                    "is missing: {what} needs a score-based diffusion config ([data], [sampler], [grid])"
                ),
            )),
        }
    }

    /// Apply `key = value` as the CLI's `--set` does, validate, and keep it.
    fn apply(&mut self, items: &[(String, toml::Value)]) -> PyResult<()> {
        let overrides: Vec<String> = items.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = toml::to_string(&self.table).map_err(|e| config_error("", e))?;
        let table = parse_with_overrides(&text, &self.origin, &overrides).map_err(to_py)?;
        self.validate_table(&table).map_err(to_py)?;
        self.table = table;
        Ok(())
    }

    fn section_mut(&mut self, name: &str) -> &mut toml::Table {
        let entry = self.table.entry(name).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        entry.as_table_mut().expect("made a table above")
    }
}

#[pymethods]
impl PyConfig {
    /// A config from nested dicts in the TOML layout, e.g.
    /// ``Config({"model": {"dim": 2, "gamma": 2.0}, "grid": {...}, ...})``.
    #[new]
    fn new(sections: &Bound<'_, PyDict>) -> PyResult<Self> {
        let table = match to_toml("", sections.as_any())? {
            toml::Value::Table(table) => table,
            _ => return Err(config_error("", "a config is a dict of sections")),
        };
        let config = Self { table, origin: "<dict>".into(), file: None, initial_field: None };
        config.validated()?;
        Ok(config)
    }

    /// Read a TOML config file (relative data paths are taken from its folder; the run
    /// name defaults to the file's stem).
    #[staticmethod]
    fn from_toml(path: PathBuf) -> PyResult<Self> {
        if !path.is_file() {
            return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
                "{}: no such config file",
                path.display()
            )));
        }
        let text = fpgen::config::read_config_text(&path).map_err(to_py)?;
        let origin = path.display().to_string();
        let table = parse_with_overrides(&text, &origin, &[]).map_err(to_py)?;
        let config = Self { table, origin, file: Some(path), initial_field: None };
        config.validated()?;
        Ok(config)
    }

    /// Set one dotted key (``cfg.set("grid.cells", 513)``); validated at once.
    fn set(&mut self, key: String, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = to_toml(&key, value)?;
        self.apply(&[(key, value)])
    }

    /// Set several dotted keys at once (validated together): ``cfg.update({"model.gamma":
    /// 3.0, "initial.mass": 5.0})``.
    fn update(&mut self, values: &Bound<'_, PyDict>) -> PyResult<()> {
        let mut items = Vec::new();
        for (k, v) in values.iter() {
            let key: String = k.extract()?;
            items.push((key.clone(), to_toml(&key, &v)?));
        }
        self.apply(&items)
    }

    /// The value of a dotted key in the resolved config (defaults filled in).
    fn get<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let resolved = self.resolved_table()?;
        let mut value = &toml::Value::Table(resolved.clone());
        for part in key.split('.') {
            value = value.get(part).ok_or_else(|| config_error(key, "is not set"))?;
        }
        toml_to_py(py, value)
    }

    /// The resolved config (defaults filled in) as nested dicts.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        toml_to_py(py, &toml::Value::Table(self.resolved_table()?))
    }

    /// The resolved config as TOML text (what a run writes as config.toml).
    fn to_toml(&self) -> PyResult<String> {
        Ok(match self.validated()? {
            Validated::Forward(cfg) => cfg.to_toml_string(),
            Validated::Diffusion(cfg) => cfg.to_toml_string(),
        })
    }

    /// The run name (the run directory is <out>/<name>).
    #[getter]
    fn name(&self) -> PyResult<String> {
        Ok(match self.validated()? {
            Validated::Forward(cfg) => cfg.name,
            Validated::Diffusion(cfg) => cfg.name,
        })
    }

    /// "forward" or "diffusion".
    #[getter]
    fn kind(&self) -> &'static str {
        if self.is_diffusion() {
            "diffusion"
        } else {
            "forward"
        }
    }

    /// Start from this density: an array of the grid's shape ((N,) in 1D, (N, N) in 2D,
    /// values at the cell centres, finite and >= 0). Its discrete mass Σ f h^d becomes
    /// `initial.mass` unless `mass` is given (the field is then rescaled to it, as a
    /// `kind = "npy"` file is). A run writes it as initial.npy beside its config.toml.
    #[pyo3(signature = (f0, mass=None))]
    fn initial_from_array(&mut self, f0: PyReadonlyArrayDyn<'_, f64>, mass: Option<f64>) -> PyResult<()> {
        let cfg = self.forward("initial_from_array")?;
        let grid = cfg.grid().map_err(|e| to_py(e.into()))?;
        if f0.shape() != grid.shape().as_slice() {
            return Err(config_error(
                "initial",
                format!(
                    "the array's shape {:?} does not match the grid {:?} (grid.cells = {}, model.dim = {})",
                    f0.shape(),
                    grid.shape(),
                    grid.cells,
                    grid.dim
                ),
            ));
        }
        let values: Vec<f64> = f0.as_array().iter().copied().collect();
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(config_error(
                "initial",
                format!("the array's entry {i} (C order) is {v}: a density must be finite and >= 0"),
            ));
        }
        let own_mass = values.iter().sum::<f64>() * grid.cell_volume();
        let mass = mass.unwrap_or(own_mass);
        if !(mass.is_finite() && mass > 0.0) {
            return Err(config_error(
                "initial.mass",
                format!("must be > 0 (got {mass}; the array's own mass is {own_mass})"),
            ));
        }
        let mut next = self.clone();
        let initial = next.section_mut("initial");
        // the keys of the other kinds go; the noise (if any) stays
        initial.retain(|k, _| k == "noise" || k == "noise_seed");
        initial.insert("kind".into(), toml::Value::String("npy".into()));
        initial.insert("path".into(), toml::Value::String("initial.npy".into()));
        initial.insert("mass".into(), toml::Value::Float(mass));
        next.initial_field = Some(Arc::new(values));
        // a relative path is taken from the run directory, not the config file's folder
        next.file = next.file.as_ref().and_then(|f| f.file_name().map(PathBuf::from));
        next.validated()?;
        *self = next;
        Ok(())
    }

    fn copy(&self) -> Self {
        self.clone()
    }

    fn __repr__(&self) -> String {
        let name = self.name().unwrap_or_default();
        format!("fpgen.Config({} config `{name}` from {})", self.kind(), self.origin)
    }

    fn __str__(&self) -> PyResult<String> {
        self.to_toml()
    }
}

impl PyConfig {
    fn resolved_table(&self) -> PyResult<toml::Table> {
        let text = self.to_toml()?;
        text.parse::<toml::Table>().map_err(|e| config_error("", e))
    }
}
