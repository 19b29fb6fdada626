//! [initial]: the initial density, and its translation into the model's description
//! (reading a .npy field here, so that the model does no I/O).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Config;
use crate::error::{ConfigError, Error, Result};
use crate::model::initial_density::InitialDensity;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InitialKind {
    GaussianMixture,
    UniformDisc,
    UniformBox,
    Npy,
}

/// A point: a number in 1D, a list [x, y] in 2D.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Point {
    Scalar(f64),
    Vector(Vec<f64>),
}

impl Point {
    fn coords(&self) -> Vec<f64> {
        match self {
            Point::Scalar(x) => vec![*x],
            Point::Vector(v) => v.clone(),
        }
    }
}

/// One flat section for every kind of initial density, so that a key that does not
/// belong to the chosen kind can be named in the error.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InitialSection {
    pub kind: InitialKind,
    /// Total mass M the density is rescaled to (discrete mass Σ f h^d). Set by
    /// `mass_ratio` when that is given (NaN until then).
    #[serde(default = "unset_mass")]
    pub mass: f64,
    /// M as a multiple of the critical mass M_c of the config's model on its box: the
    /// regime stays the same when γ, d or the box change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centres: Option<Vec<Point>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std_devs: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper: Option<Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Any kind: multiply each cell by 1 + noise·ξ, ξ uniform in [−1, 1) (0 ≤ noise < 1),
    /// before the rescaling to `mass` (a noisy density for filtering).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_seed: Option<u64>,
    /// A `npy` field given in memory (the Python package's `initial_from_array`), in C
    /// order; `path` then names the copy a run writes into its directory.
    #[serde(skip)]
    pub field: Option<std::sync::Arc<Vec<f64>>>,
}

fn unset_mass() -> f64 {
    f64::NAN
}

impl Config {
    /// `initial.mass` from `initial.mass_ratio` (r · M_c of the model on the box); both
    /// given must agree (a resolved config.toml holds both).
    pub(super) fn resolve_mass(&mut self) -> Result<(), ConfigError> {
        let s = &mut self.initial;
        let Some(ratio) = s.mass_ratio else {
            if s.mass.is_nan() {
                return Err(ConfigError::new(
                    "initial.mass",
                    "is required (or initial.mass_ratio, a multiple of M_c)",
                ));
            }
            return Ok(());
        };
        if !(ratio.is_finite() && ratio > 0.0) {
            return Err(ConfigError::new(
                "initial.mass_ratio",
                format!("must be a positive number (got {ratio})"),
            ));
        }
        let (params, dim) = (self.model_params(), self.model.dim);
        let critical = crate::model::equilibrium::critical_mass(&params, dim, Some(self.grid.half_width))
            .ok_or_else(|| {
                if params.saturation().is_some() {
                    return ConfigError::new(
                        "initial.mass_ratio",
                        "needs a finite M_c, and model.statistics = \"fermi\" has none (no condensation); give initial.mass",
                    );
                }
                let why = crate::model::equilibrium::check_certified_gamma(params.gamma, dim)
                    .err()
                    .unwrap_or_else(|| "the critical mass is infinite (no condensation)".into());
                ConfigError::new(
                    "initial.mass_ratio",
                    format!("needs a finite M_c, and model.gamma = {} in {dim}D has none: {why}; give initial.mass", params.gamma),
                )
            })?;
        let mass = ratio * critical;
        let s = &mut self.initial;
        if !s.mass.is_nan() && (s.mass - mass).abs() > 1e-12 * mass {
            return Err(ConfigError::new(
                "initial.mass",
                format!(
                    "{} disagrees with initial.mass_ratio = {ratio} (r · M_c = {mass}); give one of them",
                    s.mass
                ),
            ));
        }
        s.mass = mass;
        Ok(())
    }

    /// The initial density described by the [initial] section (a `npy` field is read here).
    pub fn initial_density(&self) -> Result<InitialDensity> {
        self.describe_initial(true)
    }

    /// The [initial] section's keys, checked without reading files.
    pub(super) fn check_initial(&self) -> Result<(), ConfigError> {
        match self.describe_initial(false) {
            Ok(_) => Ok(()),
            Err(Error::Config(e)) => Err(e),
            Err(e) => Err(ConfigError::new("initial", e.to_string())),
        }
    }

