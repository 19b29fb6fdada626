//! Steady states f_θ, the critical mass M_c(γ, d) and θ(M) (docs/MATH.md §1).
//!
//! Work is done in canonical units (λ = β = D = 1) and scaled back:
//! mass = β^{-1/γ} (D/λ)^{d/2} · canonical mass, box radius R = L √(λ/D).

use std::f64::consts::PI;

use rayon::prelude::*;
use serde::Serialize;

use crate::grid::Grid;
use crate::model::quadrature::{exp_sinh, tanh_sinh};
use crate::model::ModelParams;

const TOL: f64 = 1e-14;

/// Mass of the canonical profile (e^{γ(|x|²/2+θ)} − 1)^{-1/γ} on ℝ^d (`radius` None)
/// or on the box [-R, R]^d. Infinite when θ = 0 and γ ≤ 2/d.
pub fn canonical_mass(theta: f64, dim: usize, gamma: f64, radius: Option<f64>) -> f64 {
    let d = dim as f64;
    let gt = gamma * theta;
    let surface = if dim == 1 { 2.0f64.sqrt() / gamma.sqrt() } else { 2.0 * PI / gamma };
    let v_end = radius.map_or(f64::INFINITY, |r| 0.5 * gamma * r * r);
    // v = γ r²/2; the radial integrand is v^{d/2-1} (e^{v+γθ} − 1)^{-1/γ}.
    let v_split = v_end.min(1.0);
    let a = 0.5 * d - 1.0 / gamma;
    let inner = if a > 0.0 {
        // v = u^{1/a} removes the singularity at 0: the integrand becomes
        // (v / (e^{v+γθ} − 1))^{1/γ} / a, bounded on [0, 1] for every θ ≥ 0.
        let g = |u: f64| {
            let v = u.powf(1.0 / a);
            if v == 0.0 && gt == 0.0 {
                1.0
            } else {
                (v / (v + gt).exp_m1()).powf(1.0 / gamma)
            }
        };
        tanh_sinh(g, 0.0, v_split.powf(a), TOL) / a
    } else if theta <= 0.0 {
        return f64::INFINITY;
    } else {
        // v = u^{2/d} removes v^{d/2-1}; (e^{v+γθ} − 1)^{-1/γ} is bounded for θ > 0.
        let p = 0.5 * d;
        let g = |u: f64| (u.powf(1.0 / p) + gt).exp_m1().powf(-1.0 / gamma);
        tanh_sinh(g, 0.0, v_split.powf(p), TOL) / p
    };
    let tail = |v: f64| v.powf(0.5 * d - 1.0) * (v + gt).exp_m1().powf(-1.0 / gamma);
    let outer = if v_end <= 1.0 {
        0.0
    } else if v_end.is_finite() {
        tanh_sinh(tail, 1.0, v_end, TOL)
    } else {
        exp_sinh(tail, 1.0, TOL)
    };
    let mut mass = surface * (inner + outer);
    if let (2, Some(r)) = (dim, radius) {
        // The corners of the square outside the disc of radius R: the circle of
        // radius r ∈ (R, R√2) meets the square in an angle 2π − 8 arccos(R/r).
        let profile = |rho: f64| (gamma * (0.5 * rho * rho + theta)).exp_m1().powf(-1.0 / gamma);
        let corner = |rho: f64| (2.0 * PI - 8.0 * (r / rho).acos()) * rho * profile(rho);
        mass += tanh_sinh(corner, r, r * 2.0f64.sqrt(), TOL);
    }
    mass
}

/// Factor from canonical to physical mass: β^{-1/γ} (D/λ)^{d/2}.
fn mass_scale(p: &ModelParams, dim: usize) -> f64 {
    p.beta.powf(-1.0 / p.gamma) * (p.diffusion / p.lambda).powf(0.5 * dim as f64)
}

fn canonical_radius(p: &ModelParams, half_width: Option<f64>) -> Option<f64> {
    half_width.map(|l| l * (p.lambda / p.diffusion).sqrt())
}

/// Whether a critical mass exists: β > 0, λ > 0 and γ > 2/d.
pub fn has_critical_mass(p: &ModelParams, dim: usize) -> bool {
    p.beta > 0.0 && p.lambda > 0.0 && p.gamma > 2.0 / dim as f64
}

