//! Backward Euler for the gradient-flow scheme (1D, f64; docs/MATH.md §2e): each step
//! solves R(f) = f − fⁿ + (Δt/h)(F_{i+1/2}(f) − F_{i−1/2}(f)) = 0 by Newton with the
//! analytic tridiagonal Jacobian (Thomas). The fluxes are those of the explicit scheme, so
//! the discrete steady states (ξ constant) are kept exactly; every column of the Jacobian
//! sums to 1, so each Newton update keeps the mass to round-off; a damped update leaves
//! every cell at least 1e-3 of its density, so f stays positive. Δt adapts to Newton:
//! doubled after an easy step, halved after a hard one, quartered and retried after a
//! failure. Runs go on past condensation: the condensate's chemical potential saturates.

use super::cpu::CpuBackend;
use super::{
    BackendInfo, Diagnostics, Discretisation, DtPolicy, ForwardStepper, StepControl, StepOutcome, StopReason,
};
use crate::error::{Error, Result};

/// Newton stops when the update is below this fraction of max f.
const NEWTON_TOL: f64 = 1e-12;
const NEWTON_MAX: usize = 30;
/// Newton also stops when its update no longer halves and is below this fraction.
const STALL_TOL: f64 = 1e-9;
/// Δt doubles after a step of at most this many Newton iterations, halves above SLOW.
const EASY: usize = 4;
const SLOW: usize = 12;
/// A damped Newton update leaves every cell at least this share of its density.
const KEEP: f64 = 1e-3;

/// What Newton did over the run (summary diagnostics).
#[derive(Clone, Copy, Debug, Default)]
pub struct NewtonStats {
    pub iterations: u64,
    pub rejected_steps: u64,
}

pub struct ImplicitGradientFlow {
    disc: Discretisation,
    f: Vec<f64>,
    t: f64,
    /// The Δt the next step tries.
    dt: f64,
    /// λ x_i²/2.
    potential: Vec<f64>,
    /// For the diagnostics and the explicit bound (the reference backend's reductions).
    reference: CpuBackend<f64>,
    pub stats: NewtonStats,
    // scratch
    cells: Cells,
    residual: Vec<f64>,
    lower: Vec<f64>,
    diag: Vec<f64>,
    upper: Vec<f64>,
    trial: Vec<f64>,
}

/// Per cell: ξ, ξ' = D/m (0 where f is floored), m and m'.
struct Cells {
    xi: Vec<f64>,
    dxi: Vec<f64>,
    m: Vec<f64>,
    dm: Vec<f64>,
}

impl ImplicitGradientFlow {
    pub fn new(disc: Discretisation, threads: Option<usize>) -> Result<Self> {
        if disc.grid.dim != 1 {
            return Err(Error::Unsupported(
                "scheme.integrator = \"backward-euler\" runs in 1D so far (model.dim = 1)".into(),
            ));
        }
        let n = disc.grid.cells;
        let potential = disc.grid.centres().iter().map(|x| 0.5 * disc.params.lambda * x * x).collect();
        let mut explicit = disc.clone();
        explicit.integrator = crate::kinds::Integrator::Euler;
        let reference = CpuBackend::<f64>::new(explicit, threads)?;
        Ok(Self {
            disc,
            f: vec![0.0; n],
            t: 0.0,
            dt: 0.0,
            potential,
            reference,
            stats: NewtonStats::default(),
            cells: Cells { xi: vec![0.0; n], dxi: vec![0.0; n], m: vec![0.0; n], dm: vec![0.0; n] },
            residual: vec![0.0; n],
            lower: vec![0.0; n],
            diag: vec![0.0; n],
            upper: vec![0.0; n],
            trial: vec![0.0; n],
        })
    }

    /// Fill `self.cells` from `f` (scratch kept between Newton iterations).
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

    /// R(f) and its tridiagonal Jacobian for the step fⁿ → f of Δt.
    fn linearise(&mut self, f: &[f64], f_old: &[f64], dt: f64) {
        let n = f.len();
        let h = self.disc.grid.h();
        let k = dt / h;
        self.fill_cells(f);
        let c = &self.cells;
        for i in 0..n {
            self.residual[i] = f[i] - f_old[i];
            self.diag[i] = 1.0;
            self.lower[i] = 0.0;
            self.upper[i] = 0.0;
        }
        // face between l = i and r = i + 1: u = (ξ_l − ξ_r)/h, F = u⁺ m_l + u⁻ m_r
        for l in 0..n - 1 {
            let r = l + 1;
            let u = (c.xi[l] - c.xi[r]) / h;
            let (flux, d_left, d_right) = if u >= 0.0 {
                (u * c.m[l], c.dxi[l] * c.m[l] / h + u * c.dm[l], -c.dxi[r] * c.m[l] / h)
            } else {
                (u * c.m[r], c.dxi[l] * c.m[r] / h, -c.dxi[r] * c.m[r] / h + u * c.dm[r])
            };
            // R_l += k F, R_r −= k F
            self.residual[l] += k * flux;
            self.residual[r] -= k * flux;
            self.diag[l] += k * d_left;
            self.upper[l] += k * d_right;
            self.lower[r] -= k * d_left;
            self.diag[r] -= k * d_right;
        }
    }

