//! The nonlinear Ornstein–Uhlenbeck (Kaniadakis–Quarati) model (docs/MATH.md §1):
//! ∂t f = ∇·(λ x f (1 + β f^γ)) + D Δf.

use crate::error::ConfigError;
use crate::grid::Grid;
use crate::model::physics::{Physics, Statistics};
use crate::model::quadrature::tanh_sinh;
use crate::real::Real;

/// Parameters λ (confinement), β (nonlinearity), γ (exponent), D (diffusion) and the
/// statistics (the sign of the nonlinearity).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelParams {
    pub lambda: f64,
    pub beta: f64,
    pub gamma: f64,
    pub diffusion: f64,
    pub statistics: Statistics,
}

impl ModelParams {
    /// Bose–Einstein statistics, m(f) = f (1 + β f^γ).
    pub fn bose(lambda: f64, beta: f64, gamma: f64, diffusion: f64) -> Self {
        Self { lambda, beta, gamma, diffusion, statistics: Statistics::Bose }
    }

    /// The pointwise physics in precision T.
    pub fn physics<T: Real>(&self) -> Physics<T> {
        Physics::new(self)
    }

    /// The largest admissible density: β^{−1/γ} for fermions, None when unbounded.
    pub fn saturation(&self) -> Option<f64> {
        (self.statistics == Statistics::Fermi && self.beta > 0.0).then(|| self.beta.powf(-1.0 / self.gamma))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |key: &str, v: f64, ok: bool, what: &str| {
            if v.is_finite() && ok {
                Ok(())
            } else {
                Err(ConfigError::new(key, format!("must be {what} (got {v})")))
            }
        };
        check("model.lambda", self.lambda, self.lambda >= 0.0, ">= 0")?;
        check("model.beta", self.beta, self.beta >= 0.0, ">= 0")?;
        check("model.gamma", self.gamma, self.gamma > 0.0, "> 0")?;
        check("model.diffusion", self.diffusion, self.diffusion > 0.0, "> 0")
    }

    pub fn power(&self) -> Power {
        Power::new(self.gamma)
    }

    /// Mobility m(f) = f (1 + b f^γ), b = ±β, also the flux function G of the classic
    /// scheme.
    pub fn mobility(&self, f: f64) -> f64 {
        self.physics::<f64>().mobility(f)
    }

    /// Φ'(f) = log f − log(1 + b f^γ)/γ, the density part of the chemical potential.
    pub fn entropy_derivative(&self, f: f64) -> f64 {
        self.physics::<f64>().entropy_derivative(f, 0.0)
    }

    /// Chemical potential ξ = λ|x|²/2 + D Φ'(f).
    pub fn chemical_potential(&self, radius_squared: f64, f: f64) -> f64 {
        0.5 * self.lambda * radius_squared + self.diffusion * self.entropy_derivative(f)
    }

    /// The global positivity bound of the classic upwind scheme with forward Euler as
    /// docs/MATH.md §2a states it: Δt ≤ 1 / (2dD/h² + Σ_dims λ L (1 + (1+γ) β ‖f‖∞^γ)/h),
    /// with the inflow term of §2i for fermions. The CPU backend uses its cell-local form,
    /// which is never smaller (tested).
    pub fn upwind_dt_bound_global(&self, grid: &Grid, max_density: f64) -> f64 {
        let d = grid.dim as f64;
        let h = grid.h();
        let phys = self.physics::<f64>();
        // m' ≥ 1 for bosons; for fermions the outflow factor is ≤ 1 and largest at f = 0
        let outflow = phys.outflow_factor(max_density.max(0.0)).max(1.0);
        let drift = self.lambda * grid.half_width * outflow
            + self.lambda * (grid.half_width + h) * phys.inflow_factor;
        1.0 / (2.0 * d * self.diffusion / (h * h) + d * drift / h)
    }
}

/// f^γ with fast paths for the exponents people use (γ = 1, 2, 3, 4): `powf` is the
/// most expensive instruction of a step otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Power {
    One,
    Two,
    Three,
    Four,
    General(f64),
}

