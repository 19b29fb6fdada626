//! The two finite-volume schemes of docs/MATH.md §2 as (p, q, r, flux) triples for the
//! sweep. The physics (mobility, its monotone parts, ξ, bound factors) is `Physics`'s.

use super::row_sweep::FluxScheme;
use crate::grid::Grid;
use crate::model::{ModelParams, Physics, PowerBody};
use crate::real::Real;

/// Classic upwind: p = f, q = m↑(f), r = m↓(f);
/// F = −D (f_r − f_l)/h + a⁺ (m↑(f_l) + m↓(f_r)) + a⁻ (m↑(f_r) + m↓(f_l)), a = −λ x_face.
pub struct Upwind<T> {
    physics: Physics<T>,
    diffusion_over_h: T,
    /// D/h per face k = 0..=N, zero on the boundary faces.
    face_diffusion: Vec<T>,
    /// a⁺ and a⁻ per face k = 0..=N (the grid is the same along both axes).
    a_plus: Vec<T>,
    a_minus: Vec<T>,
    /// Outward drift speed / λ of a cell along one axis: (|x_i| − h/2)⁺.
    outward: Vec<T>,
    /// Inward drift speed / λ of a cell along one axis: (|x_i| + h/2) + (h/2 − |x_i|)⁺.
    inward: Vec<T>,
    /// Its largest value along an axis (the inflow term of the bound does not depend on f).
    max_inward: T,
    dim: usize,
}

impl<T: Real> Upwind<T> {
    pub fn new(grid: &Grid, p: &ModelParams) -> Self {
        let n = grid.cells;
        let h = grid.h();
        // Boundary faces (k = 0, N) carry no flux: all their coefficients are zero.
        let interior = |k: usize| k > 0 && k < n;
        let a: Vec<f64> = (0..=n).map(|k| if interior(k) { -p.lambda * grid.face(k) } else { 0.0 }).collect();
        let d = p.diffusion / h;
        let inward: Vec<T> = grid
            .centres()
            .iter()
            .map(|x| T::from_f64(x.abs() + 0.5 * h + (0.5 * h - x.abs()).max(0.0)))
            .collect();
        Self {
            physics: p.physics(),
            diffusion_over_h: T::from_f64(d),
            face_diffusion: (0..=n).map(|k| T::from_f64(if interior(k) { d } else { 0.0 })).collect(),
            a_plus: a.iter().map(|&v| T::from_f64(v.max(0.0))).collect(),
            a_minus: a.iter().map(|&v| T::from_f64(v.min(0.0))).collect(),
            outward: grid.centres().iter().map(|x| T::from_f64((x.abs() - 0.5 * h).max(0.0))).collect(),
            max_inward: inward.iter().fold(T::zero(), |a, &v| a.max(v)),
            inward,
            dim: grid.dim,
        }
    }
}

impl<T: Real> FluxScheme<T> for Upwind<T> {
    #[inline(always)]
    fn cells(&self, _row: usize, f: &[T], p: &mut [T], q: &mut [T], r: &mut [T]) {
        p.copy_from_slice(f);
        self.physics.mobility_rows(f, q, Some(r));
    }

    #[inline(always)]
    fn flux(&self, face: usize, pl: T, pr: T, ql: T, qr: T, rl: T, rr: T) -> T {
        -self.diffusion_over_h * (pr - pl) + self.a_plus[face] * (ql + rr) + self.a_minus[face] * (qr + rl)
    }

    #[inline(always)]
    fn splits(&self) -> bool {
        self.physics.has_decreasing_part()
    }

