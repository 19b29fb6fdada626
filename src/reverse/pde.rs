//! The stabilised reverse-time PDE (R_η) of docs/MATH.md §3 on the grid, CPU:
//!
//!   ∂s g = −∇·( g V ) + η Δg,   V = λ y (1 + β f^γ) + (D + η) ∇log f,   f = f(T − s)
//!
//! with f the stored FORWARD solution, frozen over a step. Per face: the score
//! (log f₊ − log f₋)/h with a floor on f, f at the face as the mean of its two cells; the
//! flux is upwind, F = V⁺ g₋ + V⁻ g₊ − η (g₊ − g₋)/h, or Scharfetter–Gummel (`FaceFlux`),
//! zero on the boundary. Conservative, so mass is kept to round-off; positive under
//! Δt ≤ bound().

use crate::grid::Grid;
use crate::model::{ModelParams, Physics};

pub use crate::kinds::FaceFlux;

/// B(z) = z/(e^z − 1), B(0) = 1 (series near 0, where e^z − 1 cancels).
pub fn bernoulli(z: f64) -> f64 {
    if z.abs() < 1e-3 {
        1.0 - 0.5 * z + z * z / 12.0
    } else {
        z / z.exp_m1()
    }
}

impl FaceFlux {
    /// (a, b) with F = a g₋ − b g₊, a, b ≥ 0: the rates at which the face drains the cell
    /// on its left and on its right (times h).
    pub fn coefficients(self, v: f64, eta: f64, h: f64) -> (f64, f64) {
        match self {
            FaceFlux::Upwind => (v.max(0.0) + eta / h, (-v).max(0.0) + eta / h),
            FaceFlux::ScharfetterGummel if eta > 0.0 => {
                let p = v * h / eta;
                (eta / h * bernoulli(-p), eta / h * bernoulli(p))
            }
            FaceFlux::ScharfetterGummel => (v.max(0.0), (-v).max(0.0)),
        }
    }
}

pub struct ReversePde {
    grid: Grid,
    params: ModelParams,
    /// The model's pointwise functions, built once (face velocities use its drift factor).
    physics: Physics<f64>,
    eta: f64,
    log_floor: f64,
    /// Face velocities of the current f: along rows (axis 1; N + 1 per row, boundary 0)
    /// and across rows (axis 0; N + 1 per column, 2D only), face-major.
    along: Vec<f64>,
    across: Vec<f64>,
    flux: FaceFlux,
    /// Scharfetter–Gummel only: each face's (a, b) of `FaceFlux::coefficients`, computed
    /// once per velocity field rather than every step.
    coefficients_along: Vec<(f64, f64)>,
    coefficients_across: Vec<(f64, f64)>,
}

impl ReversePde {
    pub fn new(grid: &Grid, params: &ModelParams, eta: f64, log_floor: f64) -> Self {
        let n = grid.cells;
        let rows = if grid.dim == 2 { n } else { 1 };
        Self {
            grid: grid.clone(),
            params: *params,
            physics: params.physics(),
            eta,
            log_floor,
            along: vec![0.0; rows * (n + 1)],
            across: if grid.dim == 2 { vec![0.0; (n + 1) * n] } else { Vec::new() },
            flux: FaceFlux::Upwind,
            coefficients_along: Vec::new(),
            coefficients_across: Vec::new(),
        }
    }

    /// The same step with another face flux.
    pub fn with_flux(mut self, flux: FaceFlux) -> Self {
        self.flux = flux;
        self.refresh_coefficients();
        self
    }

    /// Recompute the cached face coefficients after the velocities changed.
    fn refresh_coefficients(&mut self) {
        if self.flux == FaceFlux::Upwind {
            return;
        }
        let (flux, eta, h) = (self.flux, self.eta, self.grid.h());
        self.coefficients_along = self.along.iter().map(|&v| flux.coefficients(v, eta, h)).collect();
        self.coefficients_across = self.across.iter().map(|&v| flux.coefficients(v, eta, h)).collect();
    }

