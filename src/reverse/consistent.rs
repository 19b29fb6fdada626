//! The reverse step built from the forward scheme's own fluxes (docs/MATH.md §3, "discretely
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

use crate::config::SchemeKind;
use crate::forward::cpu::row_sweep::{sweep_rows, FluxScheme, RowScratch};
use crate::forward::cpu::schemes::{GradientFlow, Upwind};
use crate::forward::cpu::Discretisation;
use crate::grid::Grid;
use rayon::prelude::*;

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
    /// Rows per block of the parallel flux sweep, and one sweep scratch per block.
    rows_per_block: usize,
    scratch: Vec<RowScratch<f64>>,
    /// Forward fluxes F, left → right along rows (rows × (N + 1), boundary faces zero)
    /// and below → above across rows ((N + 1) × N, 2D only), as the sweep emits them.
    along: Vec<f64>,
    across: Vec<f64>,
    divisor: Vec<f64>,
    /// Per cell: Σ|F| over the faces where F points into the cell, / h — the rate at which
    /// the reverse flow empties it relative to d.
    inflow_rate: Vec<f64>,
    /// Transposes of f and g for the smoothing across rows (2D only).
    f_t: Vec<f64>,
    g_t: Vec<f64>,
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
        // a few blocks per thread so rayon can balance; the split does not change results
        let blocks = if grid.dim == 2 { (4 * rayon::current_num_threads()).min(rows) } else { 1 };
        let rows_per_block = rows.div_ceil(blocks);
        Self {
            eta,
            forward,
            rows_per_block,
            scratch: (0..rows.div_ceil(rows_per_block)).map(|_| RowScratch::new(n)).collect(),
            along: vec![0.0; rows * (n + 1)],
            across: if grid.dim == 2 { vec![0.0; (n + 1) * n] } else { Vec::new() },
            divisor: vec![0.0; grid.len()],
            inflow_rate: vec![0.0; grid.len()],
            f_t: if grid.dim == 2 { vec![0.0; grid.len()] } else { Vec::new() },
            g_t: if grid.dim == 2 { vec![0.0; grid.len()] } else { Vec::new() },
            grid,
        }
    }

    /// The forward scheme's face fluxes of `f` into `along` / `across`.
    fn compute_fluxes(&mut self, f: &[f64]) {
        let (grid, rows_per_block) = (&self.grid, self.rows_per_block);
        let (scratch, along, across) = (&mut self.scratch, &mut self.along, &mut self.across);
        match &self.forward {
            Forward::Upwind(s) => fluxes_of(s, grid, rows_per_block, f, scratch, along, across),
            Forward::GradientFlow(s) => fluxes_of(s, grid, rows_per_block, f, scratch, along, across),
        }
    }

    /// Freeze the transport: fluxes of `flux_source`, donor values divided by `divisor`.
    pub fn set_transport(&mut self, flux_source: &[f64], divisor: &[f64]) {
        self.compute_fluxes(flux_source);
        self.divisor.copy_from_slice(divisor);
        let (n, h, two_d) = (self.grid.cells, self.grid.h(), self.grid.dim == 2);
        let (along, across) = (&self.along, &self.across);
        self.inflow_rate.par_chunks_mut(n).enumerate().for_each(|(r, rates)| {
            for (j, rate) in rates.iter_mut().enumerate() {
                // F into cell (r, j): positive on the left/below face, negative on the right/above.
                let mut inflow = along[r * (n + 1) + j].max(0.0) + (-along[r * (n + 1) + j + 1]).max(0.0);
                if two_d {
                    inflow += across[r * n + j].max(0.0) + (-across[(r + 1) * n + j]).max(0.0);
                }
                *rate = inflow / h;
            }
        });
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
            .par_iter()
            .zip(&self.divisor)
            .filter(|(_, d)| **d > cutoff)
            .map(|(r, d)| r / d)
            .reduce(|| 0.0, f64::max);
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
        out.par_chunks_mut(n).enumerate().for_each(|(r, row)| {
            for (j, o) in row.iter_mut().enumerate() {
                let i = r * n + j;
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
        });
    }

    /// Implicit η-smoothing that leaves `f` invariant: (I − Δt η A_f) per axis, where
    /// (A_f g)_i = Σ_faces w (g_j/f_j − g_i/f_i)/h², w = √(f_i f_j).
    pub fn smooth(&mut self, f: &[f64], dt: f64, g: &mut [f64]) {
        if self.eta == 0.0 || dt == 0.0 {
            return;
        }
        let n = self.grid.cells;
        let c = dt * self.eta / (self.grid.h() * self.grid.h());
        smooth_rows(n, c, f, g);
        // across rows: the same line solves on the transposes
        if self.grid.dim == 2 {
            transpose(n, f, &mut self.f_t);
            transpose(n, g, &mut self.g_t);
            smooth_rows(n, c, &self.f_t, &mut self.g_t);
            transpose(n, &self.g_t, g);
        }
    }
}

