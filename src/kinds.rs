//! The named choices of a run (schemes, integrators, precisions, reverse modes, fluxes,
//! particle steppers, colour maps): plain types at the bottom of the crate, so that the
//! config, the features and the CLI can all name them without importing each other.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SchemeKind {
    #[default]
    Upwind,
    GradientFlow,
}

impl SchemeKind {
    /// The name in a config file.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::Upwind => "upwind",
            SchemeKind::GradientFlow => "gradient-flow",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Integrator {
    #[default]
    Euler,
    SspRk2,
    /// Implicit: Newton on the gradient-flow scheme (CPU, f64), Δt from a local error estimate.
    BackwardEuler,
    /// Implicit, second order: variable-step BDF2, otherwise as `BackwardEuler`.
    Bdf2,
}

impl Integrator {
    /// Whether steps solve a nonlinear system (`forward::implicit`).
    pub fn is_implicit(self) -> bool {
        matches!(self, Integrator::BackwardEuler | Integrator::Bdf2)
    }

    /// Euler stages per step of an explicit integrator.
    pub fn stages(self) -> u32 {
        match self {
            Integrator::SspRk2 => 2,
            _ => 1,
        }
    }

    /// The name in a config file.
    pub fn name(self) -> &'static str {
        match self {
            Integrator::Euler => "euler",
            Integrator::SspRk2 => "ssp-rk2",
            Integrator::BackwardEuler => "backward-euler",
            Integrator::Bdf2 => "bdf2",
        }
    }
}

/// The halo (in cells) a workgroup's tile holds around its own cells on the device
/// (shaders/shared/fv_step.wgsl `MAX_HALO`): each Euler stage of a pass uses one cell of
/// it, and a bound that needs the new field's fluxes (the gradient-flow scheme) one more.
pub const MAX_TILE_HALO: u32 = 5;

/// The most steps one device pass may take (`scheme.steps_per_pass`) for a scheme and an
/// explicit integrator.
pub fn max_steps_per_pass(scheme: SchemeKind, integrator: Integrator) -> u32 {
    let measure_halo = u32::from(scheme == SchemeKind::GradientFlow);
    (MAX_TILE_HALO - measure_halo) / integrator.stages()
}

/// `Err` naming the allowed range when `steps_per_pass` is outside it.
pub fn check_steps_per_pass(
    scheme: SchemeKind,
    integrator: Integrator,
    steps_per_pass: u32,
) -> Result<(), String> {
    let most = max_steps_per_pass(scheme, integrator);
    if (1..=most).contains(&steps_per_pass) {
        return Ok(());
    }
    Err(format!(
        "must be in 1..={most} for the {} scheme with {} (got {steps_per_pass})",
        scheme.name(),
        integrator.name()
    ))
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

/// The container of a run's movie.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MovieFormat {
    /// Animated GIF, written by fpgen itself.
    Gif,
    /// H.264 MP4 through `ffmpeg`, which must be on PATH.
    Mp4,
}

impl MovieFormat {
    /// The movie's file name in a run directory.
    pub fn file_name(self) -> &'static str {
        match self {
            MovieFormat::Gif => "movie.gif",
            MovieFormat::Mp4 => "movie.mp4",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Colormap {
    #[default]
    Viridis,
    Magma,
    Cividis,
    /// Blue–white–red (ColorBrewer RdBu, reversed), for differences.
    Diverging,
    Gray,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    Terminal,
    Equilibrium,
}

/// How the reverse step is discretised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReverseMode {
    /// Reverse every stored forward step with its own fluxes (docs/MATH.md §3, discretely
    /// exact): needs every step stored and the Euler integrator.
    Exact,
    /// (R_η) with the score implied by the forward scheme's fluxes, between checkpoints.
    Scheme,
    /// (R_η) with face scores (log f₊ − log f₋)/h and upwind transport (`pde.rs`).
    LogScore,
}

/// The flux through a face with velocity V between cell values g₋ and g₊ (diffusion η).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaceFlux {
    /// F = V⁺ g₋ + V⁻ g₊ − η (g₊ − g₋)/h: first order, numerical diffusion |V| h/2.
    #[default]
    Upwind,
    /// Scharfetter–Gummel: F = (η/h) (B(−P) g₋ − B(P) g₊), P = V h/η, B(z) = z/(e^z − 1),
    /// exact for the steady flux of constant V and η across the face. Central (second
    /// order) where |P| ≪ 1, upwind where |P| ≫ 1 or η = 0; positive like upwind.
    ScharfetterGummel,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ParticleMethod {
    /// X ← X − λX(1 + βf̂^γ)Δt + √(2DΔt) ξ; needs Δt ≲ 1/(λβf̂^γ).
    EulerMaruyama,
    /// X ← (X + √(2DΔt) ξ) / (1 + λΔt(1 + βf̂^γ)): stable for any Δt, never overshoots 0.
    #[default]
    DriftImplicit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// The reverse sampler's step (score-based diffusion).
pub enum SampleMethod {
    Exponential,
    Euler,
}

/// Where the samples start at T.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleStart {
    /// N(0, 2 t_h(T) I) in heat coordinates: the large-T limit, what a user can sample.
    Gaussian,
    /// u(T) itself: a data point drawn by weight plus N(0, 2 t_h(T) I).
    Exact,
}

/// How Δt is chosen each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DtPolicy {
    Fixed(f64),
    /// safety × positivity bound of the current state.
    Adaptive {
        safety: f64,
    },
}
