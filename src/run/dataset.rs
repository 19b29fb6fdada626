//! The dataset of a forward run, `run.zarr` (Zarr v3): `xarray.open_zarr(run_dir /
//! "run.zarr")` gives
//! - `f(t, x)` or `f(t, x, y)`: the density at the snapshot times, one chunk per snapshot,
//!   appended as the run goes, with `step(t)` beside it;
//! - coordinates `t`, `x`, `y` (cell centres; axis 0 is x), the cell edges as attributes
//!   `x_edges`, `y_edges`;
//! - the diagnostics on their own time axis `t_diag` (every diagnostics row): `step_diag`,
//!   `dt`, `mass`, `rel_mass_drift`, `min_density`, `max_density`, `l2_norm`, `entropy`,
//!   `second_moment`, `origin_mass`, written when the run ends (on every exit path);
//! - attributes: every resolved config key (`model.gamma`, …), fpgen's version, the git
//!   commit, the command line, backend, device and precision.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::observers::DiagnosticsRow;
use crate::config::Config;
use crate::error::Result;
use crate::forward::BackendInfo;
use crate::grid::Grid;
use crate::io::provenance::Provenance;
use crate::io::zarr::{DType, Values, ZarrStore};

pub const FILE: &str = "run.zarr";

/// One diagnostics column.
type Column = fn(&DiagnosticsRow) -> f64;

pub struct RunDataset {
    store: ZarrStore,
    times: Vec<f64>,
    steps: Vec<i64>,
}

/// The names of a grid's axes, axis 0 first.
pub(super) fn axes(grid: &Grid) -> &'static [&'static str] {
    if grid.dim == 1 {
        &["x"]
    } else {
        &["x", "y"]
    }
}

/// Attributes a plot labels a variable with.
pub(super) fn described(long_name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("long_name".into(), json!(long_name));
    m.insert("units".into(), json!("1"));
    m
}

/// A resolved config as `section.key` → value (nested tables flattened).
fn config_attributes(config_toml: &str) -> Map<String, Value> {
    fn flatten(prefix: &str, value: &toml::Value, out: &mut Map<String, Value>) {
        match value {
            toml::Value::Table(table) => {
                for (k, v) in table {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    flatten(&key, v, out);
                }
            }
            other => {
                if let Ok(v) = serde_json::to_value(other) {
                    out.insert(prefix.to_string(), v);
                }
            }
        }
    }
    let mut out = Map::new();
    if let Ok(value) = config_toml.parse::<toml::Table>() {
        flatten("", &toml::Value::Table(value), &mut out);
    }
    out
}

/// Provenance as attributes.
fn provenance_attributes() -> Map<String, Value> {
    let p = Provenance::start();
    let mut m = Map::new();
    m.insert("fpgen_version".into(), json!(p.fpgen_version));
    m.insert("git_commit".into(), json!(p.git_commit));
    m.insert("command_line".into(), json!(p.command_line.join(" ")));
    m.insert("created_at".into(), json!(p.started_at));
    m
}

/// A new run.zarr in `dir`: the resolved config's keys, provenance, `title` and `extra` as
/// attributes, and the grid's coordinates.
pub(super) fn new_store(
    dir: &Path,
    config_toml: &str,
    grid: &Grid,
    title: &str,
    extra: Map<String, Value>,
) -> Result<ZarrStore> {
    let mut store = ZarrStore::create(&dir.join(FILE))?;
    let mut attrs = config_attributes(config_toml);
    attrs.extend(provenance_attributes());
    attrs.extend(extra);
    attrs.insert("title".into(), json!(title));
    store.set_attributes(attrs)?;
    write_grid_coordinates(&mut store, grid)?;
    Ok(store)
}

/// The `device` attribute.
pub(super) fn device_attribute(device: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("device".into(), json!(device));
    m
}

/// The `axis` coordinate (0 … d−1) of point arrays (particles, samples).
pub(super) fn write_axis_coordinate(store: &mut ZarrStore, dim: usize) -> Result<()> {
    let axis: Vec<i64> = (0..dim as i64).collect();
    store.write_array("axis", &["axis"], &[dim], Values::I64(&axis), described("axis"))
}

