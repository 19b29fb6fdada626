//! Steady states f_θ, the critical mass M_c(γ, d) and θ(M) (docs/MATH.md §1).
//!
//! Work is done in canonical units (λ = β = D = 1) and scaled back:
//! mass = β^{-1/γ} (D/λ)^{d/2} · canonical mass, box radius R = L √(λ/D).

use std::f64::consts::PI;

use rayon::prelude::*;
use serde::Serialize;

use crate::grid::Grid;
use crate::model::quadrature::{exp_sinh, tanh_sinh};
use crate::model::{ModelParams, Statistics};

const TOL: f64 = 1e-14;

/// ln(e^z − 1) for z > 0 without overflow (z + ln(1 − e^{−z}) for large z).
fn ln_exp_m1(z: f64) -> f64 {
    if z > 1.0 {
        z + (-(-z).exp()).ln_1p()
    } else {
        z.exp_m1().ln()
    }
}

/// The canonical profile (e^{γ(u+θ)} − 1)^{-1/γ} at u = |x|²/2, in log form: e^{γ(u+θ)}
/// overflows once γ(u + θ) > 709, while the profile itself is then ≈ e^{−(u+θ)}.
fn canonical_profile_at(u: f64, theta: f64, gamma: f64) -> f64 {
    (-ln_exp_m1(gamma * (u + theta)) / gamma).exp()
}

/// Mass of the canonical profile (e^{γ(|x|²/2+θ)} − 1)^{-1/γ} on ℝ^d (`radius` None)
/// or on the box [-R, R]^d. Infinite when θ = 0 and γ ≤ 2/d.
///
/// In u = |x|²/2 the mass is |S^{d−1}| 2^{d/2−1} ∫ u^{d/2−1} (e^{γ(u+θ)} − 1)^{−1/γ} du:
/// the variable in which the profile decays like e^{−u} for every γ (in v = γu the tail
/// stretches over γ and the quadrature loses it for large γ). With a = d/2 − 1/γ > 0,
/// u = s^{1/a} turns the integrand into (u / (e^{γ(u+θ)} − 1))^{1/γ} / a, bounded and
/// smooth on [0, 1] for every θ ≥ 0 (its limit at u = 0, θ = 0 is γ^{−1/γ}).
pub fn canonical_mass(theta: f64, dim: usize, gamma: f64, radius: Option<f64>) -> f64 {
    let d = dim as f64;
    let surface = if dim == 1 { 2.0f64.sqrt() } else { 2.0 * PI };
    let u_end = radius.map_or(f64::INFINITY, |r| 0.5 * r * r);
    let a = 0.5 * d - 1.0 / gamma;
    let (power, integrand): (f64, Box<dyn Fn(f64) -> f64>) = if a > 0.0 {
        let g = move |s: f64| {
            if s == 0.0 {
                return if theta == 0.0 { gamma.powf(-1.0 / gamma) } else { 0.0 };
            }
            // ln u from ln s: u = s^{1/a} leaves the normal range long before s does
            let ln_u = s.ln() / a;
            let u = ln_u.exp();
            if !u.is_finite() {
                return 0.0;
            }
            let z = gamma * (u + theta);
            let ln_ratio = if theta == 0.0 && z < 1e-5 {
                // ln(u / (e^{γu} − 1)) = −ln γ − z/2 − z²/24 + O(z⁴), free of cancellation
                -gamma.ln() - 0.5 * z - z * z / 24.0
            } else {
                ln_u - ln_exp_m1(z)
            };
            (ln_ratio / gamma).exp()
        };
        (a, Box::new(g))
    } else if theta <= 0.0 {
        return f64::INFINITY;
    } else {
        // u = s^{2/d} removes u^{d/2−1}; the profile is bounded for θ > 0.
        let p = 0.5 * d;
        (
            p,
            Box::new(move |s: f64| match s.powf(1.0 / p) {
                u if u.is_finite() => canonical_profile_at(u, theta, gamma),
                _ => 0.0,
            }),
        )
    };
    // [0, 1] in s (u ≤ 1, where the substitution matters); the tail in u itself, where
    // the integrand u^{d/2−1} e^{−(u+θ)}(…) is smooth and decays exponentially for every γ.
    let inner = tanh_sinh(&integrand, 0.0, u_end.min(1.0).powf(power), TOL) / power;
    let tail = |u: f64| u.powf(0.5 * d - 1.0) * canonical_profile_at(u, theta, gamma);
    let outer = if u_end <= 1.0 {
        0.0
    } else if u_end.is_finite() {
        tanh_sinh(tail, 1.0, u_end, TOL)
    } else {
        exp_sinh(tail, 1.0, TOL)
    };
    let mut mass = surface * (inner + outer);
    if let (2, Some(r)) = (dim, radius) {
        // The corners of the square outside the disc of radius R: the circle of
        // radius ρ ∈ (R, R√2) meets the square in an angle 2π − 8 arccos(R/ρ).
        let corner = |rho: f64| {
            (2.0 * PI - 8.0 * (r / rho).acos()) * rho * canonical_profile_at(0.5 * rho * rho, theta, gamma)
        };
        mass += tanh_sinh(corner, r, r * 2.0f64.sqrt(), TOL);
    }
    mass
}

