//! The TOML configuration of `fpgen sample` and `fpgen check-theory` (score-based
//! diffusion with point-cloud data): unknown keys rejected, errors name the key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{GridSection, OutputSection};
use crate::error::{ConfigError, Error, Result};
use crate::grid::Grid;
use crate::kinds::{FaceFlux, SampleMethod, SampleStart as Start};
use crate::model::clouds::{self, Shape, ShapeParams};
use crate::model::score::{LinearProcess, PointCloud, MAX_DIM};

/// The largest λ·T the samplers accept (e^{2λT} must stay finite with room to spare).
pub const MAX_LAMBDA_T: f64 = 300.0;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiffusionConfig {
    /// Run name: the run directory is <out>/<name>. Defaults to the config file stem.
    #[serde(default)]
    pub name: String,
    pub data: DataSection,
    #[serde(default)]
    pub process: ProcessSection,
    pub sampler: SamplerSection,
    pub grid: GridSection,
    #[serde(default)]
    pub check: CheckSection,
    #[serde(default)]
    pub output: OutputSection,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// `points` with optional `weights`.
    Diracs,
    /// An (n, d) float64/float32 array at `path`, optional `weights`.
    Npy,
    Lemniscate,
    Circle,
    TwoMoons,
    GaussianGrid,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreKind {
    /// `count` samples of the shape, equally weighted (the empirical score).
    Empirical,
    /// `count` quadrature nodes of the curve measure (the "true" score; curves only).
    Exact,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub kind: DataKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<Vec<f64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(default = "default_score")]
    pub score: ScoreKind,
    /// Samples (empirical) or quadrature nodes (exact) of a shape.
    #[serde(default = "default_count")]
    pub count: usize,
    #[serde(default)]
    pub seed: u64,
    /// Size of the shape: the lemniscate's a, the circle's and moons' radius, the grid's
    /// spacing.
    #[serde(default = "one")]
    pub scale: f64,
    /// Standard deviation of the noise added to shape samples (the grid's Gaussians).
    #[serde(default)]
    pub noise: f64,
    /// Gaussians per side of `gaussian-grid`.
    #[serde(default = "default_side")]
    pub side: usize,
    /// `npy` points given in memory (the Python package), n × d in C order with d; `path`
    /// then names the copy a run writes into its directory.
    #[serde(skip)]
    pub points_array: Option<std::sync::Arc<(Vec<f64>, usize)>>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProcessSection {
    /// 0: the heat equation ∂t u = D Δu; > 0: linear OU ∂t u = ∇·(λ x u) + D Δu.
    #[serde(default)]
    pub lambda: f64,
    #[serde(default = "one")]
    pub diffusion: f64,
}

impl Default for ProcessSection {
    fn default() -> Self {
        Self { lambda: 0.0, diffusion: 1.0 }
    }
}

/// One number or a list.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(f64),
    Many(Vec<f64>),
}

impl OneOrMany {
    pub fn values(&self) -> Vec<f64> {
        match self {
            OneOrMany::One(v) => vec![*v],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SamplerSection {
    /// ε ≥ 0: 0 is the probability-flow ODE, 1 the classical reverse SDE.
    pub epsilon: f64,
    pub t_final: f64,
    /// Stopping time(s): one run of the sampler per value.
    pub t_min: OneOrMany,
    #[serde(default = "default_steps")]
    pub steps: usize,
    #[serde(default = "default_stepper")]
    pub stepper: SampleMethod,
    #[serde(default = "default_start")]
    pub start: Start,
    #[serde(default = "default_samples")]
    pub samples: usize,
    #[serde(default)]
    pub seed: u64,
    /// Paths of the first this many samples are written.
    #[serde(default)]
    pub trajectories: usize,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    /// Times at which the score and log-density are evaluated on the grid (profiles, the
    /// Li–Yau check); default: 8 log-spaced times from T to the smallest t_min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<Vec<f64>>,
    /// Stopping times of the concentration fit (default: 6 log-spaced in [t_min, T/10]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concentration_t_mins: Option<Vec<f64>>,
    /// Samples per stopping time of the concentration fit.
    #[serde(default = "default_check_samples")]
    pub concentration_samples: usize,
    /// Safety factor of the backward Fokker–Planck step.
    #[serde(default = "default_safety")]
    pub safety: f64,
    /// Face flux of the backward Fokker–Planck step.
    #[serde(default = "default_flux")]
    pub flux: FaceFlux,
    /// Shade the γ-Voronoi cores C_j^γ = {x : |x − y_k|² − |x − y_j|² ≥ γ ∀ k ≠ j} of the
    /// data points under 2D trajectory plots (docs/MATH.md §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voronoi_gamma: Option<f64>,
}

impl Default for CheckSection {
    fn default() -> Self {
        Self {
            times: None,
            concentration_t_mins: None,
            concentration_samples: default_check_samples(),
            safety: default_safety(),
            flux: default_flux(),
            voronoi_gamma: None,
        }
    }
}

fn one() -> f64 {
    1.0
}
fn default_score() -> ScoreKind {
    ScoreKind::Empirical
}
fn default_count() -> usize {
    1000
}
fn default_side() -> usize {
    3
}
fn default_steps() -> usize {
    100
}
fn default_stepper() -> SampleMethod {
    SampleMethod::Exponential
}
fn default_start() -> Start {
    Start::Gaussian
}
fn default_samples() -> usize {
    10_000
}
fn default_check_samples() -> usize {
    4000
}
fn default_safety() -> f64 {
    0.9
}

fn default_flux() -> FaceFlux {
    FaceFlux::ScharfetterGummel
}

fn positive(key: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::new(key, format!("must be > 0 (got {v})")))
    }
}

impl DiffusionConfig {
    /// Parse TOML text, apply `key=value` overrides, validate.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Self> {
        let config: Self = super::parse_config(text, origin, overrides)?;
        config.validate()?;
        Ok(config)
    }