/// Coordinates of the grid's axes (cell centres) and their edges as group attributes.
fn write_grid_coordinates(store: &mut ZarrStore, grid: &Grid) -> Result<()> {
    let centres = grid.centres();
    let h = grid.h();
    let edges: Vec<f64> = (0..=grid.cells).map(|i| -grid.half_width + i as f64 * h).collect();
    let mut attrs = Map::new();
    for (axis, name) in axes(grid).iter().enumerate() {
        let long = format!("{name} (cell centre, axis {axis})");
        store.write_array(name, &[name], &[grid.cells], Values::F64(&centres), described(&long))?;
        attrs.insert(format!("{name}_edges"), json!(edges));
    }
    store.set_attributes(attrs)
}

impl RunDataset {
    /// A new run.zarr in `dir` for `config` on `grid`, computed by `backend`.
    pub fn create(dir: &Path, config: &Config, grid: &Grid, backend: &BackendInfo) -> Result<Self> {
        let mut attrs = device_attribute(&backend.device);
        attrs.insert("backend".into(), json!(backend.backend));
        attrs.insert("precision".into(), json!(backend.precision));
        let title = format!("fpgen run `{}`", config.name);
        let mut store = new_store(dir, &config.to_toml_string(), grid, &title, attrs)?;
        let slab = vec![grid.cells; grid.dim];
        store.start_growing("f", &field_dims("t", grid), &slab, DType::F64, described("density f"))?;
        let mut dataset = Self { store, times: Vec::new(), steps: Vec::new() };
        dataset.write_times()?;
        Ok(dataset)
    }

    /// The run.zarr of a resumed run, cut back to its snapshots before `step`.
    pub fn reopen(dir: &Path, step: u64) -> Result<Self> {
        let store = ZarrStore::open(&dir.join(FILE))?;
        let steps: Vec<i64> = store.read_whole("step")?.into_iter().map(|s| s as i64).collect();
        let times = store.read_whole("t")?;
        let kept = steps.iter().take_while(|&&s| (s as u64) < step).count();
        let mut dataset = Self { store, times: times[..kept].to_vec(), steps: steps[..kept].to_vec() };
        dataset.store.truncate("f", kept)?;
        dataset.write_times()?;
        Ok(dataset)
    }

    /// The (step, t) of every snapshot in the dataset.
    pub fn snapshots(&self) -> Vec<(u64, f64)> {
        self.steps.iter().zip(&self.times).map(|(&s, &t)| (s as u64, t)).collect()
    }

    /// Append the density at `t` (step `step`).
    pub fn snapshot(&mut self, step: u64, t: f64, field: &[f64]) -> Result<()> {
        self.store.append("f", Values::F64(field))?;
        self.times.push(t);
        self.steps.push(step as i64);
        self.write_times()
    }

    fn write_times(&mut self) -> Result<()> {
        let n = self.times.len();
        self.store.write_array("t", &["t"], &[n], Values::F64(&self.times), described("time t"))?;
        self.store.write_array("step", &["t"], &[n], Values::I64(&self.steps), described("step"))
    }

    /// The diagnostics rows as variables on their time axis `t_diag`.
    pub fn write_diagnostics(&mut self, rows: &[DiagnosticsRow]) -> Result<()> {
        let n = rows.len();
        let column = |f: Column| -> Vec<f64> { rows.iter().map(f).collect() };
        let steps: Vec<i64> = rows.iter().map(|r| r.step as i64).collect();
        let dims = ["t_diag"];
        let s = &mut self.store;
        s.write_array(
            "t_diag",
            &dims,
            &[n],
            Values::F64(&column(|r| r.t)),
            described("time t (diagnostics)"),
        )?;
        s.write_array("step_diag", &dims, &[n], Values::I64(&steps), described("step"))?;
        let variables: [(&str, &str, Column); 9] = [
            ("dt", "time step of the last step", |r| r.dt),
            ("mass", "mass", |r| r.mass),
            ("rel_mass_drift", "relative mass drift", |r| r.rel_mass_drift),
            ("min_density", "min f", |r| r.min),
            ("max_density", "max f", |r| r.max),
            ("l2_norm", "L2 norm of f", |r| r.l2),
            ("entropy", "entropy", |r| r.entropy),
            ("second_moment", "second moment", |r| r.second_moment),
            ("origin_mass", "mass of the origin cell(s)", |r| r.origin_mass),
        ];
        for (name, long, f) in variables {
            s.write_array(name, &dims, &[n], Values::F64(&column(f)), described(long))?;
        }
        Ok(())
    }
}