    /// Solve J δ = −R in place into `residual` (Thomas; J's columns sum to 1 and its
    /// diagonal dominates by columns, so no pivoting is needed).
    fn solve(&mut self) -> bool {
        let n = self.diag.len();
        let (a, b, c, d) = (&self.lower, &mut self.diag, &mut self.upper, &mut self.residual);
        for v in d.iter_mut() {
            *v = -*v;
        }
        for i in 1..n {
            if b[i - 1] == 0.0 || !b[i - 1].is_finite() {
                return false;
            }
            let w = a[i] / b[i - 1];
            b[i] -= w * c[i - 1];
            d[i] -= w * d[i - 1];
        }
        if b[n - 1] == 0.0 {
            return false;
        }
        d[n - 1] /= b[n - 1];
        for i in (0..n - 1).rev() {
            d[i] = (d[i] - c[i] * d[i + 1]) / b[i];
        }
        d.iter().all(|v| v.is_finite())
    }

    /// One backward-Euler step of `dt` from `self.f` into `self.trial`; the Newton
    /// iterations, or None when Newton failed.
    fn try_step(&mut self, dt: f64) -> Option<usize> {
        let f_old = self.f.clone();
        let mut f = f_old.clone();
        let mut previous = f64::INFINITY;
        for iteration in 1..=NEWTON_MAX {
            self.linearise(&f, &f_old, dt);
            if !self.solve() {
                return None;
            }
            let delta = &self.residual;
            // damped: every cell keeps at least KEEP of its density
            let mut alpha: f64 = 1.0;
            for (fi, di) in f.iter().zip(delta) {
                if *di < 0.0 && fi + alpha * di < KEEP * fi {
                    alpha = alpha.min((1.0 - KEEP) * fi / -di);
                }
            }
            let scale = f.iter().fold(0.0f64, |m, v| m.max(*v));
            let mut largest = 0.0f64;
            for (fi, di) in f.iter_mut().zip(delta) {
                *fi += alpha * di;
                largest = largest.max((alpha * di).abs());
            }
            // converged; or stalled at round-off (a dense condensate makes J ill-conditioned)
            // with an update already far below the step's own change
            let stalled = largest <= STALL_TOL * scale && largest > 0.5 * previous;
            if largest <= NEWTON_TOL * scale || stalled {
                self.trial.copy_from_slice(&f);
                return Some(iteration);
            }
            previous = largest;
        }
        None
    }
}

impl ForwardStepper for ImplicitGradientFlow {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu-implicit".into(),
            precision: "f64".into(),
            device: "host CPU (backward Euler, Newton)".into(),
            threads: 1,
        }
    }

    fn upload(&mut self, field: &[f64], t: f64) -> Result<()> {
        if field.len() != self.f.len() {
            return Err(Error::Numerics(format!(
                "upload of {} values into {} cells",
                field.len(),
                self.f.len()
            )));
        }
        self.f.copy_from_slice(field);
        self.t = t;
        self.reference.upload(field, t)?;
        if self.dt == 0.0 {
            self.dt = match self.disc.dt {
                DtPolicy::Fixed(dt) => dt,
                // the explicit bound is where an implicit step starts to pay
                DtPolicy::Adaptive { .. } => self.reference.dt_bound(),
            };
        }
        Ok(())
    }

    fn step_n(&mut self, max_steps: u64, ctl: &StepControl) -> Result<StepOutcome> {
        let mut out = StepOutcome { steps: 0, dt_last: 0.0, stop: None };
        let fixed = matches!(self.disc.dt, DtPolicy::Fixed(_));
        while out.steps < max_steps && self.t < ctl.t_stop {
            let remaining = ctl.t_stop - self.t;
            let dt = if self.dt >= remaining * (1.0 - 1e-12) { remaining } else { self.dt };
            match self.try_step(dt) {
                Some(iterations) => {
                    self.stats.iterations += iterations as u64;
                    std::mem::swap(&mut self.f, &mut self.trial);
                    self.t = if dt == remaining { ctl.t_stop } else { self.t + dt };
                    out.steps += 1;
                    out.dt_last = dt;
                    if !fixed && dt == self.dt {
                        if iterations <= EASY {
                            self.dt *= 2.0;
                        } else if iterations > SLOW {
                            self.dt *= 0.5;
                        }
                    }
                    let max = self.f.iter().fold(0.0f64, |m, v| m.max(*v));
                    if !max.is_finite() {
                        out.stop = Some(StopReason::NonFinite);
                        break;
                    }
                    if max > ctl.max_density {
                        out.stop =
                            Some(StopReason::DensityBound { max_density: max, bound: ctl.max_density });
                        break;
                    }
                }
                None => {
                    self.stats.rejected_steps += 1;
                    self.dt = dt * 0.25;
                    if self.dt < ctl.dt_bound_floor || fixed {
                        out.stop =
                            Some(StopReason::DtCollapse { dt_bound: self.dt, floor: ctl.dt_bound_floor });
                        break;
                    }
                }
            }
        }
        self.reference.upload(&self.f, self.t)?;
        Ok(out)
    }

    fn set_dt_policy(&mut self, dt: DtPolicy) -> Result<()> {
        self.disc.dt = dt;
        if let DtPolicy::Fixed(dt) = dt {
            self.dt = dt;
        }
        Ok(())
    }

    /// The Δt the next step tries (no positivity bound applies to the implicit step).
    fn dt_bound(&mut self) -> f64 {
        self.dt
    }

    fn diagnostics(&mut self) -> Result<Diagnostics> {
        self.reference.diagnostics()
    }

    fn read_back(&mut self, out: &mut [f64]) -> Result<()> {
        out.copy_from_slice(&self.f);
        Ok(())
    }

    fn time(&self) -> f64 {
        self.t
    }

    fn cached_state(&self) -> Vec<f64> {
        vec![self.dt]
    }

    fn restore_cached_state(&mut self, state: &[f64]) -> Result<()> {
        if let Some(&dt) = state.first() {
            self.dt = dt;
        }
        Ok(())
    }
}