/// ln(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The canonical fermion profile (e^{γ(u+θ)} + 1)^{−1/γ} at u = |x|²/2, θ ∈ ℝ: below 1
/// (saturation), bounded and smooth.
fn canonical_fermi_profile_at(u: f64, theta: f64, gamma: f64) -> f64 {
    (-softplus(gamma * (u + theta)) / gamma).exp()
}

/// Mass of the canonical fermion profile on ℝ^d or the box [-R, R]^d, integrated in the
/// radius (the integrand is bounded: no substitution needed).
pub fn canonical_fermi_mass(theta: f64, dim: usize, gamma: f64, radius: Option<f64>) -> f64 {
    let profile = move |rho: f64| canonical_fermi_profile_at(0.5 * rho * rho, theta, gamma);
    let radial = move |rho: f64| if dim == 1 { 2.0 * profile(rho) } else { 2.0 * PI * rho * profile(rho) };
    let Some(r) = radius else { return exp_sinh(radial, 0.0, TOL) };
    let mut mass = tanh_sinh(radial, 0.0, r, TOL);
    if dim == 2 {
        // the square's corners outside the disc, as in `canonical_mass`
        let corner = |rho: f64| (2.0 * PI - 8.0 * (r / rho).acos()) * rho * profile(rho);
        mass += tanh_sinh(corner, r, r * 2.0f64.sqrt(), TOL);
    }
    mass
}

