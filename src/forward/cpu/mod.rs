//! CPU reference backend: rayon over blocks of rows, generic over f32/f64, no
//! allocation inside the step loop (all buffers and scratch are made in `new`).

mod bound;
pub mod row_sweep;
pub mod schemes;

use self::bound::gradient_flow_rate;
use self::row_sweep::{max_and_sum, sweep_rows, FluxScheme, RowScratch};
use self::schemes::{GradientFlow, PaddedRows, Upwind};
use rayon::prelude::*;

pub use super::problem::Discretisation;

use super::{BackendInfo, Diagnostics, DtPolicy, ForwardStepper, StepControl, StepOutcome, StopReason};
use crate::config::{Integrator, SchemeKind};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::model::EntropyFunction;
use crate::real::{CompensatedSum, Real};

enum Scheme<T> {
    Upwind(Upwind<T>),
    GradientFlow(GradientFlow<T>),
}

/// Partial sums of one row for the diagnostics, combined in row order.
#[derive(Clone, Copy, Default)]
struct RowSums {
    mass: CompensatedSum,
    square: f64,
    entropy: f64,
    moment: f64,
    min: f64,
    max: f64,
}

pub struct CpuBackend<T: Real> {
    disc: Discretisation,
    scheme: Scheme<T>,
    field: Vec<T>,
    other: Vec<T>,
    /// SSP-RK2's second stage (empty for Euler).
    third: Vec<T>,
    scratch: Vec<RowScratch<T>>,
    padded: Vec<PaddedRows<T>>,
    rows_per_chunk: usize,
    row_sums: Vec<RowSums>,
    radius_squared: Vec<f64>,
    origin_cells: Vec<usize>,
    entropy: EntropyFunction,
    pool: rayon::ThreadPool,
    t: f64,
    /// ‖f‖∞ of the current field (kept by every step).
    max_density: f64,
    /// max over cells of the scheme's rate weight (kept by every step; upwind bound).
    max_rate_weight: f64,
}

impl<T: Real> CpuBackend<T> {
    pub fn new(disc: Discretisation, threads: Option<usize>) -> Result<Self> {
        let grid = &disc.grid;
        let n = grid.cells;
        let rows = if grid.dim == 2 { n } else { 1 };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .build()
            .map_err(|e| Error::Numerics(format!("cannot start the CPU worker threads: {e}")))?;
        // A few blocks per thread so rayon can balance; one block in 1D.
        let chunks = (pool.current_num_threads() * 2).min(rows).max(1);
        let rows_per_chunk = rows.div_ceil(chunks);
        let chunks = rows.div_ceil(rows_per_chunk);
        let scheme = match disc.scheme {
            SchemeKind::Upwind => Scheme::Upwind(Upwind::new(grid, &disc.params)),
            SchemeKind::GradientFlow => {
                Scheme::GradientFlow(GradientFlow::new(grid, &disc.params, disc.log_floor))
            }
        };
        let len = grid.len();
        Ok(Self {
            scheme,
            field: vec![T::zero(); len],
            other: vec![T::zero(); len],
            third: if disc.integrator == Integrator::SspRk2 { vec![T::zero(); len] } else { Vec::new() },
            scratch: (0..chunks).map(|_| RowScratch::new(n)).collect(),
            padded: (0..chunks).map(|_| PaddedRows::new(n)).collect(),
            rows_per_chunk,
            row_sums: vec![RowSums::default(); rows],
            radius_squared: (0..len).map(|i| grid.radius_squared(i)).collect(),
            origin_cells: grid.origin_cells(),
            entropy: EntropyFunction::new(&disc.params),
            pool,
            t: 0.0,
            max_density: 0.0,
            max_rate_weight: 0.0,
            disc,
        })
    }

    fn rows(&self) -> usize {
        if self.disc.grid.dim == 2 {
            self.disc.grid.cells
        } else {
            1
        }
    }