/// M_c on ℝ^d (`half_width` None) or on the box [-L, L]^d; None when infinite.
pub fn critical_mass(p: &ModelParams, dim: usize, half_width: Option<f64>) -> Option<f64> {
    if !has_critical_mass(p, dim) {
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
    mass_scale(p, dim) * canonical_mass(theta, dim, p.gamma, canonical_radius(p, half_width))
}

/// Bisection for a decreasing function: the θ with mass(θ) = target. Geometric
/// steps while the bracket spans decades (θ can be 1e-20 near condensation).
fn solve_decreasing(target: f64, mass: impl Fn(f64) -> f64) -> f64 {
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
    if let Some(mc) = critical_mass(p, dim, half_width) {
        if mass >= mc {
            return None;
        }
    }
    Some(solve_decreasing(mass, |t| profile_mass(p, dim, t, half_width)))
}

/// f_θ(x) = β^{-1/γ} (exp(γ(λ|x|²/(2D) + θ)) − 1)^{-1/γ}.
pub fn profile(p: &ModelParams, theta: f64, radius_squared: f64) -> f64 {
    let e = (p.gamma * (0.5 * p.lambda * radius_squared / p.diffusion + theta)).exp_m1();
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
    let grid_mass = |theta: f64| r2.par_iter().map(|&r| profile(p, theta, r)).sum::<f64>() * vol;
    let theta = solve_decreasing(mass, grid_mass);
    (theta, r2.iter().map(|&r| profile(p, theta, r)).collect())
}

/// What `fpgen critical-mass` prints.
#[derive(Debug, Serialize)]
pub struct CriticalMassReport {
    pub dim: usize,
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
    let mc = critical_mass(p, dim, None);
    let mc_box = half_width.and_then(|l| critical_mass(p, dim, Some(l)));
    let threshold = if half_width.is_some() { mc_box } else { mc };
    let note = if p.beta == 0.0 {
        "beta = 0: the model is linear, M_c is infinite and no mass condenses".to_string()
    } else if p.lambda == 0.0 {
        "lambda = 0: no confinement, M_c is infinite".to_string()
    } else if !finite {
        format!(
            "M_c is infinite: gamma = {} <= 2/d = {}; no mass condenses in {}D",
            p.gamma,
            2.0 / dim as f64,
            dim
        )
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
        gamma: p.gamma,
        lambda: p.lambda,
        beta: p.beta,
        diffusion: p.diffusion,
        box_half_width: half_width,
        finite,
        critical_mass: mc,
        critical_mass_box: mc_box,
        condenses_for_mass_above: threshold,
        critical_mass_canonical: finite.then(|| canonical_mass(0.0, dim, p.gamma, None)),
        note,
        mass,
        theta,
        condensate_mass: mass.zip(threshold).map(|(m, t)| (m - t).max(0.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(gamma: f64) -> ModelParams {
        ModelParams { lambda: 1.0, beta: 1.0, gamma, diffusion: 1.0 }
    }

    #[test]
    fn critical_mass_2d_matches_closed_form() {
        for gamma in [1.5, 2.0, 3.0] {
            let got = critical_mass(&canonical(gamma), 2, None).unwrap();
            let exact = critical_mass_2d_closed_form(gamma);
            assert!((got - exact).abs() <= 1e-8 * exact, "gamma={gamma}: {got} vs {exact}");
        }
    }

    #[test]
    fn mass_of_profile_2d_gamma_2_matches_closed_form() {
        // π(π − 2 arctan √(e^{2θ} − 1))
        for theta in [1e-6, 0.01, 0.3, 2.0] {
            let got = profile_mass(&canonical(2.0), 2, theta, None);
            let exact = PI * (PI - 2.0 * (2.0 * theta).exp_m1().sqrt().atan());
            assert!((got - exact).abs() <= 1e-11 * exact, "theta={theta}: {got} vs {exact}");
        }
    }

    #[test]
    fn theta_inverts_the_mass() {
        let p = ModelParams { lambda: 2.0, beta: 0.5, gamma: 3.0, diffusion: 0.7 };
        let mc = critical_mass(&p, 1, None).unwrap();
        for frac in [0.1, 0.5, 0.999] {
            let theta = theta_for_mass(&p, 1, frac * mc, None).unwrap();
            let back = profile_mass(&p, 1, theta, None);
            assert!((back - frac * mc).abs() < 1e-10 * mc, "{frac}: {back}");
        }
        assert!(theta_for_mass(&p, 1, 1.01 * mc, None).is_none());
    }

    #[test]
    fn box_masses_are_smaller_and_converge_to_the_full_space() {
        for (dim, gamma) in [(1, 3.0), (2, 2.0)] {
            let p = canonical(gamma);
            let full = critical_mass(&p, dim, None).unwrap();
            let small = critical_mass(&p, dim, Some(2.0)).unwrap();
            let big = critical_mass(&p, dim, Some(12.0)).unwrap();
            assert!(small < big && big <= full * (1.0 + 1e-12));
            assert!((full - big) < 1e-10 * full, "dim={dim}: {big} vs {full}");
        }
        // 2D box mass against a brute-force midpoint sum over the square [-2, 2]²
        let p = canonical(2.0);
        let theta = 0.2;
        let n = 2000;
        let h = 4.0 / n as f64;
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                let (x, y) = (-2.0 + (i as f64 + 0.5) * h, -2.0 + (j as f64 + 0.5) * h);
                s += profile(&p, theta, x * x + y * y);
            }
        }
        let got = profile_mass(&p, 2, theta, Some(2.0));
        assert!((s * h * h - got).abs() < 1e-5 * got, "{} vs {got}", s * h * h);
    }

    #[test]
    fn infinite_critical_mass_is_reported() {
        assert!(critical_mass(&canonical(2.0), 1, None).is_none());
        assert!(critical_mass(&canonical(1.0), 2, None).is_none());
        let r = critical_mass_report(&canonical(0.8), 2, Some(5.0), Some(3.0));
        assert!(!r.finite && r.critical_mass.is_none() && r.note.contains("infinite"));
        assert!(r.theta.is_some());
    }

    #[test]
    fn scaling_to_physical_units() {
        let p = ModelParams { lambda: 2.0, beta: 4.0, gamma: 2.0, diffusion: 0.5 };
        let mc = critical_mass(&p, 2, None).unwrap();
        assert!((mc - PI * PI / 2.0 * 0.25).abs() < 1e-10);
    }
}
