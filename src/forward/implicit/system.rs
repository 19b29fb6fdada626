//! The nonlinear system of one implicit step of the gradient-flow scheme (docs/MATH.md §2e),
//! R(f) = a₀ f − b + (Δt/h) Σ_faces (F_out(f) − F_in(f)) = 0, with b the weighted earlier states (backward Euler: a₀ = 1, b = fⁿ; BDF2: §2g), and its
//! Jacobian on the (2d+1)-point stencil. The fluxes are those of the explicit scheme
//! (`cpu::schemes::GradientFlow`, the same faces, zero flux through the box's edges), so
//! a discrete steady state solves every step. Every column of the Jacobian sums to a₀
//! (a face's flux leaves one cell and enters the next).

use super::super::Discretisation;
use crate::grid::Grid;

/// A Jacobian on the grid's stencil, by rows: `diag[i]` = ∂R_i/∂f_i and, per axis with
/// stride s, `lower[a][i]` = ∂R_i/∂f_{i−s}, `upper[a][i]` = ∂R_i/∂f_{i+s}.
pub struct Stencil {
    pub n: usize,
    /// The flat-index stride of each axis (1D: [1]; 2D: [N, 1]).
    pub strides: Vec<usize>,
    pub diag: Vec<f64>,
    pub lower: Vec<Vec<f64>>,
    pub upper: Vec<Vec<f64>>,
}

impl Stencil {
    pub(super) fn new(grid: &Grid) -> Self {
        let len = grid.len();
        let strides = if grid.dim == 1 { vec![1] } else { vec![grid.cells, 1] };
        let axes = strides.len();
        Self {
            n: grid.cells,
            strides,
            diag: vec![0.0; len],
            lower: vec![vec![0.0; len]; axes],
            upper: vec![vec![0.0; len]; axes],
        }
    }

    /// Whether cell `i` has a neighbour at i + stride along the axis of `stride`.
    #[inline]
    pub fn has_next(&self, i: usize, stride: usize) -> bool {
        (i / stride) % self.n + 1 < self.n
    }
}

/// Per cell: ξ, ξ' = D/m (0 where f is floored), m and m'.
struct Cells {
    xi: Vec<f64>,
    dxi: Vec<f64>,
    m: Vec<f64>,
    dm: Vec<f64>,
}

/// R and its Jacobian for the steps of one discretisation (scratch kept between calls).
pub struct StepSystem {
    disc: Discretisation,
    /// λ|x_i|²/2 per cell.
    potential: Vec<f64>,
    cells: Cells,
    pub residual: Vec<f64>,
    pub jacobian: Stencil,
}

impl StepSystem {
    pub fn new(disc: &Discretisation) -> Self {
        let grid = &disc.grid;
        let len = grid.len();
        let potential = (0..len).map(|i| 0.5 * disc.params.lambda * grid.radius_squared(i)).collect();
        Self {
            disc: disc.clone(),
            potential,
            cells: Cells { xi: vec![0.0; len], dxi: vec![0.0; len], m: vec![0.0; len], dm: vec![0.0; len] },
            residual: vec![0.0; len],
            jacobian: Stencil::new(grid),
        }
    }

    fn fill_cells(&mut self, f: &[f64]) {
        let p = &self.disc.params;
        let power = p.power();
        let floor = self.disc.log_floor;
        let c = &mut self.cells;
        for (i, (&fi, &v)) in f.iter().zip(&self.potential).enumerate() {
            let fg = p.beta * power.apply(fi);
            c.xi[i] = v + p.diffusion * (fi.max(floor).ln() - fg.ln_1p() / p.gamma);
            c.m[i] = fi * (1.0 + fg);
            c.dm[i] = 1.0 + (1.0 + p.gamma) * fg;
            // a floored cell's ξ does not move with f
            c.dxi[i] = if fi <= floor || c.m[i] == 0.0 { 0.0 } else { p.diffusion / c.m[i] };
        }
    }

    /// `residual` = R(f) for a₀ f − b + (Δt/h) div F(f); with `jacobian`, also ∂R/∂f.
    pub fn evaluate(&mut self, f: &[f64], b: &[f64], a0: f64, dt: f64, jacobian: bool) {
        let h = self.disc.grid.h();
        let k = dt / h;
        self.fill_cells(f);
        for ((r, &fi), &bi) in self.residual.iter_mut().zip(f).zip(b) {
            *r = a0 * fi - bi;
        }
        let j = &mut self.jacobian;
        if jacobian {
            j.diag.fill(a0);
        }
        let c = &self.cells;
        for axis in 0..j.strides.len() {
            let s = j.strides[axis];
            for l in 0..f.len() {
                if !j.has_next(l, s) {
                    continue;
                }
                let r = l + s;
                // face between l and r: u = (ξ_l − ξ_r)/h, F = u⁺ m_l + u⁻ m_r
                let u = (c.xi[l] - c.xi[r]) / h;
                let flux = if u >= 0.0 { u * c.m[l] } else { u * c.m[r] };
                self.residual[l] += k * flux;
                self.residual[r] -= k * flux;
                if !jacobian {
                    continue;
                }
                let (d_left, d_right) = if u >= 0.0 {
                    (c.dxi[l] * c.m[l] / h + u * c.dm[l], -c.dxi[r] * c.m[l] / h)
                } else {
                    (c.dxi[l] * c.m[r] / h, -c.dxi[r] * c.m[r] / h + u * c.dm[r])
                };
                // R_l += k F, R_r −= k F
                j.diag[l] += k * d_left;
                j.upper[axis][l] = k * d_right;
                j.lower[axis][r] = -k * d_left;
                j.diag[r] -= k * d_right;
            }
        }
    }
}