/// The line solves along every row of g (N per row), in parallel (each row on its own, so
/// the result does not depend on the threads).
fn smooth_rows(n: usize, c: f64, f: &[f64], g: &mut [f64]) {
    g.par_chunks_mut(n).zip(f.par_chunks(n)).for_each_init(
        || Line { f: vec![0.0; n], rhs: vec![0.0; n], upper: vec![0.0; n], diag: vec![0.0; n] },
        |line, (g_row, f_row)| line.solve(c, f_row, g_row),
    );
}

/// dst = srcᵀ for N × N fields, in parallel over the rows of dst.
fn transpose(n: usize, src: &[f64], dst: &mut [f64]) {
    dst.par_chunks_mut(n).enumerate().for_each(|(col, row)| {
        for (k, v) in row.iter_mut().enumerate() {
            *v = src[k * n + col];
        }
    });
}

impl Line {
    /// Solve for u = g/f on one line: f_i u_i − c Σ w (u_j − u_i) = g_i, then g = f u.
    /// Symmetric and strictly diagonally dominant: Thomas' algorithm without pivoting.
    fn solve(&mut self, c: f64, f: &[f64], g: &mut [f64]) {
        let n = self.f.len();
        for ((lf, rhs), (&fk, &gk)) in self.f.iter_mut().zip(&mut self.rhs).zip(f.iter().zip(g.iter())) {
            *lf = fk.max(EMPTY);
            *rhs = gk;
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
        for ((gk, lf), u) in g.iter_mut().zip(&self.f).zip(&self.rhs) {
            *gk = lf * u;
        }
    }
}

/// Run the forward scheme's sweep over every row and keep its face fluxes, in parallel over
/// blocks of `rows_per_block` rows (one scratch each). A block recomputes the faces below its
/// first row from the row under it, as the serial sweep does, so results do not depend on
/// the split.
fn fluxes_of<S: FluxScheme<f64> + Sync>(
    scheme: &S,
    grid: &Grid,
    rows_per_block: usize,
    f: &[f64],
    scratch: &mut [RowScratch<f64>],
    along: &mut [f64],
    across: &mut [f64],
) {
    let n = grid.cells;
    let rows = if grid.dim == 2 { n } else { 1 };
    let two_d = grid.dim == 2;
    // block b owns its rows' along faces and the across faces below its rows; the last
    // block also the top faces
    let blocks = rows.div_ceil(rows_per_block);
    let mut across_blocks: Vec<Option<&mut [f64]>> = Vec::with_capacity(blocks);
    if two_d {
        let mut rest = across;
        for _ in 1..blocks {
            let (head, tail) = rest.split_at_mut(rows_per_block * n);
            across_blocks.push(Some(head));
            rest = tail;
        }
        across_blocks.push(Some(rest));
    } else {
        across_blocks.resize_with(blocks, || None);
    }
    along
        .par_chunks_mut(rows_per_block * (n + 1))
        .zip(scratch.par_iter_mut())
        .zip(across_blocks.into_par_iter())
        .enumerate()
        .for_each(|(b, ((along_block, s), across_block))| {
            let first = b * rows_per_block;
            let last = (first + rows_per_block).min(rows);
            let mut across_block = across_block;
            sweep_rows(scheme, n, grid.dim, f, first..last, s, |r, _, fl| {
                let k = r - first;
                along_block[k * (n + 1)..(k + 1) * (n + 1)].copy_from_slice(fl.along);
                if let Some(block) = across_block.as_mut() {
                    block[k * n..(k + 1) * n].copy_from_slice(fl.below);
                    if r + 1 == rows {
                        block[(k + 1) * n..(k + 2) * n].copy_from_slice(fl.above);
                    }
                }
            });
        });
}