impl Power {
    pub fn new(gamma: f64) -> Self {
        if gamma == 1.0 {
            Power::One
        } else if gamma == 2.0 {
            Power::Two
        } else if gamma == 3.0 {
            Power::Three
        } else if gamma == 4.0 {
            Power::Four
        } else {
            Power::General(gamma)
        }
    }

    #[inline(always)]
    pub fn apply<T: Real>(self, x: T) -> T {
        match self {
            Power::One => x,
            Power::Two => x * x,
            Power::Three => x * x * x,
            Power::Four => {
                let x2 = x * x;
                x2 * x2
            }
            Power::General(g) => x.powf(T::from_f64(g)),
        }
    }

    /// The `power_kind` of the shaders' `power` (shaders/shared/model.wgsl): 1–4 for the
    /// multiplication fast paths, 0 for pow.
    pub fn shader_kind(self) -> u32 {
        match self {
            Power::One => 1,
            Power::Two => 2,
            Power::Three => 3,
            Power::Four => 4,
            Power::General(_) => 0,
        }
    }

    /// Run `body` with x ↦ x^γ as a closure specialised for this exponent, so that a
    /// loop inside `body` is compiled once per exponent with no branch per element
    /// (a `match` per element stops vectorisation).
    #[inline(always)]
    pub fn with<T: Real, R>(self, body: impl PowerBody<T, R>) -> R {
        match self {
            Power::One => body.run(|x: T| x),
            Power::Two => body.run(|x: T| x * x),
            Power::Three => body.run(|x: T| x * x * x),
            Power::Four => body.run(|x: T| {
                let x2 = x * x;
                x2 * x2
            }),
            Power::General(g) => {
                let g = T::from_f64(g);
                body.run(move |x: T| x.powf(g))
            }
        }
    }
}

/// A computation generic over the power function (see `Power::with`).
pub trait PowerBody<T, R> {
    fn run(self, pow: impl Fn(T) -> T + Copy) -> R;
}

/// The entropy density Φ with Φ'(f) = log f − log(1 + b f^γ)/γ, Φ(0) = 0, b = ±β.
///
/// Bosons: Φ(f) = f Φ'(f) − K(f) with K(f) = ∫_0^f ds / (1 + β s^γ) (integration by parts),
/// and K(f) = β^{-1/γ} k(β^{1/γ} f) with k(z) = ∫_0^z dσ / (1 + σ^γ). k is integrated
/// numerically once onto a log-spaced table and evaluated by cubic Hermite
/// interpolation with its exact derivative 1/(1 + z^γ), which keeps the relative error
/// below 1e-12 (step 1/256 in ln z) — far below the entropy decrease of a step.
///
/// Fermions: K diverges at saturation, so Φ(f) = f ln f − f − (S/γ) q(f/S), S = β^{−1/γ},
/// q(z) = ∫_0^z ln(1 − σ^γ) dσ = −(1 − z) ln(1 − z) − z + R(z), where R integrates the
/// smooth r(σ) = ln((1 − σ^γ)/(1 − σ)) (r(1) = ln γ). R and r are tabulated on a uniform
/// grid of [0, 1] (docs/MATH.md §2i).
#[derive(Clone, Debug)]
pub struct EntropyFunction {
    beta: f64,
    gamma: f64,
    power: Power,
    statistics: Statistics,
    /// β^{-1/γ}: the density scale of the nonlinearity.
    scale: f64,
    /// Bosons: k on the log-spaced nodes. Fermions: R on the uniform nodes, then r.
    table: Vec<f64>,
}

const TABLE_LOG_MIN: f64 = -27.631_021_115_928_547; // ln 1e-12
const TABLE_LOG_MAX: f64 = 69.077_552_789_821_37; // ln 1e30
const TABLE_STEP: f64 = 1.0 / 256.0;
/// Intervals of the fermions' table on [0, 1].
const FERMI_INTERVALS: usize = 4096;