/// The particles of a run in its run.zarr: `positions(t_particles, particle, axis)` and
/// the deposited density `density_particles(t_particles, x[, y])` at the particles' output
/// times `t_particles`.
pub struct ParticleDataset {
    store: ZarrStore,
    times: Vec<f64>,
}

impl ParticleDataset {
    /// The run's run.zarr (made here for a particles-only run), its particle arrays cut
    /// back to their first `kept` outputs (0: started afresh).
    pub fn open(dir: &Path, config: &Config, grid: &Grid, count: usize, kept: usize) -> Result<Self> {
        let path = dir.join(FILE);
        let mut store = if path.exists() {
            ZarrStore::open(&path)?
        } else {
            let title = format!("fpgen run `{}` (particles)", config.name);
            new_store(dir, &config.to_toml_string(), grid, &title, Map::new())?
        };
        let times = if kept > 0 { store.read_whole("t_particles")?[..kept].to_vec() } else { Vec::new() };
        if kept > 0 {
            store.truncate("positions", kept)?;
            store.truncate("density_particles", kept)?;
        } else {
            write_axis_coordinate(&mut store, grid.dim)?;
            let dims = ["t_particles", "particle", "axis"];
            store.start_growing(
                "positions",
                &dims,
                &[count, grid.dim],
                DType::F64,
                described("particle position"),
            )?;
            let mut dims = vec!["t_particles"];
            dims.extend(axes(grid));
            let slab = vec![grid.cells; grid.dim];
            let long = described("density of the particles (cloud in cell)");
            store.start_growing("density_particles", &dims, &slab, DType::F64, long)?;
        }
        let mut dataset = Self { store, times };
        dataset.write_times()?;
        Ok(dataset)
    }

    /// Append the positions (interleaved) and the deposited density at `t`.
    pub fn output(&mut self, t: f64, positions: &[f64], density: &[f64]) -> Result<()> {
        self.store.append("positions", Values::F64(positions))?;
        self.store.append("density_particles", Values::F64(density))?;
        self.times.push(t);
        self.write_times()
    }

    fn write_times(&mut self) -> Result<()> {
        let n = self.times.len();
        let long = described("time t (particles)");
        self.store.write_array("t_particles", &["t_particles"], &[n], Values::F64(&self.times), long)
    }
}

