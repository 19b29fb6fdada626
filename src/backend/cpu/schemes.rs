//! The two finite-volume schemes of MATH.md §2 as (p, q, flux) triples for the sweep.

use super::sweep::FluxScheme;
use crate::grid::Grid;
use crate::model::{ModelParams, Power};
use crate::real::Real;

/// Classic upwind: p = f, q = G(f) = f (1 + β f^γ);
/// F = −D (f_r − f_l)/h + a⁺ G(f_l) + a⁻ G(f_r), a = −λ x_face.
pub struct Upwind<T> {
    power: Power,
    beta: T,
    diffusion_over_h: T,
    /// a⁺ and a⁻ per face k = 0..=N (the grid is the same along both axes).
    a_plus: Vec<T>,
    a_minus: Vec<T>,
    /// (1 + γ) β: the Lipschitz constant of G is 1 + (1+γ) β f^γ.
    lipschitz_factor: T,
    /// Outward drift speed / λ of a cell along one axis: (|x_i| − h/2)⁺.
    outward: Vec<T>,
    dim: usize,
}

impl<T: Real> Upwind<T> {
    pub fn new(grid: &Grid, p: &ModelParams) -> Self {
        let a: Vec<f64> = (0..=grid.cells).map(|k| -p.lambda * grid.face(k)).collect();
        Self {
            power: p.power(),
            beta: T::from_f64(p.beta),
            diffusion_over_h: T::from_f64(p.diffusion / grid.h()),
            a_plus: a.iter().map(|&v| T::from_f64(v.max(0.0))).collect(),
            a_minus: a.iter().map(|&v| T::from_f64(v.min(0.0))).collect(),
            lipschitz_factor: T::from_f64((1.0 + p.gamma) * p.beta),
            outward: grid
                .centres()
                .iter()
                .map(|x| T::from_f64((x.abs() - 0.5 * grid.h()).max(0.0)))
                .collect(),
            dim: grid.dim,
        }
    }
}

impl<T: Real> FluxScheme<T> for Upwind<T> {
    #[inline(always)]
    fn cells(&self, _row: usize, f: &[T], p: &mut [T], q: &mut [T]) {
        p.copy_from_slice(f);
        for (qi, &fi) in q.iter_mut().zip(f) {
            *qi = fi * (T::one() + self.beta * self.power.apply(fi));
        }
    }

    #[inline(always)]
    fn flux(&self, face: usize, pl: T, pr: T, ql: T, qr: T) -> T {
        -self.diffusion_over_h * (pr - pl) + self.a_plus[face] * ql + self.a_minus[face] * qr
    }

    /// Σ_dims (|x| − h/2)⁺ (1 + (1+γ) β f^γ): the drift outflow of a cell per λ/h.
    #[inline(always)]
    fn rate_weight(&self, row: usize, j: usize, f: T) -> T {
        let speed = if self.dim == 2 { self.outward[row] + self.outward[j] } else { self.outward[j] };
        speed * (T::one() + self.lipschitz_factor * self.power.apply(f))
    }
}

/// Gradient-flow upwind: p = ξ (chemical potential, log f floored), q = m(f);
/// u = −(ξ_r − ξ_l)/h, F = u⁺ m(f_l) + u⁻ m(f_r).
pub struct GradientFlow<T> {
    power: Power,
    beta: T,
    inv_gamma: T,
    diffusion: T,
    log_floor: T,
    inv_h: T,
    dim: usize,
    /// λ x_i²/2 per index along an axis.
    half_lambda_x2: Vec<T>,
    lipschitz_factor: T,
}

impl<T: Real> GradientFlow<T> {
    pub fn new(grid: &Grid, p: &ModelParams, log_floor: f64) -> Self {
        Self {
            power: p.power(),
            beta: T::from_f64(p.beta),
            inv_gamma: T::from_f64(1.0 / p.gamma),
            diffusion: T::from_f64(p.diffusion),
            log_floor: T::from_f64(log_floor),
            inv_h: T::from_f64(1.0 / grid.h()),
            dim: grid.dim,
            half_lambda_x2: grid.centres().iter().map(|x| T::from_f64(0.5 * p.lambda * x * x)).collect(),
            lipschitz_factor: T::from_f64((1.0 + p.gamma) * p.beta),
        }
    }

    /// m'(f) f / m(f) = (1 + (1+γ) β f^γ) / (1 + β f^γ): turns the outflow rate
    /// u⁺ m(f)/(h f) into the Lipschitz (monotonicity) rate u⁺ m'(f)/h.
    #[inline(always)]
    pub fn lipschitz_over_mobility(&self, f: T) -> T {
        let fg = self.power.apply(f);
        (T::one() + self.lipschitz_factor * fg) / (T::one() + self.beta * fg)
    }
}

impl<T: Real> FluxScheme<T> for GradientFlow<T> {
    #[inline(always)]
    fn cells(&self, row: usize, f: &[T], p: &mut [T], q: &mut [T]) {
        let row_potential = if self.dim == 2 { self.half_lambda_x2[row] } else { T::zero() };
        for (((pi, qi), &fi), &v) in p.iter_mut().zip(q.iter_mut()).zip(f).zip(&self.half_lambda_x2) {
            let nonlinear = self.beta * self.power.apply(fi);
            let log_f = fi.max(self.log_floor).ln();
            *pi = row_potential + v + self.diffusion * (log_f - nonlinear.ln_1p() * self.inv_gamma);
            *qi = fi * (T::one() + nonlinear);
        }
    }

    #[inline(always)]
    fn flux(&self, _face: usize, pl: T, pr: T, ql: T, qr: T) -> T {
        let u = (pl - pr) * self.inv_h;
        u.max(T::zero()) * ql + u.min(T::zero()) * qr
    }
}
