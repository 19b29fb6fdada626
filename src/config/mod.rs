//! The TOML run configuration: schema (serde, unknown keys rejected) and validation
//! with errors that name the offending key.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Result};
use crate::grid::Grid;
use crate::model::ModelParams;

mod defaults;
pub mod diffusion;
mod grid;
mod initial;
mod model;
pub mod npy;
mod output;
mod overrides;
mod particles;
mod reverse;
mod run;
mod scheme;
mod validate;

pub use diffusion::DiffusionConfig;
pub use grid::GridSection;
pub use initial::{InitialKind, InitialSection, Point};
pub use model::ModelSection;
pub use output::{Colormap, MovieFormat, OutputSection};
pub use overrides::{fill_name_and_path, parse_config, parse_with_overrides, read_config_text};
pub use particles::ParticlesSection;
pub use reverse::ReverseSection;
pub use run::{Precision, RunSection, StopSection};
pub use scheme::{Integrator, SchemeKind, SchemeSection};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run name: the run directory is <out>/<name>. Defaults to the config file stem.
    #[serde(default)]
    pub name: String,
    pub model: ModelSection,
    pub grid: GridSection,
    pub initial: InitialSection,
    #[serde(default)]
    pub scheme: SchemeSection,
    pub run: RunSection,
    #[serde(default)]
    pub stop: StopSection,
    #[serde(default)]
    pub output: OutputSection,
    /// The interacting particle system, run alongside (or instead of) the grid solver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub particles: Option<ParticlesSection>,
    /// Reverse time (`fpgen generate`, `fpgen filter`).
    #[serde(default)]
    pub reverse: ReverseSection,
}