    #[inline(always)]
    fn flux_along(&self, p: &[T], q: &[T], r: &[T], out: &mut [T]) {
        let n = p.len();
        let d = self.diffusion_over_h;
        let faces = self.a_plus[1..n].iter().zip(&self.a_minus[1..n]);
        let cells = p[..n - 1].iter().zip(&p[1..]).zip(q[..n - 1].iter().zip(&q[1..]));
        if !self.splits() {
            for (o, ((&ap, &am), ((&pl, &pr), (&ql, &qr)))) in out.iter_mut().zip(faces.zip(cells)) {
                *o = -d * (pr - pl) + ap * ql + am * qr;
            }
            return;
        }
        let down = r[..n - 1].iter().zip(&r[1..]);
        for (((o, (&ap, &am)), ((&pl, &pr), (&ql, &qr))), (&rl, &rr)) in
            out.iter_mut().zip(faces).zip(cells).zip(down)
        {
            *o = -d * (pr - pl) + ap * (ql + rr) + am * (qr + rl);
        }
    }

    /// max_j Σ_dims [(|x| − h/2)⁺ max(m'(f_j), 0) + inward_j sup|m↓'|]: the drift rate of a
    /// cell per λ/h (docs/MATH.md §2a, §2i).
    #[inline(always)]
    fn max_rate_weight(&self, row: usize, f: &[T]) -> T {
        let two_d = self.dim == 2;
        let row_speed = if two_d { self.outward[row] } else { T::zero() };
        let speed = &self.outward[..f.len()];
        let factor = self.physics.lipschitz_factor;
        let outflow = self.physics.power.with(MaxRateWeight { row_speed, speed, factor, f });
        if !self.physics.has_decreasing_part() {
            return outflow;
        }
        // the inflow speeds do not depend on f: their largest sum over the row
        let row_in = if two_d { self.inward[row] } else { T::zero() };
        outflow + self.physics.inflow_factor * (row_in + self.max_inward)
    }
}

/// max_j (row_speed + speed_j) max(1 + factor f_j^γ, 0), with lane-wise maxima.
struct MaxRateWeight<'a, T> {
    row_speed: T,
    speed: &'a [T],
    factor: T,
    f: &'a [T],
}

impl<T: Real> PowerBody<T, T> for MaxRateWeight<'_, T> {
    #[inline(always)]
    fn run(self, pow: impl Fn(T) -> T + Copy) -> T {
        const L: usize = 8;
        let mut mx = [T::zero(); L];
        let weight = |s: T, x: T| (self.row_speed + s) * (T::one() + self.factor * pow(x)).max(T::zero());
        let (sc, fc) = (self.speed.chunks_exact(L), self.f.chunks_exact(L));
        let (sr, fr) = (sc.remainder(), fc.remainder());
        for (s, x) in sc.zip(fc) {
            for k in 0..L {
                let w = weight(s[k], x[k]);
                mx[k] = if w > mx[k] { w } else { mx[k] };
            }
        }
        for (k, (&s, &x)) in sr.iter().zip(fr).enumerate() {
            let w = weight(s, x);
            mx[k] = if w > mx[k] { w } else { mx[k] };
        }
        mx.iter().fold(T::zero(), |a, &b| if b > a { b } else { a })
    }
}

/// Gradient-flow upwind: p = ξ (chemical potential, log f floored), q = m↑(f), r = m↓(f);
/// u = −(ξ_r − ξ_l)/h, F = u⁺ (m↑(f_l) + m↓(f_r)) + u⁻ (m↑(f_r) + m↓(f_l)).
pub struct GradientFlow<T> {
    pub(super) physics: Physics<T>,
    diffusion: T,
    log_floor: T,
    inv_h: T,
    dim: usize,
    /// λ x_i²/2 per index along an axis.
    half_lambda_x2: Vec<T>,
}

impl<T: Real> GradientFlow<T> {
    pub fn new(grid: &Grid, p: &ModelParams, log_floor: f64) -> Self {
        Self {
            physics: p.physics(),
            diffusion: T::from_f64(p.diffusion),
            log_floor: T::from_f64(log_floor),
            inv_h: T::from_f64(1.0 / grid.h()),
            dim: grid.dim,
            half_lambda_x2: grid.centres().iter().map(|x| T::from_f64(0.5 * p.lambda * x * x)).collect(),
        }
    }

    /// The same scheme with unit mobility: its "fluxes" are the face velocities u, which
    /// the step bound needs.
    pub fn velocities(&self) -> FaceVelocities<'_, T> {
        FaceVelocities(self)
    }
}