/// The dims of a field growing along `first`.
pub(super) fn field_dims(first: &'static str, grid: &Grid) -> Vec<&'static str> {
    let mut dims = vec![first];
    dims.extend(axes(grid));
    dims
}

/// The dataset of `generate`: the forward path `f(t, x…)` at t = 0, the output times and
/// T; the reverse path `g(s, x…)` at s = T − t for the same times (s = 0 is the reverse
/// start, s = T the generated density); `generated(x…)`; `samples(sample, axis)` with
/// reverse particles.
pub struct PathDataset {
    store: ZarrStore,
    t_final: f64,
    t: Vec<f64>,
    s: Vec<f64>,
}

impl PathDataset {
    pub fn create(dir: &Path, config: &Config, grid: &Grid, device: &str, t_final: f64) -> Result<Self> {
        let title = format!("fpgen generate `{}`", config.name);
        let mut store = new_store(dir, &config.to_toml_string(), grid, &title, device_attribute(device))?;
        let slab = vec![grid.cells; grid.dim];
        store.start_growing(
            "f",
            &field_dims("t", grid),
            &slab,
            DType::F64,
            described("forward density f"),
        )?;
        let long = described("reverse density g (approximates f(T - s))");
        store.start_growing("g", &field_dims("s", grid), &slab, DType::F64, long)?;
        Ok(Self { store, t_final, t: Vec::new(), s: Vec::new() })
    }

    /// The generated density and, with reverse particles, the samples (interleaved).
    pub fn finish(&mut self, grid: &Grid, generated: &[f64], samples: &[f64]) -> Result<()> {
        let shape = vec![grid.cells; grid.dim];
        self.store.write_array(
            "generated",
            axes(grid),
            &shape,
            Values::F64(generated),
            described("generated density"),
        )?;
        if !samples.is_empty() {
            write_axis_coordinate(&mut self.store, grid.dim)?;
            let shape = [samples.len() / grid.dim, grid.dim];
            let long = described("generated sample");
            self.store.write_array("samples", &["sample", "axis"], &shape, Values::F64(samples), long)?;
        }
        Ok(())
    }
}

impl super::generation::PathObserver for PathDataset {
    fn forward(&mut self, t: f64, f: &[f64]) -> Result<()> {
        self.store.append("f", Values::F64(f))?;
        self.t.push(t);
        self.store.write_array(
            "t",
            &["t"],
            &[self.t.len()],
            Values::F64(&self.t),
            described("forward time t"),
        )
    }

    fn reverse(&mut self, t: f64, g: &[f64]) -> Result<()> {
        self.store.append("g", Values::F64(g))?;
        self.s.push(self.t_final - t);
        let long = described("reverse time s = T - t");
        self.store.write_array("s", &["s"], &[self.s.len()], Values::F64(&self.s), long)
    }
}

/// The dataset of `filter`: `iterate(iteration, x…)` as each finishes (0 is the input).
pub struct IterateDataset {
    store: ZarrStore,
}

impl IterateDataset {
    /// run.zarr for the iterates, cut back to the first `kept` (0: afresh).
    pub fn open(dir: &Path, config: &Config, grid: &Grid, device: &str, kept: usize) -> Result<Self> {
        let path = dir.join(FILE);
        let mut store = if kept > 0 && path.exists() {
            ZarrStore::open(&path)?
        } else {
            let title = format!("fpgen filter `{}`", config.name);
            new_store(dir, &config.to_toml_string(), grid, &title, device_attribute(device))?
        };
        if store.len("iterate") > 0 || kept > 0 {
            store.truncate("iterate", kept)?;
        } else {
            let slab = vec![grid.cells; grid.dim];
            let long = described("filter iterate (0: the input)");
            store.start_growing("iterate", &field_dims("iteration", grid), &slab, DType::F64, long)?;
        }
        let mut dataset = Self { store };
        dataset.write_iterations()?;
        Ok(dataset)
    }

    /// Iterate `k` of the run.zarr in `dir` (a resumed filter without .npy files).
    pub fn read(dir: &Path, k: usize) -> Result<Vec<f64>> {
        ZarrStore::open(&dir.join(FILE))?.read_slab("iterate", k)
    }

    pub fn push(&mut self, f: &[f64]) -> Result<()> {
        self.store.append("iterate", Values::F64(f))?;
        self.write_iterations()
    }

    fn write_iterations(&mut self) -> Result<()> {
        let n = self.store.len("iterate");
        let k: Vec<i64> = (0..n as i64).collect();
        self.store.write_array("iteration", &["iteration"], &[n], Values::I64(&k), described("iteration"))
    }
}

/// The grid run's densities at its snapshot times, as the particles and the kymograph
/// read them back: from snapshots/*.npy when the run wrote them, else from run.zarr.
pub enum GridFields {
    None,
    Npy(Vec<(f64, std::path::PathBuf)>),
    Stored { store: ZarrStore, times: Vec<f64> },
}

impl GridFields {
    /// run.zarr's f in `dir`, if the run wrote one with at least one snapshot.
    pub fn stored(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        if !path.join("zarr.json").exists() {
            return Ok(GridFields::None);
        }
        let store = ZarrStore::open(&path)?;
        if store.len("f") == 0 {
            return Ok(GridFields::None);
        }
        let times = store.read_whole("t")?;
        Ok(GridFields::Stored { store, times })
    }

    /// The snapshot times.
    pub fn times(&self) -> Vec<f64> {
        match self {
            GridFields::None => Vec::new(),
            GridFields::Npy(list) => list.iter().map(|(t, _)| *t).collect(),
            GridFields::Stored { times, .. } => times.clone(),
        }
    }

    /// Snapshot `k`.
    pub fn field(&self, k: usize, grid: &Grid) -> Result<Vec<f64>> {
        match self {
            GridFields::None => Ok(Vec::new()),
            GridFields::Npy(list) => crate::config::npy::read_field_npy(&list[k].1, grid),
            GridFields::Stored { store, .. } => store.read_slab("f", k),
        }
    }

    /// The snapshot at time t (to 1e-9 relative), if there is one.
    pub fn at_time(&self, t: f64, grid: &Grid) -> Result<Option<Vec<f64>>> {
        match self.times().iter().position(|&s| (s - t).abs() <= 1e-9 * t.max(1.0)) {
            Some(k) => self.field(k, grid).map(Some),
            None => Ok(None),
        }
    }
}