impl EntropyFunction {
    pub fn new(params: &ModelParams) -> Self {
        let (beta, gamma, statistics) = (params.beta, params.gamma, params.statistics);
        let power = Power::new(gamma);
        if beta == 0.0 {
            return Self { beta, gamma, power, statistics, scale: 1.0, table: Vec::new() };
        }
        let scale = beta.powf(-1.0 / gamma);
        if statistics == Statistics::Fermi {
            return Self { beta, gamma, power, statistics, scale, table: fermi_table(gamma) };
        }
        let nodes = ((TABLE_LOG_MAX - TABLE_LOG_MIN) / TABLE_STEP).ceil() as usize + 1;
        let mut table = Vec::with_capacity(nodes);
        let mut value = small_z_series(TABLE_LOG_MIN.exp(), gamma);
        table.push(value);
        for i in 1..nodes {
            // ∫ dσ/(1+σ^γ) over one table interval, in u = ln σ: ∫ e^u/(1+e^{γu}) du.
            let (u0, u1) =
                (TABLE_LOG_MIN + (i - 1) as f64 * TABLE_STEP, TABLE_LOG_MIN + i as f64 * TABLE_STEP);
            value += gauss_legendre_8(|u| u.exp() / (1.0 + (gamma * u).exp()), u0, u1);
            table.push(value);
        }
        Self { beta, gamma, power, statistics, scale, table }
    }

    /// q(z) = ∫_0^z ln(1 − σ^γ) dσ for z ∈ [0, 1] (fermions; twin of reduce.wgsl's).
    fn fermi_q(&self, z: f64) -> f64 {
        let z = z.clamp(0.0, 1.0);
        let nodes = self.table.len() / 2;
        let dz = 1.0 / (nodes - 1) as f64;
        let pos = z / dz;
        let i = (pos.floor() as usize).min(nodes - 2);
        let s = pos - i as f64;
        let (r_int, r) = self.table.split_at(nodes);
        let smooth = hermite(s, r_int[i], r_int[i + 1], r[i] * dz, r[i + 1] * dz);
        let log_part = if z < 1.0 { -(1.0 - z) * (-z).ln_1p() - z } else { -1.0 };
        log_part + smooth
    }

    fn k_scaled(&self, z: f64) -> f64 {
        if z <= 0.0 {
            return 0.0;
        }
        let u = z.ln();
        if u < TABLE_LOG_MIN {
            return small_z_series(z, self.gamma);
        }
        let last = self.table.len() - 1;
        let pos = (u - TABLE_LOG_MIN) / TABLE_STEP;
        if pos >= last as f64 {
            // beyond 1e30: 1/(1+σ^γ) = σ^{-γ} to relative accuracy 1e-30γ
            let z_max = (TABLE_LOG_MIN + last as f64 * TABLE_STEP).exp();
            let tail = if self.gamma == 1.0 {
                (z / z_max).ln()
            } else {
                (z.powf(1.0 - self.gamma) - z_max.powf(1.0 - self.gamma)) / (1.0 - self.gamma)
            };
            return self.table[last] + tail;
        }
        let i = pos.floor() as usize;
        let s = pos - i as f64;
        let derivative = |u: f64| {
            let z = u.exp();
            z / (1.0 + (self.gamma * u).exp())
        };
        let u0 = TABLE_LOG_MIN + i as f64 * TABLE_STEP;
        let (y0, y1) = (self.table[i], self.table[i + 1]);
        let (d0, d1) = (derivative(u0) * TABLE_STEP, derivative(u0 + TABLE_STEP) * TABLE_STEP);
        hermite(s, y0, y1, d0, d1)
    }

    /// K(f) = ∫_0^f ds/(1 + β s^γ).
    pub fn k(&self, f: f64) -> f64 {
        if self.beta == 0.0 {
            f
        } else {
            self.scale * self.k_scaled(f / self.scale)
        }
    }

