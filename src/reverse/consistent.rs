//! The reverse step built from the forward scheme's own fluxes (MATH.md §3, "discretely
//! exact variant"), CPU, f64.
//!
//! A forward Euler step is f^{n+1} = f^n − Δt/h div F^n with F^n = F(f^n) the scheme's face
//! fluxes. Its reverse is donor-cell transport of those fluxes,
//!
//!   g ← g + Δt/h div G,   G = F^n g_d / d_d,   d = cell the reverse flow leaves (sign of −F),
//!
//! with divisor field d = f^{n+1}: at g = f^{n+1} it gives G = F^n and returns f^n to
//! round-off. The forward step's positivity bound makes the reverse coefficient
//! Δt Σ|F_out|/(h d) ≤ 1, so the step keeps g ≥ 0 and is conservative. Then the
//! η-smoothing ∂g = η ∇·( w ∇(g/f) ), implicit per axis (a tridiagonal solve along each
//! line, x then y), leaves f invariant exactly, keeps mass, keeps g ≥ 0 (M-matrix), and
//! damps errors g − f; its face weight w is the geometric mean of f (zero next to an
//! empty cell, so an empty cell stays invariant too).
//!
//! Both retracing modes of `generate` use it step by step on the forward time grid (F from
//! f^n, d = f^{n+1}, Δt_n): the exact mode with every f^n stored, the scheme mode with f^n
//! interpolated between snapshots. Its discrete score −F/f includes the forward scheme's
//! numerical diffusion, so the reverse undoes that too. The reverse particles take their
//! velocity from it (`face_velocities`). `transport_bound` is the limiter-free step for a
//! caller with its own time grid.

use crate::backend::cpu::schemes::{GradientFlow, Upwind};
use crate::backend::cpu::sweep::{sweep_rows, FluxScheme, RowScratch};
use crate::backend::cpu::Discretisation;
use crate::config::SchemeKind;
use crate::grid::Grid;

enum Forward {
    Upwind(Upwind<f64>),
    GradientFlow(GradientFlow<f64>),
}

/// Below this density a cell counts as empty for the smoothing (its value is floored).
const EMPTY: f64 = 1e-300;

/// Cells below this fraction of the largest density do not limit the reverse time step.
const NEGLIGIBLE: f64 = 1e-12;

pub struct SchemeReverse {
    grid: Grid,
    eta: f64,
    forward: Forward,
    scratch: RowScratch<f64>,
    /// Forward fluxes F, left → right along rows (rows × (N + 1), boundary faces zero)
    /// and below → above across rows ((N + 1) × N, 2D only), as the sweep emits them.
    along: Vec<f64>,
    across: Vec<f64>,
    divisor: Vec<f64>,
    /// Per cell: Σ|F| over the faces where F points into the cell, / h — the rate at which
    /// the reverse flow empties it relative to d.
    inflow_rate: Vec<f64>,
    /// Thomas-algorithm scratch for one line.
    line: Line,
}

#[derive(Default)]
struct Line {
    f: Vec<f64>,
    rhs: Vec<f64>,
    upper: Vec<f64>,
    diag: Vec<f64>,
}

impl SchemeReverse {
    pub fn new(disc: &Discretisation, eta: f64) -> Self {
        let grid = disc.grid.clone();
        let n = grid.cells;
        let rows = if grid.dim == 2 { n } else { 1 };
        let forward = match disc.scheme {
            SchemeKind::Upwind => Forward::Upwind(Upwind::new(&grid, &disc.params)),
            SchemeKind::GradientFlow => {
                Forward::GradientFlow(GradientFlow::new(&grid, &disc.params, disc.log_floor))
            }
        };
        Self {
            eta,
            forward,
            scratch: RowScratch::new(n),
            along: vec![0.0; rows * (n + 1)],
            across: if grid.dim == 2 { vec![0.0; (n + 1) * n] } else { Vec::new() },
            divisor: vec![0.0; grid.len()],
            inflow_rate: vec![0.0; grid.len()],
            line: Line { f: vec![0.0; n], rhs: vec![0.0; n], upper: vec![0.0; n], diag: vec![0.0; n] },
            grid,
        }
    }

    /// The forward scheme's face fluxes of `f` into `along` / `across`.
    fn compute_fluxes(&mut self, f: &[f64]) {
        match &self.forward {
            Forward::Upwind(s) => {
                fluxes_of(s, &self.grid, f, &mut self.scratch, &mut self.along, &mut self.across)
            }
            Forward::GradientFlow(s) => {
                fluxes_of(s, &self.grid, f, &mut self.scratch, &mut self.along, &mut self.across)
            }
        }
    }

