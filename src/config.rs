//! The TOML run configuration: schema (serde, unknown keys rejected) and validation
//! with errors that name the offending key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Error, Result};
use crate::grid::Grid;
use crate::model::data::InitialDensity;
use crate::model::ModelParams;

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

/// The reverse-time solver of MATH.md §3.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReverseSection {
    /// Stabilisation η ≥ 0 (η = D: the classical reverse SDE; 0: the probability flow).
    #[serde(default = "one")]
    pub eta: f64,
    /// "equilibrium" (generation from the asymptotic state) or "terminal" (from f(T)).
    #[serde(default = "default_start")]
    pub start: crate::reverse::generate::Start,
    /// "scheme" (the forward scheme's score, snapshots every `store_every` steps),
    /// "exact" (every step stored and reversed exactly) or "log-score".
    #[serde(default = "default_reverse_mode")]
    pub mode: crate::reverse::generate::ReverseMode,
    /// Keep a forward snapshot every this many steps (1 in the exact mode).
    #[serde(default = "default_store_every")]
    pub store_every: u64,
    /// Snapshots beyond this many MiB go to disk (under the run directory, removed after).
    #[serde(default = "default_memory_budget_mib")]
    pub memory_budget_mib: f64,
    /// Δt = safety × positivity bound (log-score mode; the others retrace the forward steps).
    #[serde(default = "default_reverse_safety")]
    pub safety: f64,
    /// Face flux of the log-score step: "upwind" or "scharfetter-gummel" (central where
    /// the cell Péclet number V h/η is small).
    #[serde(default)]
    pub flux: crate::reverse::pde::FaceFlux,
    /// Directions of the sliced W1 in 2D (equally spaced angles in [0, π)).
    #[serde(default = "default_sliced_directions")]
    pub sliced_w1_directions: usize,
    /// Reverse particles (0: none): sampled from the starting state, moved by the reverse
    /// SDE with the scheme's velocity from the snapshots.
    #[serde(default)]
    pub particles: usize,
    /// Largest reverse-particle time step (default T/1000); steps are shortened so that
    /// the drift moves a particle at most half a cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub particle_dt: Option<f64>,
    #[serde(default)]
    pub particle_seed: u64,
}

impl Default for ReverseSection {
    fn default() -> Self {
        Self {
            eta: 1.0,
            start: default_start(),
            mode: default_reverse_mode(),
            store_every: default_store_every(),
            memory_budget_mib: default_memory_budget_mib(),
            safety: default_reverse_safety(),
            flux: Default::default(),
            sliced_w1_directions: default_sliced_directions(),
            particles: 0,
            particle_dt: None,
            particle_seed: 0,
        }
    }
}