    fn face_velocity(&self, x_face: f64, fl: f64, fr: f64) -> f64 {
        let p = &self.params;
        let mean = 0.5 * (fl + fr);
        let nonlinear = self.physics.drift_factor(mean);
        let score = (fr.max(self.log_floor).ln() - fl.max(self.log_floor).ln()) / self.grid.h();
        p.lambda * x_face * nonlinear + (p.diffusion + self.eta) * score
    }

    /// Freeze the forward density f (= f(T − s)) for the next steps.
    pub fn set_forward(&mut self, f: &[f64]) {
        let n = self.grid.cells;
        let rows = if self.grid.dim == 2 { n } else { 1 };
        for r in 0..rows {
            for k in 1..n {
                let v = self.face_velocity(self.grid.face(k), f[r * n + k - 1], f[r * n + k]);
                self.along[r * (n + 1) + k] = v;
            }
        }
        if self.grid.dim == 2 {
            for k in 1..n {
                let x = self.grid.face(k);
                for c in 0..n {
                    self.across[k * n + c] = self.face_velocity(x, f[(k - 1) * n + c], f[k * n + c]);
                }
            }
        }
        self.refresh_coefficients();
    }

    /// Set the face velocities from a velocity field: `velocity(x, axis)` is its component
    /// along `axis` at the face centre x (d coordinates, axis 0 first); in parallel over
    /// rows (the field may be costly, e.g. an exact score). Boundary faces stay 0.
    pub fn set_velocities(&mut self, velocity: impl Fn(&[f64], usize) -> f64 + Sync) {
        use rayon::prelude::*;
        let grid = &self.grid;
        let n = grid.cells;
        let two_d = grid.dim == 2;
        self.along.par_chunks_mut(n + 1).enumerate().for_each(|(r, row)| {
            for (k, v) in row.iter_mut().enumerate().take(n).skip(1) {
                *v = if two_d {
                    velocity(&[grid.centre(r), grid.face(k)], 1)
                } else {
                    velocity(&[grid.face(k)], 0)
                };
            }
        });
        if two_d {
            self.across.par_chunks_mut(n).enumerate().skip(1).take(n - 1).for_each(|(k, faces)| {
                for (c, v) in faces.iter_mut().enumerate() {
                    *v = velocity(&[grid.face(k), grid.centre(c)], 0);
                }
            });
        }
        self.refresh_coefficients();
    }

    /// The frozen face velocities along rows (rows × (N + 1), boundary faces 0).
    pub fn velocities_along(&self) -> &[f64] {
        &self.along
    }

    /// Positivity bound of the explicit step for the frozen velocities.
    pub fn bound(&self) -> f64 {
        outflow_bound(&self.grid, &self.along, &self.across, self.eta, self.flux)
    }

    /// Set the face velocities directly (the layouts of `velocities_along` and of the
    /// faces across rows, boundary faces 0): for velocities computed elsewhere.
    pub fn set_face_velocities(&mut self, along: &[f64], across: &[f64]) {
        self.along.copy_from_slice(along);
        self.across.copy_from_slice(across);
        self.refresh_coefficients();
    }

    /// One forward-Euler step of (R_η): out = g + Δt L(g), in parallel over rows (each
    /// cell's arithmetic is the same whatever the threads).
    pub fn step(&self, g: &[f64], dt: f64, out: &mut [f64]) {
        use rayon::prelude::*;
        let (n, h) = (self.grid.cells, self.grid.h());
        let two_d = self.grid.dim == 2;
        let eta_h = self.eta / h;
        let (sg_along, sg_across) = (&self.coefficients_along, &self.coefficients_across);
        let upwind = self.flux == FaceFlux::Upwind;
        // flux through interior face `face` (index into `velocities`) from gl to gr
        let flux = |velocities: &[f64], coefficients: &[(f64, f64)], face: usize, gl: f64, gr: f64| {
            if upwind {
                let v = velocities[face];
                v.max(0.0) * gl + v.min(0.0) * gr - eta_h * (gr - gl)
            } else {
                let (a, b) = coefficients[face];
                a * gl - b * gr
            }
        };
        let (along, across) = (&self.along, &self.across);
        out.par_chunks_mut(n).enumerate().for_each(|(r, row)| {
            for (j, o) in row.iter_mut().enumerate() {
                let i = r * n + j;
                let left = if j > 0 { flux(along, sg_along, r * (n + 1) + j, g[i - 1], g[i]) } else { 0.0 };
                let right =
                    if j + 1 < n { flux(along, sg_along, r * (n + 1) + j + 1, g[i], g[i + 1]) } else { 0.0 };
                let (mut below, mut above) = (0.0, 0.0);
                if two_d {
                    if r > 0 {
                        below = flux(across, sg_across, r * n + j, g[i - n], g[i]);
                    }
                    if r + 1 < n {
                        above = flux(across, sg_across, (r + 1) * n + j, g[i], g[i + n]);
                    }
                }
                *o = g[i] - dt / h * ((above - below) + (right - left));
            }
        });
    }
}