    /// The table for the GPU twin of `phi`, with its first node, step and the density
    /// scale β^{-1/γ} (None when β = 0: then Φ = f ln f − f). Bosons: k(z) on
    /// ln z = u0 + i du. Fermions: R then r on z = i dz (u0 = 0).
    pub fn table(&self) -> Option<(&[f64], f64, f64, f64)> {
        if self.beta == 0.0 {
            return None;
        }
        Some(match self.statistics {
            Statistics::Bose => (self.table.as_slice(), TABLE_LOG_MIN, TABLE_STEP, self.scale),
            Statistics::Fermi => (self.table.as_slice(), 0.0, 1.0 / FERMI_INTERVALS as f64, self.scale),
        })
    }

    /// Φ(f), with Φ(0) = 0.
    pub fn phi(&self, f: f64) -> f64 {
        if f <= 0.0 {
            return 0.0;
        }
        if self.beta != 0.0 && self.statistics == Statistics::Fermi {
            return f * f.ln() - f - self.scale / self.gamma * self.fermi_q(f / self.scale);
        }
        let derivative = f.ln() - (self.beta * self.power.apply(f)).ln_1p() / self.gamma;
        f * derivative - self.k(f)
    }
}

/// The cubic Hermite interpolant at s ∈ [0, 1] of values y0, y1 and (scaled) slopes d0, d1.
fn hermite(s: f64, y0: f64, y1: f64, d0: f64, d1: f64) -> f64 {
    let (s2, s3) = (s * s, s * s * s);
    (2.0 * s3 - 3.0 * s2 + 1.0) * y0 + (s3 - 2.0 * s2 + s) * d0 + (-2.0 * s3 + 3.0 * s2) * y1 + (s3 - s2) * d1
}

/// r(σ) = ln((1 − σ^γ)/(1 − σ)) on [0, 1], ln γ at σ = 1: smooth, unlike ln(1 − σ^γ).
fn fermi_r(sigma: f64, gamma: f64) -> f64 {
    if sigma <= 0.0 {
        0.0
    } else if sigma >= 1.0 {
        gamma.ln()
    } else if sigma < 0.5 {
        (-sigma.powf(gamma)).ln_1p() - (-sigma).ln_1p()
    } else {
        (-(gamma * sigma.ln()).exp_m1() / (1.0 - sigma)).ln()
    }
}

/// [R(z_i)…, r(z_i)…] on z_i = i/FERMI_INTERVALS, R(z) = ∫_0^z r (8-point Gauss–Legendre
/// per interval).
fn fermi_table(gamma: f64) -> Vec<f64> {
    let dz = 1.0 / FERMI_INTERVALS as f64;
    let mut table = Vec::with_capacity(2 * (FERMI_INTERVALS + 1));
    let mut integral = 0.0;
    table.push(integral);
    for i in 0..FERMI_INTERVALS {
        integral += gauss_legendre_8(|s| fermi_r(s, gamma), i as f64 * dz, (i + 1) as f64 * dz);
        table.push(integral);
    }
    table.extend((0..=FERMI_INTERVALS).map(|i| fermi_r(i as f64 * dz, gamma)));
    table
}

/// k(z) = Σ_j (-1)^j z^{1+jγ}/(1+jγ) for z ≤ 1e-12 (terms shrink by z^γ each).
fn small_z_series(z: f64, gamma: f64) -> f64 {
    let ratio = z.powf(gamma);
    let (mut term, mut sum, mut sign) = (z, 0.0, 1.0);
    for j in 0..200 {
        let add = sign * term / (1.0 + j as f64 * gamma);
        sum += add;
        if add.abs() <= 1e-18 * sum.abs() {
            break;
        }
        term *= ratio;
        sign = -sign;
    }
    sum
}

/// 8-point Gauss–Legendre rule on [a, b].
pub(crate) fn gauss_legendre_8(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const NODES: [f64; 4] =
        [0.183_434_642_495_649_8, 0.525_532_409_916_329, 0.796_666_477_413_626_7, 0.960_289_856_497_536_3];
    const WEIGHTS: [f64; 4] =
        [0.362_683_783_378_362, 0.313_706_645_877_887_3, 0.222_381_034_453_374_5, 0.101_228_536_290_376_3];
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let mut s = 0.0;
    for (x, w) in NODES.iter().zip(WEIGHTS) {
        s += w * (f(mid - half * x) + f(mid + half * x));
    }
    s * half
}