    /// Freeze the transport: fluxes of `flux_source`, donor values divided by `divisor`.
    pub fn set_transport(&mut self, flux_source: &[f64], divisor: &[f64]) {
        self.compute_fluxes(flux_source);
        self.divisor.copy_from_slice(divisor);
        let (n, h) = (self.grid.cells, self.grid.h());
        for (i, rate) in self.inflow_rate.iter_mut().enumerate() {
            let (r, j) = (i / n, i % n);
            // F into cell i: positive on the left/below face, negative on the right/above.
            let mut inflow =
                self.along[r * (n + 1) + j].max(0.0) + (-self.along[r * (n + 1) + j + 1]).max(0.0);
            if self.grid.dim == 2 {
                inflow += self.across[r * n + j].max(0.0) + (-self.across[(r + 1) * n + j]).max(0.0);
            }
            *rate = inflow / h;
        }
    }

    /// Face velocities of the reverse SDE for the density `f`: the transport velocity
    /// −F/f_d of the scheme (d: the cell the reverse flow leaves, as in `transport`) plus
    /// η (ln f₊ − ln f₋)/h, with f floored at `log_floor` in the logarithm. Layout as the
    /// fluxes: `along` rows × (N + 1), `across` (N + 1) × N.
    pub fn face_velocities(&mut self, f: &[f64], log_floor: f64, along: &mut [f64], across: &mut [f64]) {
        self.compute_fluxes(f);
        let (n, h, eta) = (self.grid.cells, self.grid.h(), self.eta);
        let velocity = |flux: f64, low: usize, high: usize| {
            let score = (f[high].max(log_floor).ln() - f[low].max(log_floor).ln()) / h;
            let donor = if flux > 0.0 { high } else { low };
            let transport = if flux == 0.0 { 0.0 } else { -flux / f[donor].max(log_floor) };
            transport + eta * score
        };
        let rows = if self.grid.dim == 2 { n } else { 1 };
        for r in 0..rows {
            for k in 1..n {
                let face = r * (n + 1) + k;
                along[face] = velocity(self.along[face], r * n + k - 1, r * n + k);
            }
            along[r * (n + 1)] = 0.0;
            along[r * (n + 1) + n] = 0.0;
        }
        if self.grid.dim == 2 {
            across[..n].fill(0.0);
            across[n * n..].fill(0.0);
            for k in 1..n {
                for c in 0..n {
                    across[k * n + c] = velocity(self.across[k * n + c], (k - 1) * n + c, k * n + c);
                }
            }
        }
    }

    /// The forward Euler step of the frozen fluxes, out = f − Δt/h div F: the step the
    /// transport reverses (tests compare the two).
    pub fn forward_step(&self, f: &[f64], dt: f64, out: &mut [f64]) {
        let h = self.grid.h();
        for (i, o) in out.iter_mut().enumerate() {
            *o = f[i] - dt / h * self.divergence(i);
        }
    }

    /// Σ (F_out − F_in) of cell i with the stored fluxes.
    fn divergence(&self, i: usize) -> f64 {
        let n = self.grid.cells;
        let (r, j) = (i / n, i % n);
        let mut div = self.along[r * (n + 1) + j + 1] - self.along[r * (n + 1) + j];
        if self.grid.dim == 2 {
            div += self.across[(r + 1) * n + j] - self.across[r * n + j];
        }
        div
    }

    /// Largest Δt for which the transport needs no limiting: 1 / max_i rate_i / d_i over
    /// the cells holding a density above `NEGLIGIBLE` × max d (in the others the limiter of
    /// `transport` keeps g ≥ 0 whatever Δt; they hold no mass worth a time step).
    pub fn transport_bound(&self) -> f64 {
        let cutoff = NEGLIGIBLE * self.divisor.iter().copied().fold(0.0, f64::max);
        let worst = self
            .inflow_rate
            .iter()
            .zip(&self.divisor)
            .filter(|(_, d)| **d > cutoff)
            .map(|(r, d)| r / d)
            .fold(0.0, f64::max);
        if worst > 0.0 {
            1.0 / worst
        } else {
            f64::INFINITY
        }
    }