/// Positivity bound of the explicit step for face velocities `along` and `across` (the
/// layouts of `ReversePde`): 1 / the largest rate at which a cell drains, Σ_faces V_out⁺/h
/// plus the diffusive 2dη/h² for upwind, Σ_faces (the face's coefficient)/h otherwise.
pub fn outflow_bound(grid: &Grid, along: &[f64], across: &[f64], eta: f64, flux: FaceFlux) -> f64 {
    if flux != FaceFlux::Upwind {
        return coefficient_bound(grid, along, across, eta, flux);
    }
    let (n, h) = (grid.cells, grid.h());
    let rows = if grid.dim == 2 { n } else { 1 };
    let mut worst: f64 = 0.0;
    for r in 0..rows {
        for j in 0..n {
            let mut out = along[r * (n + 1) + j + 1].max(0.0) + (-along[r * (n + 1) + j]).max(0.0);
            if grid.dim == 2 {
                out += across[(r + 1) * n + j].max(0.0) + (-across[r * n + j]).max(0.0);
            }
            worst = worst.max(out / h);
        }
    }
    1.0 / (worst + 2.0 * grid.dim as f64 * eta / (h * h))
}

/// The face centres in the layouts of `ReversePde`'s velocities, d coordinates each
/// (boundary faces included): along rows (rows × (N + 1); the velocity there is along the
/// last axis) and, in 2D, across rows ((N + 1) × N; along axis 0).
pub fn face_centres(grid: &Grid) -> (Vec<f64>, Vec<f64>) {
    let n = grid.cells;
    if grid.dim == 1 {
        return ((0..=n).map(|k| grid.face(k)).collect(), Vec::new());
    }
    let along = (0..n).flat_map(|r| (0..=n).flat_map(move |k| [grid.centre(r), grid.face(k)])).collect();
    let across = (0..=n).flat_map(|k| (0..n).flat_map(move |c| [grid.face(k), grid.centre(c)])).collect();
    (along, across)
}

/// `outflow_bound` from the faces' coefficients: interior faces only (walls carry nothing).
fn coefficient_bound(grid: &Grid, along: &[f64], across: &[f64], eta: f64, flux: FaceFlux) -> f64 {
    let (n, h) = (grid.cells, grid.h());
    let rows = if grid.dim == 2 { n } else { 1 };
    // rate leaving the cell left of (or below) face v, and the cell right of (above) it
    let drain = |v: f64| flux.coefficients(v, eta, h);
    let mut worst: f64 = 0.0;
    for r in 0..rows {
        for j in 0..n {
            let mut out = 0.0;
            if j + 1 < n {
                out += drain(along[r * (n + 1) + j + 1]).0;
            }
            if j > 0 {
                out += drain(along[r * (n + 1) + j]).1;
            }
            if grid.dim == 2 {
                if r + 1 < n {
                    out += drain(across[(r + 1) * n + j]).0;
                }
                if r > 0 {
                    out += drain(across[r * n + j]).1;
                }
            }
            worst = worst.max(out / h);
        }
    }
    if worst > 0.0 {
        1.0 / worst
    } else {
        f64::INFINITY
    }
}
