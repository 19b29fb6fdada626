//! `fpgen collect SWEEP_DIR`: the swept keys and the results of every point (from its
//! summary.json) as one table, `collect.csv`, and as a dataset with the sweep's axes as
//! dimensions, `collect.zarr`, so that
//! `ds.condensation_time.plot(x="initial.mass_ratio", hue="model.gamma")` works.
//!
//! A product axis is a dimension named after its key, with the key's values as its
//! coordinate; a zipped group is a dimension named after the group with its position as
//! coordinate and one coordinate per key along it. Text values (e.g. `scheme.kind`) are
//! coordinates by position with the texts in the attribute `labels`. A point without a
//! summary (not run yet) is NaN, status `missing`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::sweep::{read_manifest, Axis, Manifest};
use super::sweep_point::status_in;
use crate::error::Result;
use crate::io::zarr::{Values, ZarrStore};

/// Result columns: (name, JSON pointer into summary.json, description).
const RESULTS: [(&str, &str, &str); 14] = [
    ("steps", "/steps", "time steps taken"),
    ("t_final", "/t_final", "time reached"),
    ("mass_initial", "/mass_initial", "initial mass"),
    ("max_rel_mass_drift", "/max_rel_mass_drift", "largest relative mass drift"),
    (
        "condensation_time",
        "/condensation_time",
        "blow-up time: origin cell above the critical profile's share",
    ),
    ("condensate_mass", "/condensate_mass", "origin-cell mass less the critical profile's share, at the end"),
    ("origin_cell_mass", "/origin_cell_mass", "mass in the origin cell at the end"),
    ("critical_mass_box", "/critical_mass_box", "critical mass on the box"),
    ("wall_seconds", "/wall_seconds", "wall time of the run"),
    ("forward_steps", "/generation/forward_steps", "generate: forward steps"),
    ("reverse_steps", "/generation/reverse_steps", "generate: reverse steps"),
    ("rel_l1", "/generated_vs_initial/rel_l1", "generated vs f(0): relative L1"),
    ("kl", "/generated_vs_initial/kl", "generated vs f(0): KL"),
    ("w1", "/generated_vs_initial/w1", "generated vs f(0): W1"),
];

/// The statuses in the order of their codes in collect.zarr's `status`.
pub const STATUSES: [&str; 9] = [
    "missing",
    "completed",
    "condensed",
    "stopped",
    "interrupted",
    "max-steps",
    "wall-time",
    "stalled",
    "failed",
];

/// What `collect` found.
#[derive(Debug)]
pub struct Collected {
    pub points: usize,
    /// Points per status, in the order of `STATUSES`.
    pub by_status: Vec<(String, usize)>,
    pub columns: Vec<String>,
}

fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        toml::Value::Boolean(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Write collect.csv and collect.zarr into the sweep directory `dir`.
pub fn collect(dir: &Path) -> Result<Collected> {
    let manifest = read_manifest(dir)?;
    let summaries: Vec<Option<Value>> = manifest
        .points
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(dir.join(&p.name).join("summary.json")).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    // from the summaries already read (each summary.json is read once)
    let statuses: Vec<String> = summaries
        .iter()
        .map(|s| s.as_ref().and_then(status_in).unwrap_or_else(|| "missing".into()))
        .collect();
    let columns: Vec<&(&str, &str, &str)> = RESULTS
        .iter()
        .filter(|(_, pointer, _)| summaries.iter().flatten().any(|s| s.pointer(pointer).is_some()))
        .collect();
    let value_of = |s: &Option<Value>, pointer: &str| -> f64 {
        s.as_ref().and_then(|s| s.pointer(pointer)).and_then(Value::as_f64).unwrap_or(f64::NAN)
    };

    // the table
    let keys: Vec<&String> = manifest.axes.iter().flat_map(|a| &a.keys).collect();
    let mut csv = String::from("index,point");
    for key in &keys {
        csv.push_str(&format!(",{}", csv_field(key)));
    }
    csv.push_str(",status");
    for (name, _, _) in &columns {
        csv.push_str(&format!(",{name}"));
    }
    csv.push('\n');
    for ((point, summary), status) in manifest.points.iter().zip(&summaries).zip(&statuses) {
        csv.push_str(&format!("{},{}", point.index, csv_field(&point.name)));
        for (_, value) in &point.values {
            csv.push_str(&format!(",{}", csv_field(&text(value))));
        }
        csv.push_str(&format!(",{status}"));
        for (_, pointer, _) in &columns {
            let v = value_of(summary, pointer);
            csv.push_str(&if v.is_nan() { ",".to_string() } else { format!(",{v}") });
        }
        csv.push('\n');
    }
    crate::io::write_text(&dir.join("collect.csv"), &csv)?;

    // the dataset, shaped by the axes
    let mut store = ZarrStore::create(&dir.join("collect.zarr"))?;
    let dims: Vec<&str> = manifest.axes.iter().map(|a| a.name.as_str()).collect();
    let shape: Vec<usize> = manifest.axes.iter().map(Axis::len).collect();
    let coordinates = write_axes(&mut store, &manifest)?;
    let count: usize = shape.iter().product();
    // a point's place in the C-order array of the axes
    let flat =
        |point: &super::sweep::Point| point.position.iter().zip(&shape).fold(0, |acc, (&i, &n)| acc * n + i);
    for (name, pointer, description) in &columns {
        let mut values = vec![f64::NAN; count];
        for (point, summary) in manifest.points.iter().zip(&summaries) {
            values[flat(point)] = value_of(summary, pointer);
        }
        let mut attrs = Map::new();
        attrs.insert("long_name".into(), json!(description));
        if !coordinates.is_empty() {
            attrs.insert("coordinates".into(), json!(coordinates));
        }
        store.write_array(name, &dims, &shape, Values::F64(&values), attrs)?;
    }
    let mut codes = vec![0i64; count];
    for (point, status) in manifest.points.iter().zip(&statuses) {
        codes[flat(point)] = STATUSES.iter().position(|s| s == status).unwrap_or(STATUSES.len() - 1) as i64;
    }
    let mut attrs = Map::new();
    attrs.insert("long_name".into(), json!("run status"));
    attrs.insert("flag_values".into(), json!((0..STATUSES.len()).collect::<Vec<_>>()));
    attrs.insert("flag_meanings".into(), json!(STATUSES.join(" ")));
    if !coordinates.is_empty() {
        attrs.insert("coordinates".into(), json!(coordinates));
    }
    store.write_array("status", &dims, &shape, Values::I64(&codes), attrs)?;
    let mut group = Map::new();
    group.insert("title".into(), json!(format!("fpgen sweep `{}`: collected results", manifest.name)));
    group.insert("base".into(), json!(manifest.base.display().to_string()));
    group.insert("command".into(), json!(format!("{:?}", manifest.command).to_lowercase()));
    for (key, value) in &manifest.set {
        group.insert(key.clone(), json!(text(value)));
    }
    store.set_attributes(group)?;

    let by_status = STATUSES
        .iter()
        .map(|s| (s.to_string(), statuses.iter().filter(|t| t == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(Collected {
        points: manifest.points.len(),
        by_status,
        columns: columns.iter().map(|(n, _, _)| n.to_string()).collect(),
    })
}

/// The coordinates of the axes; returns the names of the non-dimension coordinates (the
/// keys of zipped groups), space-separated, for the variables' `coordinates` attribute.
fn write_axes(store: &mut ZarrStore, manifest: &Manifest) -> Result<String> {
    let mut extra = Vec::new();
    for axis in &manifest.axes {
        let n = axis.len();
        let zipped = axis.keys.len() > 1 || axis.keys[0] != axis.name;
        if zipped {
            let position: Vec<i64> = (0..n as i64).collect();
            store.write_array(&axis.name, &[axis.name.as_str()], &[n], Values::I64(&position), Map::new())?;
        }
        for (key, values) in axis.keys.iter().zip(&axis.values) {
            let numbers: Option<Vec<f64>> = values.iter().map(number).collect();
            let mut attrs = Map::new();
            attrs.insert("long_name".into(), json!(key));
            let values = match numbers {
                Some(v) => v,
                None => {
                    attrs.insert("labels".into(), json!(values.iter().map(text).collect::<Vec<_>>()));
                    (0..n).map(|i| i as f64).collect()
                }
            };
            store.write_array(key, &[axis.name.as_str()], &[n], Values::F64(&values), attrs)?;
            if zipped {
                extra.push(key.clone());
            }
        }
    }
    Ok(extra.join(" "))
}
