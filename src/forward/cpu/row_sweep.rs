//! Row sweep shared by both finite-volume schemes.
//!
//! A scheme supplies three per-cell quantities (p, q, r) and a face flux F(p_l, p_r,
//! q_l, q_r, r_l, r_r) (q, r: the mobility's increasing and decreasing parts). The sweep walks a range of rows keeping three rows of (p, q) and the flux
//! rows in scratch (all in L1/L2), so each cell's (p, q) is computed once and each
//! face flux once; it hands every row's fluxes to a consumer (update or bound).
//! Boundary faces carry zero flux (zero-flux boundary).

use crate::real::Real;

/// Per-cell quantities and the face flux of one scheme.
pub trait FluxScheme<T: Real>: Sync {
    /// Fill p, q and r for row `row` (the whole field in 1D) from the density `f`.
    fn cells(&self, row: usize, f: &[T], p: &mut [T], q: &mut [T], r: &mut [T]);
    /// Flux through interior face `face` (k = 1..N-1) from left to right.
    #[allow(clippy::too_many_arguments)]
    fn flux(&self, face: usize, pl: T, pr: T, ql: T, qr: T, rl: T, rr: T) -> T;
    /// Whether the mobility has a decreasing part (r ≠ 0). Without one the sweep passes
    /// r = −0.0, which the compiler folds away (x + (−0.0) = x for every x).
    #[inline(always)]
    fn splits(&self) -> bool {
        true
    }
    /// Fluxes through the interior faces k = 1..N-1 along a row: `out[k - 1]`. Schemes
    /// override this with zipped slices so that the loop vectorises.
    #[inline(always)]
    fn flux_along(&self, p: &[T], q: &[T], r: &[T], out: &mut [T]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.flux(k + 1, p[k], p[k + 1], q[k], q[k + 1], r[k], r[k + 1]);
        }
    }
    /// max over the row of the cell outflow-rate weight whose field maximum gives the
    /// scheme's step bound (0 for schemes whose bound needs the fluxes).
    #[inline(always)]
    fn max_rate_weight(&self, _row: usize, _f: &[T]) -> T {
        T::zero()
    }
}

/// Scratch of one worker: three rows of (p, q, r) and the flux rows.
pub struct RowScratch<T> {
    p: [Vec<T>; 3],
    q: [Vec<T>; 3],
    r: [Vec<T>; 3],
    fx_below: Vec<T>,
    fx_above: Vec<T>,
    fy: Vec<T>,
}

impl<T: Real> RowScratch<T> {
    pub fn new(n: usize) -> Self {
        let row = || vec![T::zero(); n];
        Self {
            p: [row(), row(), row()],
            q: [row(), row(), row()],
            r: [row(), row(), row()],
            fx_below: row(),
            fx_above: row(),
            fy: vec![T::zero(); n + 1],
        }
    }
}

/// Fluxes of one row: across the faces below/above the row (axis 0, zero in 1D) and
/// along the row (axis 1 in 2D, the only axis in 1D; `along[k]` is face k = 0..=N).
pub struct RowFluxes<'a, T> {
    pub below: &'a [T],
    pub above: &'a [T],
    pub along: &'a [T],
}

/// Fluxes across face `face` between row `lo` and row `hi` of the scratch.
#[inline(always)]
fn face_row<T: Real, S: FluxScheme<T>>(
    s: &S,
    face: usize,
    sc: &RowScratch<T>,
    lo: usize,
    hi: usize,
    out: &mut [T],
) {
    let (pl, pr, ql, qr, rl, rr) = (&sc.p[lo], &sc.p[hi], &sc.q[lo], &sc.q[hi], &sc.r[lo], &sc.r[hi]);
    if !s.splits() {
        let z = -T::zero();
        for (o, ((&a, &b), (&c, &d))) in out.iter_mut().zip(pl.iter().zip(pr).zip(ql.iter().zip(qr))) {
            *o = s.flux(face, a, b, c, d, z, z);
        }
        return;
    }
    let cells = pl.iter().zip(pr).zip(ql.iter().zip(qr)).zip(rl.iter().zip(rr));
    for (o, (((&a, &b), (&c, &d)), (&e, &g))) in out.iter_mut().zip(cells) {
        *o = s.flux(face, a, b, c, d, e, g);
    }
}

/// (p, q, r) of row `row` into scratch slot `slot`.
#[inline(always)]
fn fill<T: Real, S: FluxScheme<T>>(scheme: &S, row: usize, f: &[T], sc: &mut RowScratch<T>, slot: usize) {
    scheme.cells(row, f, &mut sc.p[slot], &mut sc.q[slot], &mut sc.r[slot]);
}

/// Sweep rows `rows` of the N^dim field `f`, calling `emit(row, f_row, fluxes)`.
pub fn sweep_rows<T: Real, S: FluxScheme<T>>(
    scheme: &S,
    n: usize,
    dim: usize,
    f: &[T],
    rows: std::ops::Range<usize>,
    s: &mut RowScratch<T>,
    mut emit: impl FnMut(usize, &[T], RowFluxes<'_, T>),
) {
    let row = |r: usize| &f[r * n..(r + 1) * n];
    let two_d = dim == 2;
    let r0 = rows.start;
    fill(scheme, r0, row(r0), s, 1);
    s.fx_below.fill(T::zero());
    if two_d && r0 > 0 {
        fill(scheme, r0 - 1, row(r0 - 1), s, 0);
        let mut below = std::mem::take(&mut s.fx_below);
        face_row(scheme, r0, s, 0, 1, &mut below);
        s.fx_below = below;
    }
    s.fx_above.fill(T::zero());
    for r in rows {
        if two_d && r + 1 < n {
            fill(scheme, r + 1, row(r + 1), s, 2);
            let mut above = std::mem::take(&mut s.fx_above);
            face_row(scheme, r + 1, s, 1, 2, &mut above);
            s.fx_above = above;
        } else {
            s.fx_above.fill(T::zero());
        }
        s.fy[0] = T::zero();
        s.fy[n] = T::zero();
        scheme.flux_along(&s.p[1], &s.q[1], &s.r[1], &mut s.fy[1..n]);
        emit(r, row(r), RowFluxes { below: &s.fx_below, above: &s.fx_above, along: &s.fy });
        std::mem::swap(&mut s.fx_below, &mut s.fx_above);
        s.p.rotate_left(1);
        s.q.rotate_left(1);
        s.r.rotate_left(1);
    }
}

const LANES: usize = 8;

/// Lane-wise max (NaN-ignoring select) and sum of a row: written so that the compiler
/// vectorises it (a single accumulator would serialise on its latency).
#[inline(always)]
pub fn max_and_sum<T: Real>(v: &[T]) -> (T, T) {
    let mut mx = [T::zero(); LANES];
    let mut sum = [T::zero(); LANES];
    let chunks = v.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            mx[k] = if c[k] > mx[k] { c[k] } else { mx[k] };
            sum[k] = sum[k] + c[k];
        }
    }
    for (k, &x) in rest.iter().enumerate() {
        mx[k] = if x > mx[k] { x } else { mx[k] };
        sum[k] = sum[k] + x;
    }
    (lanes_max(mx), sum.iter().fold(T::zero(), |a, &b| a + b))
}

#[inline(always)]
fn lanes_max<T: Real>(mx: [T; LANES]) -> T {
    mx.iter().fold(T::zero(), |a, &b| if b > a { b } else { a })
}