/// Direct quadrature of K(f), for tests of the table.
pub fn k_by_quadrature(params: &ModelParams, f: f64) -> f64 {
    let p = params.power();
    tanh_sinh(|s| 1.0 / (1.0 + params.beta * p.apply(s)), 0.0, f, 1e-15)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(beta: f64, gamma: f64) -> ModelParams {
        ModelParams::bose(1.0, beta, gamma, 1.0)
    }

    #[test]
    fn entropy_table_matches_direct_quadrature() {
        for &(beta, gamma) in &[(1.0, 2.0), (0.3, 3.0), (2.0, 1.5), (1.0, 0.7), (5.0, 1.0)] {
            let p = params(beta, gamma);
            let e = EntropyFunction::new(&p);
            for &f in &[1e-14, 1e-6, 0.01, 0.3, 1.0, 7.5, 1e3, 1e8] {
                let exact = k_by_quadrature(&p, f);
                let got = e.k(f);
                assert!(
                    (got - exact).abs() <= 1e-11 * exact.abs(),
                    "beta={beta} gamma={gamma} f={f}: table {got} quadrature {exact}"
                );
            }
        }
    }

    #[test]
    fn entropy_derivative_is_phi_prime() {
        let p = params(1.3, 2.5);
        let e = EntropyFunction::new(&p);
        for &f in &[0.05, 0.7, 3.0, 40.0] {
            let dh = 1e-5 * f;
            let fd = (e.phi(f + dh) - e.phi(f - dh)) / (2.0 * dh);
            let exact = p.entropy_derivative(f);
            assert!((fd - exact).abs() < 1e-6 * (1.0 + exact.abs()), "f={f}: {fd} vs {exact}");
        }
    }

    /// Fermions: Φ(f) against ∫_0^f Φ'(s) ds by quadrature, up to just below saturation.
    #[test]
    fn fermion_entropy_matches_the_integral_of_its_derivative() {
        for &(beta, gamma) in &[(1.0, 2.0), (0.3, 3.0), (2.0, 1.5), (1.0, 0.7), (5.0, 1.0)] {
            let p = ModelParams { statistics: Statistics::Fermi, ..params(beta, gamma) };
            let e = EntropyFunction::new(&p);
            let sat = p.saturation().unwrap();
            for &z in &[1e-9, 1e-3, 0.2, 0.5, 0.9, 0.999, 1.0 - 1e-9] {
                let f = z * sat;
                let exact = tanh_sinh(|s| p.entropy_derivative(s), 0.0, f, 1e-15);
                let got = e.phi(f);
                assert!(
                    (got - exact).abs() <= 1e-10 * (1.0 + exact.abs()),
                    "beta={beta} gamma={gamma} f={f}: table {got} quadrature {exact}"
                );
            }
            assert!(e.phi(sat).is_finite());
        }
    }

    #[test]
    fn linear_case_is_f_log_f_minus_f() {
        let e = EntropyFunction::new(&params(0.0, 2.0));
        let f: f64 = 0.37;
        assert!((e.phi(f) - (f * f.ln() - f)).abs() < 1e-15);
    }

    #[test]
    fn power_fast_paths_agree_with_powf() {
        for g in [1.0, 2.0, 3.0, 4.0, 2.5] {
            let x = 1.7f64;
            assert!((Power::new(g).apply(x) - x.powf(g)).abs() < 1e-14 * x.powf(g));
        }
    }

    #[test]
    fn parameter_errors_name_the_key() {
        let mut p = params(1.0, 2.0);
        p.gamma = -1.0;
        assert_eq!(p.validate().unwrap_err().key, "model.gamma");
        p.gamma = 2.0;
        p.diffusion = 0.0;
        assert_eq!(p.validate().unwrap_err().key, "model.diffusion");
    }
}
