//! Parsing TOML with `key=value` overrides.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Error, Result};

/// Parse TOML text with overrides into a config type (not yet validated).
pub fn parse_config<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    overrides: &[String],
) -> Result<T> {
    let doc = parse_with_overrides(text, origin, overrides)?;
    T::deserialize(toml::Value::Table(doc))
        .map_err(|e| Error::ConfigSyntax { path: origin.to_string(), message: e.to_string() })
}

/// After loading the config file at `path`: an empty name becomes the file stem, and a
/// relative data path is taken relative to the file's folder.
pub fn fill_name_and_path(path: &Path, name: &mut String, data_path: Option<&mut PathBuf>) {
    if name.is_empty() {
        *name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    }
    if let (Some(p), Some(dir)) = (data_path, path.parent()) {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    }
}

/// Parse TOML text and apply `key=value` overrides (dotted keys, TOML values; a value that
/// is not valid TOML is taken as a string).
pub fn parse_with_overrides(text: &str, origin: &str, overrides: &[String]) -> Result<toml::Table> {
    let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::ConfigSyntax {
        path: origin.to_string(),
        message: e.to_string(),
    })?;
    for item in overrides {
        apply_override(&mut doc, item)?;
    }
    Ok(doc)
}

/// Set `a.b.c = value` in a TOML table; the value is parsed as TOML if it can be.
fn apply_override(doc: &mut toml::Table, item: &str) -> Result<(), ConfigError> {
    let (key, raw) = item.split_once('=').ok_or_else(|| {
        ConfigError::new(item, "an override must look like key=value (e.g. grid.cells=513)")
    })?;
    let key = key.trim();
    let raw = raw.trim();
    let value: toml::Value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::new(key, "is not a valid dotted key"));
    }
    let mut table = doc;
    for part in &parts[..parts.len() - 1] {
        let entry = table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::new(key, format!("`{part}` is not a section")))?;
    }
    let last = parts[parts.len() - 1];
    // the mass is given one way: setting one of the pair drops the other
    if key == "initial.mass" {
        table.remove("mass_ratio");
    } else if key == "initial.mass_ratio" {
        table.remove("mass");
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// The text of a config file; a file that cannot be read is bad input (exit 2), not an
/// I/O failure of the run.
pub fn read_config_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Data {
        path: path.to_path_buf(),
        message: format!("cannot read the config: {e}"),
    })
}