    /// Positivity bound of the current field.
    fn bound(&mut self) -> f64 {
        match &self.scheme {
            Scheme::Upwind(_) => {
                // The cell-local form of docs/MATH.md §2a: each cell's own outward drift
                // speed λ(|x| − h/2)⁺ per axis instead of λL for all (never smaller).
                let (p, g) = (&self.disc.params, &self.disc.grid);
                let h = g.h();
                1.0 / (2.0 * g.dim as f64 * p.diffusion / (h * h) + p.lambda * self.max_rate_weight / h)
            }
            Scheme::GradientFlow(gf) => {
                let g = &self.disc.grid;
                let h = g.h();
                // + 2dD/h²: the linearised flux diffuses with coefficient D.
                let diffusive = 2.0 * g.dim as f64 * self.disc.params.diffusion / (h * h);
                let rate = gradient_flow_rate(
                    &self.pool,
                    gf,
                    g,
                    self.rows_per_chunk,
                    &self.field,
                    &mut self.scratch,
                );
                1.0 / (rate + diffusive)
            }
        }
    }

    /// One step of the configured integrator with time step `dt`.
    fn step(&mut self, dt: f64) -> UpdateStats {
        let mut kernel = Kernel {
            pool: &self.pool,
            scheme: &self.scheme,
            grid: &self.disc.grid,
            rows_per_chunk: self.rows_per_chunk,
            scratch: &mut self.scratch,
            padded: &mut self.padded,
            dt_over_h: T::from_f64(dt / self.disc.grid.h()),
        };
        let (field, other) = (&mut self.field, &mut self.other);
        // A step whose output is not finite is not taken: the field keeps the last finite
        // state.
        match self.disc.integrator {
            // the implicit integrator has its own backend (`forward::implicit`)
            Integrator::Euler | Integrator::BackwardEuler | Integrator::Bdf2 => {
                let stats = kernel.apply(field, other, None);
                if stats.finite() {
                    std::mem::swap(field, other);
                }
                stats
            }
            Integrator::SspRk2 => {
                // f1 = f + Δt L(f);  f ← ½ f + ½ (f1 + Δt L(f1)), written in place.
                // the second stage goes to a third buffer, so that a non-finite one leaves f
                let stage = kernel.apply(field, other, None);
                if !stage.finite() {
                    return stage;
                }
                let stats = kernel.apply(other, &mut self.third, Some(field));
                if stats.finite() {
                    std::mem::swap(field, &mut self.third);
                }
                stats
            }
        }
    }
}

/// Per-block max and sum of an update (the sum only detects NaN/Inf).
#[derive(Clone, Copy)]
struct UpdateStats {
    max: f64,
    sum: f64,
    rate_weight: f64,
}

impl UpdateStats {
    const ZERO: Self = Self { max: 0.0, sum: 0.0, rate_weight: 0.0 };

    fn finite(&self) -> bool {
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
struct Kernel<'a, T: Real> {
    pool: &'a rayon::ThreadPool,
    scheme: &'a Scheme<T>,
    grid: &'a Grid,
    rows_per_chunk: usize,
    scratch: &'a mut [RowScratch<T>],
    padded: &'a mut [PaddedRows<T>],
    dt_over_h: T,
}

impl<T: Real> Kernel<'_, T> {
    fn apply(&mut self, src: &[T], dst: &mut [T], blend: Option<&[T]>) -> UpdateStats {
        let (pool, grid, rpc, c) = (self.pool, self.grid, self.rows_per_chunk, self.dt_over_h);
        match self.scheme {
            Scheme::Upwind(s) => update_upwind(pool, s, grid, rpc, src, dst, self.padded, c, blend),
            Scheme::GradientFlow(s) => update(pool, s, grid, rpc, src, dst, self.scratch, c, blend),
        }
    }
}

