//! The two finite-volume schemes of docs/MATH.md §2 as (p, q, flux) triples for the sweep.

use super::sweep::FluxScheme;
use crate::grid::Grid;
use crate::model::{ModelParams, Power, PowerBody};
use crate::real::Real;

/// Classic upwind: p = f, q = G(f) = f (1 + β f^γ);
/// F = −D (f_r − f_l)/h + a⁺ G(f_l) + a⁻ G(f_r), a = −λ x_face.
pub struct Upwind<T> {
    power: Power,
    beta: T,
    diffusion_over_h: T,
    /// D/h per face k = 0..=N, zero on the boundary faces.
    face_diffusion: Vec<T>,
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
        let n = grid.cells;
        // Boundary faces (k = 0, N) carry no flux: all their coefficients are zero.
        let interior = |k: usize| k > 0 && k < n;
        let a: Vec<f64> = (0..=n).map(|k| if interior(k) { -p.lambda * grid.face(k) } else { 0.0 }).collect();
        let d = p.diffusion / grid.h();
        Self {
            power: p.power(),
            beta: T::from_f64(p.beta),
            diffusion_over_h: T::from_f64(d),
            face_diffusion: (0..=n).map(|k| T::from_f64(if interior(k) { d } else { 0.0 })).collect(),
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
        self.power.with(MobilityRow { beta: self.beta, f, out: q });
    }

    #[inline(always)]
    fn flux(&self, face: usize, pl: T, pr: T, ql: T, qr: T) -> T {
        -self.diffusion_over_h * (pr - pl) + self.a_plus[face] * ql + self.a_minus[face] * qr
    }

    #[inline(always)]
    fn flux_along(&self, p: &[T], q: &[T], out: &mut [T]) {
        let n = p.len();
        let d = self.diffusion_over_h;
        let faces = self.a_plus[1..n].iter().zip(&self.a_minus[1..n]);
        let cells = p[..n - 1].iter().zip(&p[1..]).zip(q[..n - 1].iter().zip(&q[1..]));
        for ((o, (&ap, &am)), ((&pl, &pr), (&ql, &qr))) in out.iter_mut().zip(faces).zip(cells) {
            *o = -d * (pr - pl) + ap * ql + am * qr;
        }
    }

    /// max_j Σ_dims (|x| − h/2)⁺ (1 + (1+γ) β f_j^γ): the drift outflow of a cell per λ/h.
    #[inline(always)]
    fn max_rate_weight(&self, row: usize, f: &[T]) -> T {
        let row_speed = if self.dim == 2 { self.outward[row] } else { T::zero() };
        let speed = &self.outward[..f.len()];
        self.power.with(MaxRateWeight { row_speed, speed, factor: self.lipschitz_factor, f })
    }
}

/// out_j = f_j (1 + β f_j^γ).
struct MobilityRow<'a, T> {
    beta: T,
    f: &'a [T],
    out: &'a mut [T],
}

impl<T: Real> PowerBody<T, ()> for MobilityRow<'_, T> {
    #[inline(always)]
    fn run(self, pow: impl Fn(T) -> T + Copy) {
        for (o, &x) in self.out.iter_mut().zip(self.f) {
            *o = x * (T::one() + self.beta * pow(x));
        }
    }
}

/// max_j (row_speed + speed_j)(1 + factor f_j^γ), with lane-wise maxima.
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
        let weight = |s: T, x: T| (self.row_speed + s) * (T::one() + self.factor * pow(x));
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

    #[inline(always)]
    fn flux_along(&self, p: &[T], q: &[T], out: &mut [T]) {
        let n = p.len();
        let cells = p[..n - 1].iter().zip(&p[1..]).zip(q[..n - 1].iter().zip(&q[1..]));
        for (o, ((&pl, &pr), (&ql, &qr))) in out.iter_mut().zip(cells) {
            *o = self.flux(0, pl, pr, ql, qr);
        }
    }
}

/// Rows of f and G(f) padded with one zero cell at each end, for the fused upwind kernel.
pub struct PaddedRows<T> {
    f: [Vec<T>; 3],
    g: [Vec<T>; 3],
}

impl<T: Real> PaddedRows<T> {
    pub fn new(n: usize) -> Self {
        let row = || vec![T::zero(); n + 2];
        Self { f: [row(), row(), row()], g: [row(), row(), row()] }
    }
}

impl<T: Real> Upwind<T> {
    #[inline(always)]
    fn load(&self, row: Option<&[T]>, f: &mut [T], g: &mut [T]) {
        match row {
            Some(src) => {
                let n = src.len();
                f[1..=n].copy_from_slice(src);
                self.power.with(MobilityRow { beta: self.beta, f: src, out: &mut g[1..=n] });
            }
            None => {
                f.fill(T::zero());
                g.fill(T::zero());
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
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            unsafe { self.update_rows_avx512(n, dim, src, rows, s, dt_over_h, blend, out_block, emit) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { self.update_rows_avx2(n, dim, src, rows, s, dt_over_h, blend, out_block, emit) };
            return;
        }
        self.update_rows_portable(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn update_rows_avx2(
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
        self.update_rows_portable(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn update_rows_avx512(
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
        self.update_rows_portable(n, dim, src, rows, s, dt_over_h, blend, out_block, emit)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn update_rows_portable(
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
        self.load(Some(row(first)), &mut s.f[1], &mut s.g[1]);
        self.load((two_d && first > 0).then(|| row(first - 1)), &mut s.f[0], &mut s.g[0]);
        let half = T::from_f64(0.5);
        let (dy_l, dy_r) = (&self.face_diffusion[..n], &self.face_diffusion[1..=n]);
        let (ap_l, ap_r) = (&self.a_plus[..n], &self.a_plus[1..=n]);
        let (am_l, am_r) = (&self.a_minus[..n], &self.a_minus[1..=n]);
        for r in rows {
            let above = two_d && r + 1 < n;
            self.load(above.then(|| row(r + 1)), &mut s.f[2], &mut s.g[2]);
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
            let out = &mut out_block[(r - first) * n..(r - first + 1) * n];
            let base = blend.map(|b| &b[r * n..(r + 1) * n]);
            for j in 0..n {
                let (f, g) = (fc[j], gc[j]);
                let fy_r = dy_r[j] * (f - fr[j]) + ap_r[j] * g + am_r[j] * gr[j];
                let fy_l = dy_l[j] * (fl[j] - f) + ap_l[j] * gl[j] + am_l[j] * g;
                let fx_a = dxa * (f - fnx[j]) + apa * g + ama * gnx[j];
                let fx_b = dxb * (fp[j] - f) + apb * gp[j] + amb * g;
                let v = f - dt_over_h * ((fx_a - fx_b) + (fy_r - fy_l));
                out[j] = match base {
                    Some(b) => half * (b[j] + v),
                    None => v,
                };
            }
            emit(r, out);
            s.f.rotate_left(1);
            s.g.rotate_left(1);
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
        let params = ModelParams { lambda: 1.2, beta: 0.8, gamma: 2.5, diffusion: 0.7 };
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
                scheme.update_rows_portable(n, 2, &src, 0..n, &mut pad, 0.01, None, &mut out, |r, _| {
                    rows.push(r)
                });
            }
            (out, rows)
        };
        let (a, b) = (run(true), run(false));
        assert_eq!(a.1, b.1);
        assert!(a.0.iter().zip(&b.0).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