impl<T: Real> FluxScheme<T> for GradientFlow<T> {
    #[inline(always)]
    fn cells(&self, row: usize, f: &[T], p: &mut [T], q: &mut [T], r: &mut [T]) {
        let row_potential = if self.dim == 2 { self.half_lambda_x2[row] } else { T::zero() };
        let phys = &self.physics;
        for (((pi, qi), &fi), &v) in p.iter_mut().zip(q.iter_mut()).zip(f).zip(&self.half_lambda_x2) {
            *pi = row_potential + v + self.diffusion * phys.entropy_derivative(fi, self.log_floor);
            *qi = phys.mobility_up(fi);
        }
        if phys.has_decreasing_part() {
            for (ri, &fi) in r.iter_mut().zip(f) {
                *ri = phys.mobility_down(fi);
            }
        }
    }

    #[inline(always)]
    fn flux(&self, _face: usize, pl: T, pr: T, ql: T, qr: T, rl: T, rr: T) -> T {
        let u = (pl - pr) * self.inv_h;
        u.max(T::zero()) * (ql + rr) + u.min(T::zero()) * (qr + rl)
    }

    #[inline(always)]
    fn splits(&self) -> bool {
        self.physics.has_decreasing_part()
    }

    #[inline(always)]
    fn flux_along(&self, p: &[T], q: &[T], r: &[T], out: &mut [T]) {
        let n = p.len();
        let cells = p[..n - 1].iter().zip(&p[1..]).zip(q[..n - 1].iter().zip(&q[1..]));
        if !self.splits() {
            let z = -T::zero();
            for (o, ((&pl, &pr), (&ql, &qr))) in out.iter_mut().zip(cells) {
                *o = self.flux(0, pl, pr, ql, qr, z, z);
            }
            return;
        }
        let down = r[..n - 1].iter().zip(&r[1..]);
        for ((o, ((&pl, &pr), (&ql, &qr))), (&rl, &rr)) in out.iter_mut().zip(cells).zip(down) {
            *o = self.flux(0, pl, pr, ql, qr, rl, rr);
        }
    }
}

/// The gradient-flow scheme's face velocities u as a flux (unit mobility, no m↓).
pub struct FaceVelocities<'a, T>(&'a GradientFlow<T>);

impl<T: Real> FluxScheme<T> for FaceVelocities<'_, T> {
    #[inline(always)]
    fn cells(&self, row: usize, f: &[T], p: &mut [T], q: &mut [T], r: &mut [T]) {
        self.0.cells(row, f, p, q, r);
    }

    #[inline(always)]
    fn flux(&self, _face: usize, pl: T, pr: T, _ql: T, _qr: T, _rl: T, _rr: T) -> T {
        (pl - pr) * self.0.inv_h
    }
}

/// Rows of f, m↑(f) (`g`) and m↓(f) (`d`) padded with one zero cell at each end, for the
/// fused upwind kernel.
pub struct PaddedRows<T> {
    f: [Vec<T>; 3],
    g: [Vec<T>; 3],
    d: [Vec<T>; 3],
}

impl<T: Real> PaddedRows<T> {
    pub fn new(n: usize) -> Self {
        let row = || vec![T::zero(); n + 2];
        Self { f: [row(), row(), row()], g: [row(), row(), row()], d: [row(), row(), row()] }
    }

    fn rotate(&mut self) {
        self.f.rotate_left(1);
        self.g.rotate_left(1);
        self.d.rotate_left(1);
    }
}

impl<T: Real> Upwind<T> {
    #[inline(always)]
    fn load<const SPLIT: bool>(&self, row: Option<&[T]>, s: &mut PaddedRows<T>, slot: usize) {
        let (f, g, d) = (&mut s.f[slot], &mut s.g[slot], &mut s.d[slot]);
        match row {
            Some(src) => {
                let n = src.len();
                f[1..=n].copy_from_slice(src);
                self.physics.mobility_rows(src, &mut g[1..=n], SPLIT.then_some(&mut d[1..=n]));
            }
            None => {
                f.fill(T::zero());
                g.fill(T::zero());
                d.fill(T::zero());
            }
        }
    }