    /// Load a config file; a relative data path is resolved against its folder and the name
    /// defaults to the file stem.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = super::overrides::read_config_text(path)?;
        let mut config = Self::from_toml_str(&text, &path.display().to_string(), overrides)?;
        super::fill_name_and_path(path, &mut config.name, config.data.path.as_mut());
        Ok(config)
    }

    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot serialise config: {e}\n"))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sampler;
        if !(s.epsilon.is_finite() && s.epsilon >= 0.0) {
            return Err(ConfigError::new("sampler.epsilon", format!("must be >= 0 (got {})", s.epsilon)));
        }
        positive("sampler.t_final", s.t_final)?;
        let t_mins = s.t_min.values();
        if t_mins.is_empty() {
            return Err(ConfigError::new("sampler.t_min", "needs at least one value"));
        }
        for t in t_mins {
            if !(t.is_finite() && t > 0.0 && t < s.t_final) {
                return Err(ConfigError::new(
                    "sampler.t_min",
                    format!("each value must be in (0, sampler.t_final = {}) (got {t})", s.t_final),
                ));
            }
        }
        if s.steps == 0 {
            return Err(ConfigError::new("sampler.steps", "must be at least 1"));
        }
        if s.samples == 0 || s.samples > u32::MAX as usize {
            return Err(ConfigError::new(
                "sampler.samples",
                format!("must be in [1, 2^32) (got {})", s.samples),
            ));
        }
        // positions, posterior means and a start copy, f64, d ≤ MAX_DIM
        crate::resources::check_memory(
            "sampler.samples",
            &format!("{} samples", s.samples),
            s.samples as f64 * MAX_DIM as f64 * 8.0 * 4.0,
        )?;
        let p = &self.process;
        if !(p.lambda.is_finite() && p.lambda >= 0.0) {
            return Err(ConfigError::new("process.lambda", format!("must be >= 0 (got {})", p.lambda)));
        }
        // the samplers work in heat coordinates: scale e^{λt} and time D(e^{2λt} − 1)/(2λ);
        // e^{2λT} overflows near λT = 354, and long before that u(T) holds no trace of the data
        if p.lambda * s.t_final > MAX_LAMBDA_T {
            return Err(ConfigError::new(
                "sampler.t_final",
                format!(
                    "process.lambda × sampler.t_final = {:e} exceeds {MAX_LAMBDA_T}: e^(2λT) overflows in the heat coordinates of the sampler; use a smaller T",
                    p.lambda * s.t_final
                ),
            ));
        }
        positive("process.diffusion", p.diffusion)?;
        if self.grid.cells < 3 {
            return Err(ConfigError::new(
                "grid.cells",
                format!("must be at least 3 (got {})", self.grid.cells),
            ));
        }
        positive("grid.half_width", self.grid.half_width)?;
        let c = &self.check;
        for (key, list) in
            [("check.times", &c.times), ("check.concentration_t_mins", &c.concentration_t_mins)]
        {
            if let Some(list) = list {
                if list.is_empty() || list.iter().any(|t| !(t.is_finite() && *t > 0.0 && *t <= s.t_final)) {
                    return Err(ConfigError::new(
                        key,
                        format!("needs values in (0, sampler.t_final] (got {list:?})"),
                    ));
                }
            }
        }
        if let Some(times) = &c.times {
            if times.windows(2).any(|w| w[1] >= w[0]) {
                return Err(ConfigError::new(
                    "check.times",
                    format!("must decrease strictly, from T towards 0, as the backward solution runs (got {times:?})"),
                ));
            }
        }
        if c.concentration_samples == 0 {
            return Err(ConfigError::new("check.concentration_samples", "must be at least 1"));
        }
        if let Some(g) = c.voronoi_gamma {
            if !(g.is_finite() && g >= 0.0) {
                return Err(ConfigError::new("check.voronoi_gamma", format!("must be >= 0 (got {g})")));
            }
        }
        if !(c.safety > 0.0 && c.safety <= 1.0) {
            return Err(ConfigError::new("check.safety", format!("must be in (0, 1] (got {})", c.safety)));
        }
        let d = &self.data;
        positive("data.scale", d.scale)?;
        if !(d.noise.is_finite() && d.noise >= 0.0) {
            return Err(ConfigError::new("data.noise", format!("must be >= 0 (got {})", d.noise)));
        }
        if d.count == 0 {
            return Err(ConfigError::new("data.count", "must be at least 1"));
        }
        crate::resources::check_memory(
            "data.count",
            &format!("{} data points", d.count),
            d.count as f64 * (MAX_DIM as f64 * 8.0 * 2.0 + 16.0),
        )?;
        super::validate::check_output(&self.output)?;
        Ok(())
    }

    pub fn process(&self) -> LinearProcess {
        LinearProcess { lambda: self.process.lambda, diffusion: self.process.diffusion }
    }

    pub fn t_mins(&self) -> Vec<f64> {
        self.sampler.t_min.values()
    }

    pub fn shape(&self) -> Option<Shape> {
        match self.data.kind {
            DataKind::Lemniscate => Some(Shape::Lemniscate),
            DataKind::Circle => Some(Shape::Circle),
            DataKind::TwoMoons => Some(Shape::TwoMoons),
            DataKind::GaussianGrid => Some(Shape::GaussianGrid),
            DataKind::Diracs | DataKind::Npy => None,
        }
    }

    fn shape_params(&self) -> ShapeParams {
        ShapeParams { scale: self.data.scale, noise: self.data.noise, side: self.data.side }
    }

    /// The data's dimension (shapes are 2D).
    pub fn dim(&self) -> Result<usize> {
        Ok(match self.data.kind {
            DataKind::Diracs => self.dirac_points()?.1,
            DataKind::Npy => self.cloud()?.dim,
            _ => 2,
        })
    }

    fn dirac_points(&self) -> Result<(Vec<f64>, usize), ConfigError> {
        let points = self
            .data
            .points
            .as_ref()
            .ok_or_else(|| ConfigError::new("data.points", "is required for kind = \"diracs\""))?;
        let dim = points.first().map_or(0, Vec::len);
        if points.is_empty() || !(1..=MAX_DIM).contains(&dim) || points.iter().any(|p| p.len() != dim) {
            return Err(ConfigError::new(
                "data.points",
                format!("needs points of one dimension in 1..={MAX_DIM} (got {points:?})"),
            ));
        }
        Ok((points.concat(), dim))
    }

    /// The point cloud the scores are taken of.
    pub fn cloud(&self) -> Result<PointCloud> {
        let d = &self.data;
        let weights_err = |e: String| Error::Config(ConfigError::new("data.weights", e));
        let applies = |key: &str, set: bool, allowed: bool| {
            if set && !allowed {
                Err(ConfigError::new(format!("data.{key}"), format!("does not apply to kind = {:?}", d.kind)))
            } else {
                Ok(())
            }
        };
        let shaped = self.shape().is_some();
        applies("points", d.points.is_some(), d.kind == DataKind::Diracs)?;
        applies("path", d.path.is_some(), d.kind == DataKind::Npy)?;
        applies("weights", d.weights.is_some(), !shaped)?;
        match d.kind {
            DataKind::Diracs => {
                let (points, dim) = self.dirac_points()?;
                PointCloud::new(dim, points, d.weights.as_deref()).map_err(weights_err)
            }
            DataKind::Npy => {
                let path = d
                    .path
                    .as_ref()
                    .ok_or_else(|| ConfigError::new("data.path", "is required for kind = \"npy\""))?;
                let (points, dim) = match &d.points_array {
                    Some(array) => array.as_ref().clone(),
                    None => read_points(path)?,
                };
                PointCloud::new(dim, points, d.weights.as_deref())
                    .map_err(|message| Error::Data { path: path.clone(), message })
            }
            _ => {
                let shape = self.shape().ok_or_else(|| Error::Unsupported("no shape".into()))?;
                clouds::shape_cloud(shape, &self.shape_params(), d.count, d.seed, d.score == ScoreKind::Exact)
                    .map_err(|e| Error::Config(ConfigError::new("data.score", e)))
            }
        }
    }

    /// The data's support K for the concentration and tube measures: the curve (dense
    /// quadrature) for curves, the cloud itself otherwise.
    pub fn support(&self) -> Result<PointCloud> {
        match self.shape() {
            Some(shape) if shape.is_curve() => {
                PointCloud::new(2, clouds::quadrature(shape, self.data.scale, 20_000), None)
                    .map_err(Error::Numerics)
            }
            _ => self.cloud(),
        }
    }

    pub fn grid(&self) -> Result<Grid> {
        Ok(Grid::new(self.dim()?, self.grid.cells, self.grid.half_width)?)
    }
}

/// An (n, d) array of points.
fn read_points(path: &Path) -> Result<(Vec<f64>, usize)> {
    let array: ndarray::Array2<f64> = super::npy::read_npy_as_f64(path)?;
    let dim = array.ncols();
    Ok((array.iter().copied().collect(), dim))
}

#[cfg(test)]
#[path = "diffusion_tests.rs"]
mod tests;
