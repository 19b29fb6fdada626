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

/// Per cell: ξ, ξ' = D/m (0 where f is floored), the mobility's parts m↑, m↓ and their
/// derivatives.
struct Cells {
    xi: Vec<f64>,
    dxi: Vec<f64>,
    up: Vec<f64>,
    down: Vec<f64>,
    d_up: Vec<f64>,
    d_down: Vec<f64>,
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
            cells: Cells {
                xi: vec![0.0; len],
                dxi: vec![0.0; len],
                up: vec![0.0; len],
                down: vec![0.0; len],
                d_up: vec![0.0; len],
                d_down: vec![0.0; len],
            },
            residual: vec![0.0; len],
            jacobian: Stencil::new(grid),
        }
    }

    fn fill_cells(&mut self, f: &[f64]) {
        let p = &self.disc.params;
        let phys = p.physics::<f64>();
        let floor = self.disc.log_floor;
        let c = &mut self.cells;
        for (i, (&fi, &v)) in f.iter().zip(&self.potential).enumerate() {
            c.xi[i] = v + p.diffusion * phys.entropy_derivative(fi, floor);
            c.up[i] = phys.mobility_up(fi);
            c.down[i] = phys.mobility_down(fi);
            (c.d_up[i], c.d_down[i]) = phys.mobility_part_derivatives(fi);
            let m = c.up[i] + c.down[i];
            // a floored cell's ξ does not move with f
            c.dxi[i] = if fi <= floor || m == 0.0 { 0.0 } else { p.diffusion / m };
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
                // face between l and r: u = (ξ_l − ξ_r)/h, F = u M with the face mobility
                // M = m↑(donor) + m↓(receiver)
                let u = (c.xi[l] - c.xi[r]) / h;
                let face = if u >= 0.0 { c.up[l] + c.down[r] } else { c.up[r] + c.down[l] };
                let flux = u * face;
                self.residual[l] += k * flux;
                self.residual[r] -= k * flux;
                if !jacobian {
                    continue;
                }
                let (d_face_left, d_face_right) =
                    if u >= 0.0 { (c.d_up[l], c.d_down[r]) } else { (c.d_down[l], c.d_up[r]) };
                let d_left = c.dxi[l] * face / h + u * d_face_left;
                let d_right = -c.dxi[r] * face / h + u * d_face_right;
                // R_l += k F, R_r −= k F
                j.diag[l] += k * d_left;
                j.upper[axis][l] = k * d_right;
                j.lower[axis][r] = -k * d_left;
                j.diag[r] -= k * d_right;
            }
        }
    }
}