/// Max, sum and rate weight of a finished output row.
#[inline(always)]
fn row_stats<T: Real, S: FluxScheme<T>>(scheme: &S, r: usize, out: &[T], acc: &mut (T, f64, T)) {
    let (row_max, row_sum) = max_and_sum(out);
    acc.0 = if row_max > acc.0 { row_max } else { acc.0 };
    acc.1 += row_sum.as_f64();
    let w = scheme.max_rate_weight(r, out);
    acc.2 = if w > acc.2 { w } else { acc.2 };
}

/// Run `block(first..last, block_of_dst, scratch)` in parallel over the row blocks of
/// `dst` and merge the results (the split is fixed, so results do not depend on threads).
fn par_row_blocks<T: Real, S: Send>(
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
fn update_upwind<T: Real>(
    pool: &rayon::ThreadPool,
    scheme: &Upwind<T>,
    grid: &Grid,
    rows_per_chunk: usize,
    src: &[T],
    dst: &mut [T],
    padded: &mut [PaddedRows<T>],
    dt_over_h: T,
    blend: Option<&[T]>,
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

/// dst = src − Δt/h Σ(F_out − F_in); with `blend = Some(b)`, dst = ½ b + ½ (that).
#[allow(clippy::too_many_arguments)]
fn update<T: Real, S: FluxScheme<T>>(
    pool: &rayon::ThreadPool,
    scheme: &S,
    grid: &Grid,
    rows_per_chunk: usize,
    src: &[T],
    dst: &mut [T],
    scratch: &mut [RowScratch<T>],
    dt_over_h: T,
    blend: Option<&[T]>,
) -> UpdateStats {
    let (n, dim) = (grid.cells, grid.dim);
    let half = T::from_f64(0.5);
    par_row_blocks(pool, grid, rows_per_chunk, dst, scratch, |rows, block, s| {
        let first = rows.start;
        let mut acc = (T::zero(), 0.0, T::zero());
        sweep_rows(scheme, n, dim, src, rows, s, |r, f, fl| {
            let out = &mut block[(r - first) * n..(r - first + 1) * n];
            let faces = fl.above.iter().zip(fl.below).zip(fl.along[1..].iter().zip(&fl.along[..n]));
            if let Some(base) = blend {
                let base = &base[r * n..(r + 1) * n];
                for (((o, &fi), ((&a, &b), (&yr, &yl))), &f0) in out.iter_mut().zip(f).zip(faces).zip(base) {
                    *o = half * (f0 + fi - dt_over_h * ((a - b) + (yr - yl)));
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

impl<T: Real> ForwardStepper for CpuBackend<T> {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu".into(),
            precision: T::NAME.into(),
            device: "host CPU (rayon)".into(),
            threads: self.pool.current_num_threads(),
        }
    }

    fn upload(&mut self, field: &[f64], t: f64) -> Result<()> {
        if field.len() != self.field.len() {
            return Err(Error::Numerics(format!(
                "upload of {} values into a field of {} cells",
                field.len(),
                self.field.len()
            )));
        }
        for (d, &s) in self.field.iter_mut().zip(field) {
            *d = T::from_f64(s);
        }
        self.max_density = self.field.iter().fold(0.0f64, |m, v| m.max(v.as_f64()));
        let rows = self.rows();
        let row_len = self.field.len() / rows;
        self.max_rate_weight = match &self.scheme {
            Scheme::Upwind(s) => (0..rows)
                .map(|r| s.max_rate_weight(r, &self.field[r * row_len..(r + 1) * row_len]).as_f64())
                .fold(0.0, f64::max),
            Scheme::GradientFlow(_) => 0.0,
        };
        self.t = t;
        Ok(())
    }

    fn step_n(&mut self, max_steps: u64, ctl: &StepControl) -> Result<StepOutcome> {
        let mut outcome = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        while outcome.steps < max_steps && self.t < ctl.t_stop {
            let bound = self.bound();
            if bound < ctl.dt_bound_floor {
                outcome.stop = Some(StopReason::DtCollapse { dt_bound: bound, floor: ctl.dt_bound_floor });
                break;
            }
            let mut dt = match self.disc.dt {
                DtPolicy::Fixed(dt) => {
                    if dt > bound * (1.0 + 1e-12) {
                        outcome.stop = Some(StopReason::FixedDtUnstable { dt, dt_bound: bound });
                        break;
                    }
                    dt
                }
                DtPolicy::Adaptive { safety } => safety * bound,
            };
            let remaining = ctl.t_stop - self.t;
            let lands = dt >= remaining * (1.0 - 1e-12);
            if lands {
                dt = remaining;
            }
            let stats = self.step(dt);
            if !stats.finite() {
                // not counted: t and the field stay those of the last finite state (but
                // for a NaN in the second SSP-RK2 stage, which is written in place)
                outcome.stop = Some(StopReason::NonFinite);
                break;
            }
            self.t = if lands { ctl.t_stop } else { self.t + dt };
            outcome.steps += 1;
            outcome.dt_last = dt;
            self.max_density = stats.max;
            self.max_rate_weight = stats.rate_weight;
            if stats.max > ctl.max_density {
                outcome.stop =
                    Some(StopReason::DensityBound { max_density: stats.max, bound: ctl.max_density });
                break;
            }
        }
        Ok(outcome)
    }

    fn cached_state(&self) -> Vec<f64> {
        vec![self.max_density, self.max_rate_weight]
    }

    fn restore_cached_state(&mut self, state: &[f64]) -> Result<()> {
        let [max_density, max_rate_weight] = *state else {
            super::other_backends_checkpoint();
            return Ok(());
        };
        self.max_density = max_density;
        self.max_rate_weight = max_rate_weight;
        Ok(())
    }

    fn set_dt_policy(&mut self, dt: DtPolicy) -> Result<()> {
        self.disc.dt = dt;
        Ok(())
    }

    fn dt_bound(&mut self) -> f64 {
        self.bound()
    }

    fn diagnostics(&mut self) -> Result<Diagnostics> {
        let grid = &self.disc.grid;
        let row_len = self.field.len() / self.rows();
        let (lambda, diffusion) = (self.disc.params.lambda, self.disc.params.diffusion);
        let entropy = &self.entropy;
        let r2 = &self.radius_squared;
        let field = &self.field;
        self.pool.install(|| {
            self.row_sums.par_iter_mut().enumerate().for_each(|(r, out)| {
                let mut s = RowSums { min: f64::INFINITY, max: f64::NEG_INFINITY, ..Default::default() };
                for j in r * row_len..(r + 1) * row_len {
                    let f = field[j].as_f64();
                    s.mass.add(f);
                    s.square += f * f;
                    s.entropy += 0.5 * lambda * r2[j] * f + diffusion * entropy.phi(f);
                    s.moment += r2[j] * f;
                    s.min = s.min.min(f);
                    s.max = s.max.max(f);
                }
                *out = s;
            })
        });
        let mut mass = CompensatedSum::default();
        let (mut square, mut ent, mut moment) = (0.0, 0.0, 0.0);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut finite = true;
        for s in &self.row_sums {
            mass.add(s.mass.value());
            square += s.square;
            ent += s.entropy;
            moment += s.moment;
            min = min.min(s.min);
            max = max.max(s.max);
            finite &= s.mass.value().is_finite();
        }
        let vol = grid.cell_volume();
        let origin: f64 = self.origin_cells.iter().map(|&i| self.field[i].as_f64()).sum();
        Ok(Diagnostics {
            t: self.t,
            mass: mass.value() * vol,
            min: if finite { min } else { f64::NAN },
            max: if finite { max } else { f64::NAN },
            l2: (square * vol).sqrt(),
            entropy: ent * vol,
            second_moment: moment * vol,
            origin_mass: origin * vol,
        })
    }

    fn read_back(&mut self, out: &mut [f64]) -> Result<()> {
        for (o, v) in out.iter_mut().zip(&self.field) {
            *o = v.as_f64();
        }
        Ok(())
    }

    fn time(&self) -> f64 {
        self.t
    }
}

#[cfg(test)]
mod tests;