impl Config {
    /// Parse TOML text, apply `key=value` overrides (dotted keys, TOML values; a value
    /// that is not valid TOML is taken as a string), then validate.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Self> {
        let mut config: Config = parse_config(text, origin, overrides)?;
        config.resolve_and_validate()?;
        Ok(config)
    }

    /// After parsing: derived keys (`initial.mass` from `initial.mass_ratio`), then the
    /// checks.
    pub fn resolve_and_validate(&mut self) -> Result<(), ConfigError> {
        self.resolve_mass()?;
        self.validate()
    }

    /// Load a config file; relative data paths are resolved against its folder and the
    /// name defaults to the file stem.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = overrides::read_config_text(path)?;
        let mut config = Self::from_toml_str(&text, &path.display().to_string(), overrides)?;
        fill_name_and_path(path, &mut config.name, config.initial.path.as_mut());
        Ok(config)
    }

    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot serialise config: {e}\n"))
    }

    pub fn model_params(&self) -> ModelParams {
        let m = &self.model;
        ModelParams { statistics: m.statistics, ..ModelParams::bose(m.lambda, m.beta, m.gamma, m.diffusion) }
    }

    pub fn grid(&self) -> Result<Grid, ConfigError> {
        Grid::new(self.model.dim, self.grid.cells, self.grid.half_width)
    }

    /// Output times in increasing order, ending with t_final.
    pub fn output_times(&self) -> Vec<f64> {
        let t_final = self.run.t_final;
        let mut times: Vec<f64> = self.run.output_times.clone();
        if let Some(every) = self.run.output_every {
            let count = (t_final / every).floor() as u64;
            times.extend((1..=count).map(|k| k as f64 * every).filter(|&t| t < t_final));
        }
        times.push(t_final);
        times.sort_by(f64::total_cmp);
        times.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * t_final);
        times
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
[model]
dim = 2
gamma = 2.0
[grid]
half_width = 4.0
cells = 33
[initial]
kind = "gaussian-mixture"
mass = 1.0
centres = [[0.0, 0.0]]
std_devs = [0.5]
[run]
t_final = 0.1
"#;

    fn err_of(text: &str, overrides: &[&str]) -> String {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        Config::from_toml_str(text, "test.toml", &o).unwrap_err().to_string()
    }

    #[test]
    fn base_config_parses_with_defaults() {
        let c = Config::from_toml_str(BASE, "x", &[]).unwrap();
        assert_eq!(c.model.lambda, 1.0);
        assert_eq!(c.scheme.kind, SchemeKind::Upwind);
        assert_eq!(c.run.precision, Precision::F64);
        assert_eq!(c.output_times(), vec![0.1]);
        // the resolved config round-trips
        let again = Config::from_toml_str(&c.to_toml_string(), "y", &[]).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err_of(&BASE.replace("gamma = 2.0", "gamma = 2.0\nlamda = 1.0"), &[]);
        assert!(e.contains("lamda"), "{e}");
        let e = err_of(BASE, &["scheme.kind=\"upwnd\""]);
        assert!(e.contains("upwnd"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        for (set, key) in [
            ("model.gamma=-2", "model.gamma"),
            ("grid.cells=1", "grid.cells"),
            ("initial.mass=0", "initial.mass"),
            ("initial.std_devs=[0.5, 1.0]", "initial.std_devs"),
            ("initial.radius=1.0", "initial.radius"),
            ("run.t_final=-1", "run.t_final"),
            ("run.output_times=[0.5]", "run.output_times[0]"),
            ("scheme.safety=1.5", "scheme.safety"),
            ("scheme.steps_per_pass=0", "scheme.steps_per_pass"),
            ("scheme.steps_per_pass=6", "scheme.steps_per_pass"),
            ("stop.dt_collapse_fraction=2", "stop.dt_collapse_fraction"),
        ] {
            let e = err_of(BASE, &[set]);
            assert!(e.contains(&format!("`{key}`")), "{set}: {e}");
        }
        let e = err_of(&BASE.replace("centres = [[0.0, 0.0]]", "centres = [0.0]"), &[]);
        assert!(e.contains("`initial.centres`"), "{e}");
        // the tile's halo holds 5 Euler stages: SSP-RK2 (2 per step) fits 2 steps
        let e = err_of(BASE, &["scheme.integrator=\"ssp-rk2\"", "scheme.steps_per_pass=3"]);
        assert!(e.contains("`scheme.steps_per_pass`") && e.contains("1..=2"), "{e}");
        let rk2 = ["scheme.integrator=\"ssp-rk2\"".to_string(), "scheme.steps_per_pass=2".to_string()];
        assert!(Config::from_toml_str(BASE, "x", &rk2).is_ok());
    }

    /// `initial.mass_ratio` is r · M_c of the model on the box (2D, γ = 2: M_c = π² on ℝ²,
    /// a little less on a box of half-width 4); a resolved config (both keys) loads again,
    /// disagreeing keys and a model without M_c are named.
    #[test]
    fn mass_ratio_is_a_multiple_of_the_critical_mass() {
        let base = BASE.replace("mass = 1.0", "mass_ratio = 1.5");
        let c = Config::from_toml_str(&base, "x", &[]).unwrap();
        let p = c.model_params();
        let m_c = crate::model::equilibrium::critical_mass(&p, 2, Some(4.0)).unwrap();
        assert!((m_c - std::f64::consts::PI.powi(2)).abs() < 0.05 * m_c, "{m_c}");
        assert_eq!(c.initial.mass, 1.5 * m_c);
        let again = Config::from_toml_str(&c.to_toml_string(), "y", &[]).unwrap();
        assert_eq!(again, c);
        // both in the file must agree; an override of one drops the other
        let e = err_of(&base.replace("mass_ratio = 1.5", "mass_ratio = 1.5\nmass = 3.0"), &[]);
        assert!(e.contains("`initial.mass`") && e.contains("mass_ratio"), "{e}");
        let by_mass = Config::from_toml_str(&base, "x", &["initial.mass=3.0".into()]).unwrap();
        assert_eq!((by_mass.initial.mass, by_mass.initial.mass_ratio), (3.0, None));
        let e = err_of(&base, &["model.gamma=0.5"]);
        assert!(e.contains("`initial.mass_ratio`"), "{e}");
        let e = err_of(&BASE.replace("mass = 1.0\n", ""), &[]);
        assert!(e.contains("`initial.mass`") && e.contains("required"), "{e}");
    }

    #[test]
    fn overrides_apply_and_parse_types() {
        let o = vec!["grid.cells=65".to_string(), "scheme.kind=gradient-flow".to_string()];
        let c = Config::from_toml_str(BASE, "x", &o).unwrap();
        assert_eq!(c.grid.cells, 65);
        assert_eq!(c.scheme.kind, SchemeKind::GradientFlow);
        assert!(err_of(BASE, &["gridcells"]).contains("key=value"));
    }

    #[test]
    fn output_times_are_sorted_and_end_at_t_final() {
        let o = vec!["run.output_every=0.03".to_string(), "run.output_times=[0.05]".to_string()];
        let c = Config::from_toml_str(BASE, "x", &o).unwrap();
        let t = c.output_times();
        assert_eq!(t.len(), 5);
        assert!((t[0] - 0.03).abs() < 1e-15 && (t[2] - 0.06).abs() < 1e-15 && t[4] == 0.1);
    }

    /// A `npy` initial field is read by the config (the model does no I/O): a file of the
    /// wrong shape names its shape, a float32 one is read and rescaled.
    #[test]
    fn npy_initial_field_is_read_and_checked_against_the_grid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f0.npy");
        let text = BASE
            .replace("kind = \"gaussian-mixture\"", "kind = \"npy\"")
            .replace(
                "centres = [[0.0, 0.0]]\nstd_devs = [0.5]",
                &format!("path = {:?}", path.display().to_string()),
            )
            .replace("cells = 33", "cells = 5");
        ndarray_npy::write_npy(&path, &ndarray::Array2::<f64>::ones((4, 5))).unwrap();
        let c = Config::from_toml_str(&text, "x", &[]).unwrap();
        let err = c.initial_density().unwrap_err().to_string();
        assert!(err.contains("does not match the grid"), "{err}");
        ndarray_npy::write_npy(&path, &ndarray::Array2::<f32>::ones((5, 5))).unwrap();
        let g = c.grid().unwrap();
        let f = c.initial_density().unwrap().on_grid(&g, 1.0).unwrap();
        assert!((f[0] - 1.0 / (25.0 * g.cell_volume())).abs() < 1e-12);
    }
}