fn default_start() -> crate::reverse::generate::Start {
    crate::reverse::generate::Start::Equilibrium
}
fn default_reverse_mode() -> crate::reverse::generate::ReverseMode {
    crate::reverse::generate::ReverseMode::Scheme
}
fn default_store_every() -> u64 {
    2
}
fn default_memory_budget_mib() -> f64 {
    1024.0
}
fn default_reverse_safety() -> f64 {
    0.9
}
fn default_sliced_directions() -> usize {
    64
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticlesSection {
    /// N_p, each of mass initial.mass / N_p.
    pub count: usize,
    /// Time step (fixed; the last step before an output time is shortened to land on it).
    pub dt: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub stepper: crate::particles::Stepper,
    /// Diffusion sweeps applied to the deposited density before it is interpolated back.
    #[serde(default)]
    pub smoothing_sweeps: u32,
    /// Run the particles instead of the grid solver.
    #[serde(default)]
    pub only: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub dim: usize,
    #[serde(default = "one")]
    pub lambda: f64,
    #[serde(default = "one")]
    pub beta: f64,
    pub gamma: f64,
    #[serde(default = "one")]
    pub diffusion: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// L: the box is [-L, L]^d.
    pub half_width: f64,
    /// N cells per side (odd keeps one cell centred at the origin).
    pub cells: usize,
}

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
    /// Total mass M the density is rescaled to (discrete mass Σ f h^d).
    pub mass: f64,
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
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SchemeKind {
    #[default]
    Upwind,
    GradientFlow,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Integrator {
    #[default]
    Euler,
    SspRk2,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchemeSection {
    #[serde(default)]
    pub kind: SchemeKind,
    #[serde(default)]
    pub integrator: Integrator,
    /// Fixed Δt; when absent Δt is adaptive: safety × positivity bound, every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
    #[serde(default = "default_safety")]
    pub safety: f64,
    /// Floor on f inside log f (gradient-flow scheme).
    #[serde(default = "default_log_floor")]
    pub log_floor: f64,
}

impl Default for SchemeSection {
    fn default() -> Self {
        Self {
            kind: SchemeKind::default(),
            integrator: Integrator::default(),
            dt: None,
            safety: default_safety(),
            log_floor: default_log_floor(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    F32,
    #[default]
    F64,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub t_final: f64,
    #[serde(default)]
    pub precision: Precision,
    /// Times at which snapshots (and frames) are written, besides t = 0 and the end.
    #[serde(default)]
    pub output_times: Vec<f64>,
    /// Also write a snapshot every this much simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_every: Option<f64>,
    /// Diagnostics every k steps.
    #[serde(default = "default_diagnostics_every")]
    pub diagnostics_every: u64,
    #[serde(default = "default_max_steps")]
    pub max_steps: u64,
    /// Worker threads for the CPU backend (default: all cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StopSection {
    /// Stop (condensation) when the positivity bound on Δt falls below this fraction
    /// of its value at t = 0.
    #[serde(default = "default_dt_collapse_fraction")]
    pub dt_collapse_fraction: f64,
    /// Stop (condensation) when ‖f‖∞ exceeds this.
    #[serde(default = "default_max_density")]
    pub max_density: f64,
}

impl Default for StopSection {
    fn default() -> Self {
        Self { dt_collapse_fraction: default_dt_collapse_fraction(), max_density: default_max_density() }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Colormap {
    #[default]
    Viridis,
    Magma,
    Gray,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Write PNG frames at output times.
    #[serde(default = "yes")]
    pub frames: bool,
    /// Write snapshots/f_<step>.npy at output times (f_final.npy is always written).
    #[serde(default = "yes")]
    pub snapshots: bool,
    #[serde(default)]
    pub colormap: Colormap,
    /// Colour (2D) or vertical axis (1D) on a log10 scale.
    #[serde(default)]
    pub log_scale: bool,
    /// Decades shown below the maximum on a log scale.
    #[serde(default = "default_log_decades")]
    pub log_decades: f64,
    /// [min, max] of the colour/vertical range of every frame; default: the range of the
    /// initial density (linear: [min(0, min f0), max f0]; log: log_decades below max f0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_range: Option<[f64; 2]>,
    /// Frames are upscaled (nearest cell) to at least this many pixels per side.
    #[serde(default = "default_min_pixels")]
    pub min_pixels: u32,
}

impl Default for OutputSection {
    fn default() -> Self {
        Self {
            frames: true,
            snapshots: true,
            colormap: Colormap::default(),
            log_scale: false,
            log_decades: default_log_decades(),
            color_range: None,
            min_pixels: default_min_pixels(),
        }
    }
}

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_safety() -> f64 {
    0.9
}
fn default_log_floor() -> f64 {
    1e-30
}
fn default_diagnostics_every() -> u64 {
    10
}
fn default_max_steps() -> u64 {
    100_000_000
}
fn default_dt_collapse_fraction() -> f64 {
    1e-4
}
fn default_max_density() -> f64 {
    1e12
}
fn default_log_decades() -> f64 {
    6.0
}
fn default_min_pixels() -> u32 {
    512
}

impl Config {
    /// Parse TOML text, apply `key=value` overrides (dotted keys, TOML values; a value
    /// that is not valid TOML is taken as a string), then validate.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Self> {
        let config: Config = parse_config(text, origin, overrides)?;
        config.validate()?;
        Ok(config)
    }

    /// Load a config file; relative data paths are resolved against its folder and the
    /// name defaults to the file stem.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut config = Self::from_toml_str(&text, &path.display().to_string(), overrides)?;
        fill_name_and_path(path, &mut config.name, config.initial.path.as_mut());
        Ok(config)
    }

    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot serialise config: {e}\n"))
    }

    pub fn model_params(&self) -> ModelParams {
        let m = &self.model;
        ModelParams { lambda: m.lambda, beta: m.beta, gamma: m.gamma, diffusion: m.diffusion }
    }

    pub fn grid(&self) -> Result<Grid, ConfigError> {
        Grid::new(self.model.dim, self.grid.cells, self.grid.half_width)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.name.is_empty() && !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError::new(
                "name",
                format!("`{}` may only hold letters, digits, '-', '_' and '.'", self.name),
            ));
        }
        self.model_params().validate()?;
        self.grid()?;
        self.initial_density()?;
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::new(key, format!("must be a positive number (got {v})")))
            }
        };
        positive("initial.mass", self.initial.mass)?;
        positive("run.t_final", self.run.t_final)?;
        if let Some(dt) = self.scheme.dt {
            positive("scheme.dt", dt)?;
        }
        if !(self.scheme.safety > 0.0 && self.scheme.safety <= 1.0) {
            return Err(ConfigError::new(
                "scheme.safety",
                format!("must be in (0, 1] (got {})", self.scheme.safety),
            ));
        }
        positive("scheme.log_floor", self.scheme.log_floor)?;
        if self.run.precision == Precision::F32 && self.scheme.log_floor < f32::MIN_POSITIVE as f64 {
            return Err(ConfigError::new(
                "scheme.log_floor",
                format!("must be >= {:e} in f32 (got {})", f32::MIN_POSITIVE, self.scheme.log_floor),
            ));
        }
        for (i, &t) in self.run.output_times.iter().enumerate() {
            if !(t.is_finite() && t > 0.0 && t <= self.run.t_final) {
                return Err(ConfigError::new(
                    format!("run.output_times[{i}]"),
                    format!("must be in (0, run.t_final = {}] (got {t})", self.run.t_final),
                ));
            }
        }
        if let Some(every) = self.run.output_every {
            positive("run.output_every", every)?;
        }
        if self.run.diagnostics_every == 0 {
            return Err(ConfigError::new("run.diagnostics_every", "must be at least 1"));
        }
        if self.run.max_steps == 0 {
            return Err(ConfigError::new("run.max_steps", "must be at least 1"));
        }
        if self.run.threads == Some(0) {
            return Err(ConfigError::new("run.threads", "must be at least 1"));
        }
        let f = self.stop.dt_collapse_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(ConfigError::new(
                "stop.dt_collapse_fraction",
                format!("must be in (0, 1) (got {f})"),
            ));
        }
        positive("stop.max_density", self.stop.max_density)?;
        positive("output.log_decades", self.output.log_decades)?;
        if let Some([lo, hi]) = self.output.color_range {
            if !(lo.is_finite() && hi.is_finite() && hi > lo) {
                return Err(ConfigError::new(
                    "output.color_range",
                    format!("needs min < max (got [{lo}, {hi}])"),
                ));
            }
            if self.output.log_scale && lo <= 0.0 {
                return Err(ConfigError::new("output.color_range", "min must be > 0 with output.log_scale"));
            }
        }
        let r = &self.reverse;
        if !(r.eta.is_finite() && r.eta >= 0.0) {
            return Err(ConfigError::new("reverse.eta", format!("must be >= 0 (got {})", r.eta)));
        }
        if r.store_every == 0 {
            return Err(ConfigError::new("reverse.store_every", "must be at least 1"));
        }
        if !(r.memory_budget_mib.is_finite() && r.memory_budget_mib >= 0.0) {
            return Err(ConfigError::new(
                "reverse.memory_budget_mib",
                format!("must be >= 0 (got {})", r.memory_budget_mib),
            ));
        }
        if !(r.safety > 0.0 && r.safety <= 1.0) {
            return Err(ConfigError::new("reverse.safety", format!("must be in (0, 1] (got {})", r.safety)));
        }
        if r.sliced_w1_directions == 0 {
            return Err(ConfigError::new("reverse.sliced_w1_directions", "must be at least 1"));
        }
        if r.particles > u32::MAX as usize {
            return Err(ConfigError::new(
                "reverse.particles",
                format!("must be < 2^32 (got {})", r.particles),
            ));
        }
        if let Some(dt) = r.particle_dt {
            positive("reverse.particle_dt", dt)?;
        }
        if let Some(p) = &self.particles {
            if p.count == 0 || p.count > u32::MAX as usize {
                return Err(ConfigError::new(
                    "particles.count",
                    format!("must be in [1, 2^32) (got {})", p.count),
                ));
            }
            positive("particles.dt", p.dt)?;
            if p.dt > self.run.t_final {
                return Err(ConfigError::new(
                    "particles.dt",
                    format!("{} exceeds run.t_final = {}", p.dt, self.run.t_final),
                ));
            }
        }
        Ok(())
    }

    /// The initial density described by the [initial] section.
    pub fn initial_density(&self) -> Result<InitialDensity, ConfigError> {
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
                return Err(ConfigError::new(
                    format!("initial.{key}"),
                    format!("does not apply to kind = {kind_name} (it takes {allowed:?})"),
                ));
            }
        }
        let base = self.base_density()?;
        match s.noise {
            None if s.noise_seed.is_some() => {
                Err(ConfigError::new("initial.noise_seed", "needs initial.noise (the amplitude)"))
            }
            None => Ok(base),
            Some(a) if !(a.is_finite() && (0.0..1.0).contains(&a)) => {
                Err(ConfigError::new("initial.noise", format!("must be in [0, 1) (got {a})")))
            }
            Some(amplitude) => {
                Ok(InitialDensity::Noisy { base: Box::new(base), amplitude, seed: s.noise_seed.unwrap_or(0) })
            }
        }
    }

    /// The [initial] density before noise.
    fn base_density(&self) -> Result<InitialDensity, ConfigError> {
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
                    return Err(ConfigError::new("initial.centres", "needs at least one centre"));
                }
                let centres = centres.iter().map(|p| point("centres", p)).collect::<Result<Vec<_>, _>>()?;
                let k = centres.len();
                let std_devs = s.std_devs.clone().ok_or_else(|| missing("std_devs"))?;
                let weights = s.weights.clone().unwrap_or_else(|| vec![1.0; k]);
                for (key, v) in [("std_devs", &std_devs), ("weights", &weights)] {
                    if v.len() != k {
                        return Err(ConfigError::new(
                            format!("initial.{key}"),
                            format!("needs one entry per centre ({k}), got {}", v.len()),
                        ));
                    }
                }
                if std_devs.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(ConfigError::new(
                        "initial.std_devs",
                        format!("must all be > 0 (got {std_devs:?})"),
                    ));
                }
                if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.iter().all(|w| *w == 0.0)
                {
                    return Err(ConfigError::new(
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
                    return Err(ConfigError::new("initial.radius", format!("must be > 0 (got {radius})")));
                }
                Ok(InitialDensity::UniformDisc { centre, radius })
            }
            InitialKind::UniformBox => {
                let lower = point("lower", s.lower.as_ref().ok_or_else(|| missing("lower"))?)?;
                let upper = point("upper", s.upper.as_ref().ok_or_else(|| missing("upper"))?)?;
                if lower.iter().zip(&upper).any(|(l, u)| l >= u) {
                    return Err(ConfigError::new(
                        "initial.upper",
                        format!("must exceed initial.lower on every axis ({lower:?} vs {upper:?})"),
                    ));
                }
                Ok(InitialDensity::UniformBox { lower, upper })
            }
            InitialKind::Npy => {
                Ok(InitialDensity::Npy { path: s.path.clone().ok_or_else(|| missing("path"))? })
            }
        }
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
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
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
            ("stop.dt_collapse_fraction=2", "stop.dt_collapse_fraction"),
        ] {
            let e = err_of(BASE, &[set]);
            assert!(e.contains(&format!("`{key}`")), "{set}: {e}");
        }
        let e = err_of(&BASE.replace("centres = [[0.0, 0.0]]", "centres = [0.0]"), &[]);
        assert!(e.contains("`initial.centres`"), "{e}");
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
}
