//! The parallel explicit update of the CPU backend: row blocks over the rayon pool, the
//! fused upwind pass and the generic flux sweep, with the statistics of the new field
//! (max, sum, the step bound's rate weight) gathered in the same pass.

use rayon::prelude::*;

use super::schemes::{PaddedRows, Upwind};
use super::sweep::{max_and_sum, sweep_rows, FluxScheme, RowScratch};
use super::Scheme;
use crate::grid::Grid;
use crate::real::Real;

/// Per-block max and sum of an update (the sum only detects NaN/Inf).
#[derive(Clone, Copy)]
pub(super) struct UpdateStats {
    pub(super) max: f64,
    pub(super) sum: f64,
    pub(super) rate_weight: f64,
}

impl UpdateStats {
    pub(super) const ZERO: Self = Self { max: 0.0, sum: 0.0, rate_weight: 0.0 };

    pub(super) fn finite(&self) -> bool {
        self.sum.is_finite() && self.max.is_finite()
    }

    fn merge(self, o: Self) -> Self {
        Self {
            max: self.max.max(o.max),
            sum: self.sum + o.sum,
            rate_weight: self.rate_weight.max(o.rate_weight),
        }
    }
}

/// One explicit update dst = src + Δt L(src) (or its blend) with the scheme's kernel.
pub(super) struct Kernel<'a, T: Real> {
    pub(super) pool: &'a rayon::ThreadPool,
    pub(super) scheme: &'a Scheme<T>,
    pub(super) grid: &'a Grid,
    pub(super) rows_per_chunk: usize,
    pub(super) scratch: &'a mut [RowScratch<T>],
    pub(super) padded: &'a mut [PaddedRows<T>],
    pub(super) dt_over_h: T,
}

impl<T: Real> Kernel<'_, T> {
    pub(super) fn apply(&mut self, src: &[T], dst: &mut [T], blend: bool) -> UpdateStats {
        let (pool, grid, rpc, c) = (self.pool, self.grid, self.rows_per_chunk, self.dt_over_h);
        match self.scheme {
            Scheme::Upwind(s) => update_upwind(pool, s, grid, rpc, src, dst, self.padded, c, blend),
            Scheme::GradientFlow(s) => update(pool, s, grid, rpc, src, dst, self.scratch, c, blend),
        }
    }
}

/// Max, sum and rate weight of a finished output row.
#[inline(always)]
pub(super) fn row_stats<T: Real, S: FluxScheme<T>>(scheme: &S, r: usize, out: &[T], acc: &mut (T, f64, T)) {
    let (row_max, row_sum) = max_and_sum(out);
    acc.0 = if row_max > acc.0 { row_max } else { acc.0 };
    acc.1 += row_sum.as_f64();
    let w = scheme.max_rate_weight(r, out);
    acc.2 = if w > acc.2 { w } else { acc.2 };
}

/// Run `block(first..last, block_of_dst, scratch)` in parallel over the row blocks of
/// `dst` and merge the results (the split is fixed, so results do not depend on threads).
pub(super) fn par_row_blocks<T: Real, S: Send>(
    pool: &rayon::ThreadPool,
    grid: &Grid,
    rows_per_chunk: usize,
    dst: &mut [T],
    scratch: &mut [S],
    block: impl Fn(std::ops::Range<usize>, &mut [T], &mut S) -> UpdateStats + Sync,
) -> UpdateStats {
    let n = grid.cells;
    let rows = if grid.dim == 2 { n } else { 1 };
    pool.install(|| {
        dst.par_chunks_mut(rows_per_chunk * n)
            .zip(scratch.par_iter_mut())
            .enumerate()
            .map(|(c, (out, s))| {
                let first = c * rows_per_chunk;
                block(first..(first + rows_per_chunk).min(rows), out, s)
            })
            .reduce(|| UpdateStats::ZERO, UpdateStats::merge)
    })
}

/// The fused upwind update over row blocks (see `Upwind::update_rows`).
#[allow(clippy::too_many_arguments)]
pub(super) fn update_upwind<T: Real>(
    pool: &rayon::ThreadPool,
    scheme: &Upwind<T>,
    grid: &Grid,
    rows_per_chunk: usize,
    src: &[T],
    dst: &mut [T],
    padded: &mut [PaddedRows<T>],
    dt_over_h: T,
    blend: bool,
) -> UpdateStats {
    let (n, dim) = (grid.cells, grid.dim);
    par_row_blocks(pool, grid, rows_per_chunk, dst, padded, |rows, block, s| {
        let mut acc = (T::zero(), 0.0, T::zero());
        scheme.update_rows(n, dim, src, rows, s, dt_over_h, blend, block, |r, out| {
            row_stats(scheme, r, out, &mut acc)
        });
        UpdateStats { max: acc.0.as_f64(), sum: acc.1, rate_weight: acc.2.as_f64() }
    })
}

/// dst = src − Δt/h Σ(F_out − F_in); with `blend`, dst = ½ dst + ½ (that).
#[allow(clippy::too_many_arguments)]
pub(super) fn update<T: Real, S: FluxScheme<T>>(
    pool: &rayon::ThreadPool,
    scheme: &S,
    grid: &Grid,
    rows_per_chunk: usize,
    src: &[T],
    dst: &mut [T],
    scratch: &mut [RowScratch<T>],
    dt_over_h: T,
    blend: bool,
) -> UpdateStats {
    let (n, dim) = (grid.cells, grid.dim);
    let half = T::from_f64(0.5);
    par_row_blocks(pool, grid, rows_per_chunk, dst, scratch, |rows, block, s| {
        let first = rows.start;
        let mut acc = (T::zero(), 0.0, T::zero());
        sweep_rows(scheme, n, dim, src, rows, s, |r, f, fl| {
            let out = &mut block[(r - first) * n..(r - first + 1) * n];
            let faces = fl.above.iter().zip(fl.below).zip(fl.along[1..].iter().zip(&fl.along[..n]));
            if blend {
                for ((o, &fi), ((&a, &b), (&yr, &yl))) in out.iter_mut().zip(f).zip(faces) {
                    *o = half * (*o + fi - dt_over_h * ((a - b) + (yr - yl)));
                }
            } else {
                for ((o, &fi), ((&a, &b), (&yr, &yl))) in out.iter_mut().zip(f).zip(faces) {
                    *o = fi - dt_over_h * ((a - b) + (yr - yl));
                }
            }
            row_stats(scheme, r, out, &mut acc);
        });
        UpdateStats { max: acc.0.as_f64(), sum: acc.1, rate_weight: acc.2.as_f64() }
    })
}