    /// Fused explicit update of rows `rows` (the twin of the generic sweep for this
    /// scheme, one pass per row): every face flux is formed where it is used, from
    /// padded rows of f and G, so no flux row is stored. Returns nothing; `emit` gets each
    /// finished output row.
    ///
    /// Builds are portable (no `target-cpu=native`); on x86-64 CPUs with AVX2 this hot loop
    /// runs in a copy compiled for AVX-512 or AVX2, chosen at run time. The arithmetic is the same
    /// (no fused multiply-add, no reassociation), so both copies give the same bits.
    #[allow(clippy::too_many_arguments)]
    pub fn update_rows(
        &self,
        n: usize,
        dim: usize,
        src: &[T],
        rows: std::ops::Range<usize>,
        s: &mut PaddedRows<T>,
        dt_over_h: T,
        blend: Option<&[T]>,
        out_block: &mut [T],
        emit: impl FnMut(usize, &[T]),
    ) {
        if self.physics.has_decreasing_part() {
            self.update_rows_split::<true>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
        } else {
            self.update_rows_split::<false>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
        }
    }

    /// `update_rows` with the mobility's decreasing part (SPLIT) or without (increasing m:
    /// no m↓ rows, the loop of a single upwinded m).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn update_rows_split<const SPLIT: bool>(
        &self,
        n: usize,
        dim: usize,
        src: &[T],
        rows: std::ops::Range<usize>,
        s: &mut PaddedRows<T>,
        dt_over_h: T,
        blend: Option<&[T]>,
        out_block: &mut [T],
        emit: impl FnMut(usize, &[T]),
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            unsafe {
                self.update_rows_avx512::<SPLIT>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
            };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe {
                self.update_rows_avx2::<SPLIT>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
            };
            return;
        }
        self.update_rows_portable::<SPLIT>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn update_rows_avx2<const SPLIT: bool>(
        &self,
        n: usize,
        dim: usize,
        src: &[T],
        rows: std::ops::Range<usize>,
        s: &mut PaddedRows<T>,
        dt_over_h: T,
        blend: Option<&[T]>,
        out_block: &mut [T],
        emit: impl FnMut(usize, &[T]),
    ) {
        self.update_rows_portable::<SPLIT>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn update_rows_avx512<const SPLIT: bool>(
        &self,
        n: usize,
        dim: usize,
        src: &[T],
        rows: std::ops::Range<usize>,
        s: &mut PaddedRows<T>,
        dt_over_h: T,
        blend: Option<&[T]>,
        out_block: &mut [T],
        emit: impl FnMut(usize, &[T]),
    ) {
        self.update_rows_portable::<SPLIT>(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn update_rows_portable<const SPLIT: bool>(
        &self,
        n: usize,
        dim: usize,
        src: &[T],
        rows: std::ops::Range<usize>,
        s: &mut PaddedRows<T>,
        dt_over_h: T,
        blend: Option<&[T]>,
        out_block: &mut [T],
        mut emit: impl FnMut(usize, &[T]),
    ) {
        let row = |r: usize| &src[r * n..(r + 1) * n];
        let two_d = dim == 2;
        let first = rows.start;
        self.load::<SPLIT>(Some(row(first)), s, 1);
        self.load::<SPLIT>((two_d && first > 0).then(|| row(first - 1)), s, 0);
        let half = T::from_f64(0.5);
        let (dy_l, dy_r) = (&self.face_diffusion[..n], &self.face_diffusion[1..=n]);
        let (ap_l, ap_r) = (&self.a_plus[..n], &self.a_plus[1..=n]);
        let (am_l, am_r) = (&self.a_minus[..n], &self.a_minus[1..=n]);
        for r in rows {
            let above = two_d && r + 1 < n;
            self.load::<SPLIT>(above.then(|| row(r + 1)), s, 2);
            // faces r (below) and r + 1 (above) along axis 0; zero in 1D
            let coeff = |k: usize| {
                if two_d {
                    (self.face_diffusion[k], self.a_plus[k], self.a_minus[k])
                } else {
                    (T::zero(), T::zero(), T::zero())
                }
            };
            let (dxb, apb, amb) = coeff(r);
            let (dxa, apa, ama) = coeff(r + 1);
            let (fp, fc, fnx) = (&s.f[0][1..=n], &s.f[1][1..=n], &s.f[2][1..=n]);
            let (fl, fr) = (&s.f[1][..n], &s.f[1][2..]);
            let (gp, gc, gnx) = (&s.g[0][1..=n], &s.g[1][1..=n], &s.g[2][1..=n]);
            let (gl, gr) = (&s.g[1][..n], &s.g[1][2..]);
            let (dp, dc, dnx) = (&s.d[0][1..=n], &s.d[1][1..=n], &s.d[2][1..=n]);
            let (dl, dr) = (&s.d[1][..n], &s.d[1][2..]);
            let out = &mut out_block[(r - first) * n..(r - first + 1) * n];
            let base = blend.map(|b| &b[r * n..(r + 1) * n]);
            for j in 0..n {
                let (f, g) = (fc[j], gc[j]);
                // m↑ of the donor plus m↓ of the receiver (no m↓ unless SPLIT)
                let (fy_r, fy_l, fx_a, fx_b) = if SPLIT {
                    let d = dc[j];
                    (
                        dy_r[j] * (f - fr[j]) + ap_r[j] * (g + dr[j]) + am_r[j] * (gr[j] + d),
                        dy_l[j] * (fl[j] - f) + ap_l[j] * (gl[j] + d) + am_l[j] * (g + dl[j]),
                        dxa * (f - fnx[j]) + apa * (g + dnx[j]) + ama * (gnx[j] + d),
                        dxb * (fp[j] - f) + apb * (gp[j] + d) + amb * (g + dp[j]),
                    )
                } else {
                    (
                        dy_r[j] * (f - fr[j]) + ap_r[j] * g + am_r[j] * gr[j],
                        dy_l[j] * (fl[j] - f) + ap_l[j] * gl[j] + am_l[j] * g,
                        dxa * (f - fnx[j]) + apa * g + ama * gnx[j],
                        dxb * (fp[j] - f) + apb * gp[j] + amb * g,
                    )
                };
                let v = f - dt_over_h * ((fx_a - fx_b) + (fy_r - fy_l));
                out[j] = match base {
                    Some(b) => half * (b[j] + v),
                    None => v,
                };
            }
            emit(r, out);
            s.rotate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy of the hot loop the CPU dispatches to (AVX-512, AVX2 or plain) gives the
    /// same bits as the plain one.
    #[test]
    fn dispatched_update_equals_the_portable_one() {
        let grid = Grid::new(2, 37, 3.0).unwrap();
        let params = ModelParams::bose(1.2, 0.8, 2.5, 0.7);
        let scheme = Upwind::<f64>::new(&grid, &params);
        let n = grid.cells;
        let src: Vec<f64> = (0..n * n).map(|i| 0.5 + ((i * 7919) % 113) as f64 / 113.0).collect();
        let run = |dispatched: bool| {
            let mut pad = PaddedRows::new(n);
            let mut out = vec![0.0; n * n];
            let mut rows = Vec::new();
            if dispatched {
                scheme.update_rows(n, 2, &src, 0..n, &mut pad, 0.01, None, &mut out, |r, _| rows.push(r));
            } else {
                scheme.update_rows_portable::<false>(
                    n,
                    2,
                    &src,
                    0..n,
                    &mut pad,
                    0.01,
                    None,
                    &mut out,
                    |r, _| rows.push(r),
                );
            }
            (out, rows)
        };
        let (a, b) = (run(true), run(false));
        assert_eq!(a.1, b.1);
        assert!(a.0.iter().zip(&b.0).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