    fn describe_initial(&self, read_files: bool) -> Result<InitialDensity> {
        let s = &self.initial;
        let allowed: &[&str] = match s.kind {
            InitialKind::GaussianMixture => &["centres", "std_devs", "weights"],
            InitialKind::UniformDisc => &["centre", "radius"],
            InitialKind::UniformBox => &["lower", "upper"],
            InitialKind::Npy => &["path"],
        };
        let present = [
            ("centres", s.centres.is_some()),
            ("std_devs", s.std_devs.is_some()),
            ("weights", s.weights.is_some()),
            ("centre", s.centre.is_some()),
            ("radius", s.radius.is_some()),
            ("lower", s.lower.is_some()),
            ("upper", s.upper.is_some()),
            ("path", s.path.is_some()),
        ];
        let kind_name = format!("{:?}", s.kind);
        for (key, is_set) in present {
            if is_set && !allowed.contains(&key) {
                return Err(bad(
                    format!("initial.{key}"),
                    format!("does not apply to kind = {kind_name} (it takes {allowed:?})"),
                ));
            }
        }
        let base = self.base_density(read_files)?;
        match s.noise {
            None if s.noise_seed.is_some() => {
                Err(bad("initial.noise_seed", "needs initial.noise (the amplitude)"))
            }
            None => Ok(base),
            Some(a) if !(a.is_finite() && (0.0..1.0).contains(&a)) => {
                Err(bad("initial.noise", format!("must be in [0, 1) (got {a})")))
            }
            Some(amplitude) => {
                Ok(InitialDensity::Noisy { base: Box::new(base), amplitude, seed: s.noise_seed.unwrap_or(0) })
            }
        }
    }

    /// The [initial] density before noise.
    fn base_density(&self, read_files: bool) -> Result<InitialDensity> {
        let s = &self.initial;
        let dim = self.model.dim;
        let kind_name = format!("{:?}", s.kind);
        let missing = |key: &str| {
            ConfigError::new(format!("initial.{key}"), format!("is required for kind = {kind_name}"))
        };
        let point = |key: &str, p: &Point| -> Result<Vec<f64>, ConfigError> {
            let c = p.coords();
            if c.len() != dim || c.iter().any(|v| !v.is_finite()) {
                return Err(ConfigError::new(
                    format!("initial.{key}"),
                    format!("must be a point with {dim} finite coordinate(s) (got {c:?})"),
                ));
            }
            Ok(c)
        };
        match s.kind {
            InitialKind::GaussianMixture => {
                let centres = s.centres.as_ref().ok_or_else(|| missing("centres"))?;
                if centres.is_empty() {
                    return Err(bad("initial.centres", "needs at least one centre"));
                }
                let centres = centres.iter().map(|p| point("centres", p)).collect::<Result<Vec<_>, _>>()?;
                let k = centres.len();
                let std_devs = s.std_devs.clone().ok_or_else(|| missing("std_devs"))?;
                let weights = s.weights.clone().unwrap_or_else(|| vec![1.0; k]);
                for (key, v) in [("std_devs", &std_devs), ("weights", &weights)] {
                    if v.len() != k {
                        return Err(bad(
                            format!("initial.{key}"),
                            format!("needs one entry per centre ({k}), got {}", v.len()),
                        ));
                    }
                }
                if std_devs.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(bad("initial.std_devs", format!("must all be > 0 (got {std_devs:?})")));
                }
                if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.iter().all(|w| *w == 0.0)
                {
                    return Err(bad(
                        "initial.weights",
                        format!("must be >= 0 and not all zero (got {weights:?})"),
                    ));
                }
                Ok(InitialDensity::GaussianMixture { centres, std_devs, weights })
            }
            InitialKind::UniformDisc => {
                let centre = point("centre", s.centre.as_ref().unwrap_or(&Point::Vector(vec![0.0; dim])))?;
                let radius = s.radius.ok_or_else(|| missing("radius"))?;
                if !(radius.is_finite() && radius > 0.0) {
                    return Err(bad("initial.radius", format!("must be > 0 (got {radius})")));
                }
                Ok(InitialDensity::UniformDisc { centre, radius })
            }
            InitialKind::UniformBox => {
                let lower = point("lower", s.lower.as_ref().ok_or_else(|| missing("lower"))?)?;
                let upper = point("upper", s.upper.as_ref().ok_or_else(|| missing("upper"))?)?;
                if lower.iter().zip(&upper).any(|(l, u)| l >= u) {
                    return Err(bad(
                        "initial.upper",
                        format!("must exceed initial.lower on every axis ({lower:?} vs {upper:?})"),
                    ));
                }
                Ok(InitialDensity::UniformBox { lower, upper })
            }
            InitialKind::Npy => {
                let path = s.path.as_ref().ok_or_else(|| missing("path"))?;
                let values = match &s.field {
                    Some(field) => {
                        let grid = self.grid()?;
                        if field.len() != grid.len() {
                            return Err(bad(
                                "initial.path",
                                format!(
                                    "the array given has {} values, the grid {} ({:?}: grid.cells = {}, model.dim = {})",
                                    field.len(),
                                    grid.len(),
                                    grid.shape(),
                                    grid.cells,
                                    grid.dim
                                ),
                            ));
                        }
                        field.as_ref().clone()
                    }
                    None if !read_files => return Ok(InitialDensity::Values(Vec::new())),
                    None => super::npy::read_field_npy(path, &self.grid()?)?,
                };
                if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0))
                {
                    return Err(Error::Data {
                        path: path.clone(),
                        message: format!("entry {i} is {v}: a density must be finite and >= 0"),
                    });
                }
                Ok(InitialDensity::Values(values))
            }
        }
    }
}

/// A config error as the crate's error (the [initial] checks also report I/O errors).
fn bad(key: impl Into<String>, message: impl Into<String>) -> Error {
    ConfigError::new(key, message).into()
}