/// Bisection on the whole line for a decreasing function: the θ with mass(θ) = target
/// (fermion profiles: θ ∈ ℝ; the mass grows without bound as θ → −∞ on ℝ^d and up to the
/// saturated box on a box).
fn solve_decreasing_on_line(target: f64, mass: impl Fn(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (-1.0, 1.0);
    while mass(lo) < target && lo > -1e8 {
        lo *= 2.0;
    }
    while mass(hi) > target && hi < 1e8 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mass(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Factor from canonical to physical mass: β^{-1/γ} (D/λ)^{d/2}.
fn mass_scale(p: &ModelParams, dim: usize) -> f64 {
    p.beta.powf(-1.0 / p.gamma) * (p.diffusion / p.lambda).powf(0.5 * dim as f64)
}

fn canonical_radius(p: &ModelParams, half_width: Option<f64>) -> Option<f64> {
    half_width.map(|l| l * (p.lambda / p.diffusion).sqrt())
}

/// Whether a critical mass exists: bosons with β > 0, λ > 0 and γ > 2/d (fermions have
/// none).
pub fn has_critical_mass(p: &ModelParams, dim: usize) -> bool {
    p.statistics == Statistics::Bose && p.beta > 0.0 && p.lambda > 0.0 && p.gamma > 2.0 / dim as f64
}

/// The smallest γ/(2/d) and the largest γ for which the M_c quadrature is certified
/// (1e-10 relative, tested against the 2D closed form, measured ≤ 6e-12 at the edges).
pub const CERTIFIED_GAMMA_OVER_CRITICAL: f64 = 1.0 + 1e-5;
pub const CERTIFIED_GAMMA_MAX: f64 = 1e15;

/// Whether the quadrature of M_c is certified for this γ; the error says the range.
pub fn check_certified_gamma(gamma: f64, dim: usize) -> Result<(), String> {
    let lowest = CERTIFIED_GAMMA_OVER_CRITICAL * 2.0 / dim as f64;
    if gamma > 2.0 / dim as f64 && (gamma < lowest || gamma > CERTIFIED_GAMMA_MAX) {
        return Err(format!(
            "gamma = {gamma} is outside the range where the critical mass is computed to 1e-10 in {dim}D: [{lowest}, {CERTIFIED_GAMMA_MAX:e}] (as gamma approaches 2/d = {} the critical mass diverges)",
            2.0 / dim as f64
        ));
    }
    Ok(())
}

/// M_c on ℝ^d (`half_width` None) or on the box [-L, L]^d; None when infinite, and when
/// γ is outside the certified range (`check_certified_gamma` says why).
pub fn critical_mass(p: &ModelParams, dim: usize, half_width: Option<f64>) -> Option<f64> {
    if !has_critical_mass(p, dim) || check_certified_gamma(p.gamma, dim).is_err() {
        return None;
    }
    let r = canonical_radius(p, half_width);
    Some(mass_scale(p, dim) * canonical_mass(0.0, dim, p.gamma, r))
}

/// 2D closed form M_c = 2π² / (γ sin(π/γ)) in canonical units (γ > 1).
pub fn critical_mass_2d_closed_form(gamma: f64) -> f64 {
    2.0 * PI * PI / (gamma * (PI / gamma).sin())
}

/// Mass of f_θ (physical units) on ℝ^d or the box.
pub fn profile_mass(p: &ModelParams, dim: usize, theta: f64, half_width: Option<f64>) -> f64 {
    let r = canonical_radius(p, half_width);
    mass_scale(p, dim)
        * match p.statistics {
            Statistics::Bose => canonical_mass(theta, dim, p.gamma, r),
            Statistics::Fermi => canonical_fermi_mass(theta, dim, p.gamma, r),
        }
}

/// Bisection for a decreasing function: the θ with mass(θ) = target. Geometric
/// steps while the bracket spans decades (θ can be 1e-20 near condensation).
pub(crate) fn solve_decreasing(target: f64, mass: impl Fn(f64) -> f64) -> f64 {
    let mut hi = 1.0;
    while mass(hi) > target && hi < 1e6 {
        hi *= 2.0;
    }
    let mut lo = 1e-300;
    for _ in 0..400 {
        let mid = if hi > 4.0 * lo { (lo * hi).sqrt() } else { 0.5 * (lo + hi) };
        if mass(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 4.0 * f64::EPSILON * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// θ(M): the profile f_θ of mass M on ℝ^d or the box; None when M ≥ M_c (the steady
/// state is then f_0 plus a condensate of mass M − M_c).
pub fn theta_for_mass(p: &ModelParams, dim: usize, mass: f64, half_width: Option<f64>) -> Option<f64> {
    if let Some(saturation) = p.saturation() {
        // every mass below the saturated box's has a profile; θ ∈ ℝ
        let full = half_width.map_or(f64::INFINITY, |l| saturation * (2.0 * l).powi(dim as i32));
        return (mass < full)
            .then(|| solve_decreasing_on_line(mass, |t| profile_mass(p, dim, t, half_width)));
    }
    if let Some(mc) = critical_mass(p, dim, half_width) {
        if mass >= mc {
            return None;
        }
    }
    Some(solve_decreasing(mass, |t| profile_mass(p, dim, t, half_width)))
}

/// f_θ(x) = β^{-1/γ} (exp(γ(λ|x|²/(2D) + θ)) ∓ 1)^{-1/γ} (− bosons, θ ≥ 0; + fermions,
/// θ ∈ ℝ).
pub fn profile(p: &ModelParams, theta: f64, radius_squared: f64) -> f64 {
    let u = 0.5 * p.lambda * radius_squared / p.diffusion;
    if p.statistics == Statistics::Fermi {
        return p.beta.powf(-1.0 / p.gamma) * canonical_fermi_profile_at(u, theta, p.gamma);
    }
    let e = (p.gamma * (u + theta)).exp_m1();
    p.beta.powf(-1.0 / p.gamma) * e.powf(-1.0 / p.gamma)
}

/// The discrete steady state on a grid: f_θ(x_i) with θ chosen so that the discrete
/// mass Σ f h^d equals `mass`. For β = 0 it is the Gaussian e^{-λ|x|²/(2D)} scaled to
/// the mass (θ is then returned as NaN). With the origin cell centred at 0 every mass is
/// reachable: a mass above M_c concentrates in that cell as θ → 0.
pub fn grid_profile(p: &ModelParams, grid: &Grid, mass: f64) -> (f64, Vec<f64>) {
    let r2: Vec<f64> = (0..grid.len()).map(|i| grid.radius_squared(i)).collect();
    let vol = grid.cell_volume();
    if p.beta == 0.0 {
        let g: Vec<f64> = r2.iter().map(|r| (-0.5 * p.lambda * r / p.diffusion).exp()).collect();
        let s: f64 = g.iter().sum::<f64>() * vol;
        return (f64::NAN, g.into_iter().map(|v| v * mass / s).collect());
    }
    // summed in order (a parallel sum's rounding depends on rayon's split, run to run)
    let grid_mass = |theta: f64| {
        r2.par_iter().map(|&r| profile(p, theta, r)).collect::<Vec<f64>>().iter().sum::<f64>() * vol
    };
    let theta = match p.statistics {
        Statistics::Bose => solve_decreasing(mass, grid_mass),
        Statistics::Fermi => solve_decreasing_on_line(mass, grid_mass),
    };
    (theta, r2.iter().map(|&r| profile(p, theta, r)).collect())
}

/// What `fpgen critical-mass` prints.
#[derive(Debug, Serialize)]
pub struct CriticalMassReport {
    pub dim: usize,
    pub statistics: Statistics,
    pub gamma: f64,
    pub lambda: f64,
    pub beta: f64,
    pub diffusion: f64,
    pub box_half_width: Option<f64>,
    pub finite: bool,
    /// M_c on ℝ^d (null when infinite).
    pub critical_mass: Option<f64>,
    /// M_c of the profile restricted to the box (null without a box, or when infinite).
    pub critical_mass_box: Option<f64>,
    /// The box value when a box is given, else the ℝ^d value.
    pub condenses_for_mass_above: Option<f64>,
    /// Canonical M_c (λ = β = D = 1).
    pub critical_mass_canonical: Option<f64>,
    pub note: String,
    pub mass: Option<f64>,
    pub theta: Option<f64>,
    pub condensate_mass: Option<f64>,
}

pub fn critical_mass_report(
    p: &ModelParams,
    dim: usize,
    half_width: Option<f64>,
    mass: Option<f64>,
) -> CriticalMassReport {
    let finite = has_critical_mass(p, dim);
    let certified = check_certified_gamma(p.gamma, dim);
    let mc = critical_mass(p, dim, None);
    let mc_box = half_width.and_then(|l| critical_mass(p, dim, Some(l)));
    let threshold = if half_width.is_some() { mc_box } else { mc };
    let note = if p.beta == 0.0 {
        "beta = 0: the model is linear, M_c is infinite and no mass condenses".to_string()
    } else if p.statistics == Statistics::Fermi {
        "statistics = fermi: no finite critical mass exists and no mass condenses; every mass relaxes to the Fermi-Dirac-type profile f_theta = beta^(-1/gamma) (exp(gamma (lambda |x|^2/(2D) + theta)) + 1)^(-1/gamma), theta real, which stays below the saturation beta^(-1/gamma)".to_string()
    } else if p.lambda == 0.0 {
        "lambda = 0: no confinement, M_c is infinite".to_string()
    } else if !finite {
        format!(
            "M_c is infinite: gamma = {} <= 2/d = {}; no mass condenses in {}D",
            p.gamma,
            2.0 / dim as f64,
            dim
        )
    } else if let Err(why) = &certified {
        format!("M_c is finite but not computed: {why}")
    } else {
        "finite critical mass: masses above condenses_for_mass_above form a Dirac at the origin".to_string()
    };
    let theta = mass.and_then(|m| {
        if p.beta > 0.0 && p.lambda > 0.0 {
            theta_for_mass(p, dim, m, half_width)
        } else {
            None
        }
    });
    CriticalMassReport {
        dim,
        statistics: p.statistics,
        gamma: p.gamma,
        lambda: p.lambda,
        beta: p.beta,
        diffusion: p.diffusion,
        box_half_width: half_width,
        finite,
        critical_mass: mc,
        critical_mass_box: mc_box,
        condenses_for_mass_above: threshold,
        critical_mass_canonical: (finite && certified.is_ok())
            .then(|| canonical_mass(0.0, dim, p.gamma, None)),
        note,
        mass,
        theta,
        condensate_mass: mass.zip(threshold).map(|(m, t)| (m - t).max(0.0)),
    }
}

#[cfg(test)]
#[path = "equilibrium_tests.rs"]
mod tests;