    /// Reverse donor-cell transport: out = g + Δt/h div(F g_d / d_d). The divisor is
    /// limited to d ≥ Δt rate (at most all of g leaves a cell), which keeps g ≥ 0 for any
    /// Δt; under `transport_bound` (and always in the exact mode, where d = f^{n+1} and the
    /// forward step was positive) the limiter is inactive up to round-off.
    pub fn transport(&self, g: &[f64], dt: f64, out: &mut [f64]) {
        let (d, rate) = (&self.divisor, &self.inflow_rate);
        // Face flux F scaled by the donor's g/d; the donor is where −F comes from.
        let scaled = |flux: f64, low: usize, high: usize| {
            let donor = if flux > 0.0 { high } else { low };
            if flux == 0.0 {
                0.0
            } else {
                flux * g[donor] / d[donor].max(dt * rate[donor]).max(EMPTY)
            }
        };
        let n = self.grid.cells;
        let (along, across, two_d) = (&self.along, &self.across, self.grid.dim == 2);
        let h = self.grid.h();
        for (i, o) in out.iter_mut().enumerate() {
            let (r, j) = (i / n, i % n);
            let left = if j > 0 { scaled(along[r * (n + 1) + j], i - 1, i) } else { 0.0 };
            let right = if j + 1 < n { scaled(along[r * (n + 1) + j + 1], i, i + 1) } else { 0.0 };
            let (mut below, mut above) = (0.0, 0.0);
            if two_d {
                if r > 0 {
                    below = scaled(across[r * n + j], i - n, i);
                }
                if r + 1 < n {
                    above = scaled(across[(r + 1) * n + j], i, i + n);
                }
            }
            *o = g[i] + dt / h * ((above - below) + (right - left));
        }
    }

    /// Implicit η-smoothing that leaves `f` invariant: (I − Δt η A_f) per axis, where
    /// (A_f g)_i = Σ_faces w (g_j/f_j − g_i/f_i)/h², w = √(f_i f_j).
    pub fn smooth(&mut self, f: &[f64], dt: f64, g: &mut [f64]) {
        if self.eta == 0.0 || dt == 0.0 {
            return;
        }
        let n = self.grid.cells;
        let c = dt * self.eta / (self.grid.h() * self.grid.h());
        let lines = if self.grid.dim == 2 { n } else { 1 };
        // along rows
        for r in 0..lines {
            let idx = |k: usize| r * n + k;
            self.line.solve(c, f, g, idx);
        }
        // across rows (columns)
        if self.grid.dim == 2 {
            for col in 0..n {
                let idx = |k: usize| k * n + col;
                self.line.solve(c, f, g, idx);
            }
        }
    }
}

impl Line {
    /// Solve for u = g/f on one line: f_i u_i − c Σ w (u_j − u_i) = g_i, then g = f u.
    /// Symmetric and strictly diagonally dominant: Thomas' algorithm without pivoting.
    fn solve(&mut self, c: f64, f: &[f64], g: &mut [f64], idx: impl Fn(usize) -> usize) {
        let n = self.f.len();
        for k in 0..n {
            self.f[k] = f[idx(k)].max(EMPTY);
            self.rhs[k] = g[idx(k)];
        }
        // upper[k]: coupling of k and k + 1 (−c w); the matrix is symmetric.
        for k in 0..n {
            self.upper[k] = if k + 1 < n { -c * (self.f[k] * self.f[k + 1]).sqrt() } else { 0.0 };
        }
        for k in 0..n {
            let lower = if k > 0 { self.upper[k - 1] } else { 0.0 };
            self.diag[k] = self.f[k] - lower - self.upper[k];
        }
        // forward elimination
        for k in 1..n {
            let m = self.upper[k - 1] / self.diag[k - 1];
            self.diag[k] -= m * self.upper[k - 1];
            self.rhs[k] -= m * self.rhs[k - 1];
        }
        // back substitution (u into rhs)
        self.rhs[n - 1] /= self.diag[n - 1];
        for k in (0..n - 1).rev() {
            self.rhs[k] = (self.rhs[k] - self.upper[k] * self.rhs[k + 1]) / self.diag[k];
        }
        for k in 0..n {
            g[idx(k)] = self.f[k] * self.rhs[k];
        }
    }
}

/// Run the forward scheme's sweep over every row and keep its face fluxes.
fn fluxes_of<S: FluxScheme<f64>>(
    scheme: &S,
    grid: &Grid,
    f: &[f64],
    scratch: &mut RowScratch<f64>,
    along: &mut [f64],
    across: &mut [f64],
) {
    let n = grid.cells;
    let rows = if grid.dim == 2 { n } else { 1 };
    sweep_rows(scheme, n, grid.dim, f, 0..rows, scratch, |r, _, fl| {
        along[r * (n + 1)..(r + 1) * (n + 1)].copy_from_slice(fl.along);
        if grid.dim == 2 {
            across[r * n..(r + 1) * n].copy_from_slice(fl.below);
            if r + 1 == rows {
                across[rows * n..].copy_from_slice(fl.above);
            }
        }
    });
}
