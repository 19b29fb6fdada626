//! Implicit steps of the gradient-flow scheme (1D and 2D, f64; docs/MATH.md §2e, §2g):
//! backward Euler or variable-step BDF2. Each step solves R(f) = 0 (`system`) by Newton,
//! with the Jacobian factored (`solve`: Thomas in 1D, sparse LU in 2D) and reused while
//! Newton contracts fast (a chord iteration). The fluxes are those of the explicit
//! scheme, so the discrete steady states are kept exactly; the Jacobian's columns sum to
//! a₀, so each linear Newton update keeps the mass to round-off; a cell the linear update
//! would empty moves multiplicatively instead, so f stays positive. Δt follows a local
//! error estimate (`control`), and is quartered when Newton fails. Runs go on past
//! condensation: the condensate's chemical potential saturates.

mod control;
mod solve;
mod system;

use super::cpu::CpuBackend;
use super::{
    BackendInfo, Diagnostics, Discretisation, DtPolicy, ForwardStepper, StepControl, StepOutcome, StopReason,
};
use crate::error::{Error, Result};
use crate::kinds::Integrator;
use control::Formula;
use solve::LinearSolver;
use system::StepSystem;

/// Newton stops when the update is below this fraction of the step's error tolerance
/// (relative to |f| + the mean density), or below NEWTON_TOL × max f. Every full update
/// keeps the mass whatever the tolerance: Newton starts from a state of the right mass.
const NEWTON_FRACTION: f64 = 1e-4;
const NEWTON_TOL: f64 = 1e-12;
const NEWTON_MAX: usize = 40;
/// Newton also stops when its update no longer halves and is below this fraction.
const STALL_TOL: f64 = 1e-9;
/// The Jacobian is refactored when an update shrank by less than this factor.
const REFACTOR_RATE: f64 = 0.25;
/// A factorisation is reused for a step whose Δt/a₀ differs from its own by at most this.
const REUSE: f64 = 0.2;
/// A cell the linear Newton update would leave below this share of its density moves
/// multiplicatively instead.
const KEEP: f64 = 1e-3;

/// What Newton did over the run (summary diagnostics).
#[derive(Clone, Copy, Debug, Default)]
pub struct NewtonStats {
    pub iterations: u64,
    pub factorisations: u64,
    pub rejected_steps: u64,
}

/// The last accepted states before the current one, newest first, with their steps.
#[derive(Default)]
struct History {
    states: Vec<Vec<f64>>,
    /// `steps[k]` = the Δt that led from `states[k]` to the next newer state.
    steps: Vec<f64>,
}

pub struct ImplicitGradientFlow {
    disc: Discretisation,
    /// 1: backward Euler; 2: BDF2.
    order: usize,
    /// The local error each step may make, relative to |f_i| + the mean density.
    tolerance: f64,
    mean_density: f64,
    /// Σf at the upload (the mass every step keeps).
    mass: f64,
    f: Vec<f64>,
    t: f64,
    /// The Δt the next step tries.
    dt: f64,
    history: History,
    system: StepSystem,
    solver: LinearSolver,
    /// Δt/a₀ of the factorisation the solver holds (None: none).
    factored_scale: Option<f64>,
    /// The last step was rejected: the next may not grow.
    rejected: bool,
    /// For the diagnostics and the explicit bound (the reference backend's reductions).
    reference: CpuBackend<f64>,
    pub stats: NewtonStats,
    // scratch
    rhs: Vec<f64>,
    /// The last solved step, before `accept`.
    trial: Vec<f64>,
}

impl ImplicitGradientFlow {
    pub fn new(disc: Discretisation, tolerance: f64, threads: Option<usize>) -> Result<Self> {
        let order = match disc.integrator {
            Integrator::BackwardEuler => 1,
            Integrator::Bdf2 => 2,
            other => {
                return Err(Error::Unsupported(format!("{other:?} is not an implicit integrator")));
            }
        };
        if disc.grid.dim > 2 {
            return Err(Error::Unsupported("implicit steps run in 1D and 2D".into()));
        }
        let n = disc.grid.len();
        let mut explicit = disc.clone();
        explicit.integrator = Integrator::Euler;
        let reference = CpuBackend::<f64>::new(explicit, threads)?;
        let system = StepSystem::new(&disc);
        let solver = LinearSolver::new(&system.jacobian)?;
        Ok(Self {
            order,
            tolerance,
            mean_density: 0.0,
            mass: 0.0,
            f: vec![0.0; n],
            t: 0.0,
            dt: 0.0,
            history: History::default(),
            system,
            solver,
            factored_scale: None,
            rejected: false,
            reference,
            stats: NewtonStats::default(),
            rhs: vec![0.0; n],
            trial: Vec::new(),
            disc,
        })
    }

    /// The formula of the next step of `dt` and the earlier steps its error estimate uses.
    fn formula(&self, dt: f64) -> (Formula, usize) {
        let known = self.history.steps.len();
        if self.order == 2 && known >= 2 {
            (Formula::bdf2(dt / self.history.steps[0]), 2)
        } else {
            (Formula::BACKWARD_EULER, known.min(1))
        }
    }

    /// One step of `dt` from `self.f` into `self.trial` by Newton from `guess`; the
    /// Newton iterations, or None when Newton failed.
    fn solve_step(&mut self, dt: f64, formula: Formula, mut f: Vec<f64>) -> Option<usize> {
        for (k, r) in self.rhs.iter_mut().enumerate() {
            *r = formula.a1 * self.f[k]
                - if formula.a2 != 0.0 { formula.a2 * self.history.states[0][k] } else { 0.0 };
        }
        let mut previous = f64::INFINITY;
        // the last factorisation serves while Δt/a₀ is within REUSE of its own (J = a₀ I +
        // Δt K changes little); Newton's contraction decides when it no longer does
        let dt_over_a0 = dt / formula.a0;
        let mut refactor = self.disc.grid.dim == 1
            || self.factored_scale.is_none_or(|s| (dt_over_a0 / s - 1.0).abs() > REUSE);
        for iteration in 1..=NEWTON_MAX {
            self.system.evaluate(&f, &self.rhs, formula.a0, dt, refactor);
            if refactor {
                self.stats.factorisations += 1;
                self.factored_scale = None;
                if !self.solver.factor(&self.system.jacobian) {
                    return None;
                }
                self.factored_scale = Some(dt_over_a0);
            }
            let delta = &mut self.system.residual;
            for v in delta.iter_mut() {
                *v = -*v;
            }
            if !self.solver.solve(delta) {
                return None;
            }
            // a cell the linear update would empty (or more) moves by f e^{δ/f} instead:
            // positive, and the same to first order. Its mass error (second order) is
            // undone by the next update, whose Σδ restores the mass.
            let scale = f.iter().fold(0.0f64, |m, v| m.max(*v));
            let largest = delta.iter().fold(0.0f64, |m, d| m.max(d.abs()));
            // a reused factorisation can point far off near a condensate, whose cell barely
            // moves ξ: drop an update that grew and linearise at the current iterate
            if !refactor && largest > previous {
                refactor = true;
                continue;
            }
            let mut relative = 0.0f64;
            let mut linear = true;
            for (fi, di) in f.iter_mut().zip(delta.iter()) {
                relative = relative.max(di.abs() / (fi.abs() + self.mean_density));
                if *fi + di >= KEEP * *fi {
                    *fi += di;
                } else {
                    linear = false;
                    *fi *= (di / *fi).exp();
                }
            }
            // converged: the Newton update (as solved: a cell that moved multiplicatively
            // moved less) far below the step's local error, or at round-off; or stalled at
            // round-off (a dense condensate makes J ill-conditioned)
            // (a fixed Δt has no error target: Newton then goes to round-off)
            let stalled = largest <= STALL_TOL * scale && largest > 0.5 * previous;
            let enough =
                !matches!(self.disc.dt, DtPolicy::Fixed(_)) && relative <= NEWTON_FRACTION * self.tolerance;
            if enough || largest <= NEWTON_TOL * scale || stalled {
                // Newton keeps Σf = Σb/a₀ = Σfⁿ up to the linear solves' round-off (which
                // grows with J's condition near a condensate) and the last update's
                // multiplicative moves: scale to the run's mass, so that neither builds up
                let now: f64 = f.iter().sum();
                f.iter_mut().for_each(|v| *v *= self.mass / now);
                self.trial = f;
                return Some(iteration);
            }
            // a chord step that contracts slowly: linearise afresh (always in 1D, where
            // a factorisation costs no more than a residual)
            refactor = self.disc.grid.dim == 1 || largest > REFACTOR_RATE * previous;
            log::trace!("newton {iteration}: update {largest:.3e} of max f {scale:.3e}, linear {linear}");
            previous = largest;
        }
        None
    }

    /// The predictor through the current and the `earlier` last states at t + dt.
    fn predict(&self, dt: f64, earlier: usize) -> Vec<f64> {
        let weights = control::predictor_weights(dt, &self.history.steps[..earlier]);
        let mut out: Vec<f64> = self.f.iter().map(|v| weights[0] * v).collect();
        for (w, state) in weights[1..].iter().zip(&self.history.states) {
            for (o, s) in out.iter_mut().zip(state) {
                *o += w * s;
            }
        }
        out
    }

    /// Newton's starting point: the predictor kept above KEEP × fⁿ and scaled to the run's
    /// mass (a full Newton update then keeps that mass).
    fn guess(&self, predicted: Option<&[f64]>) -> Vec<f64> {
        let Some(p) = predicted else { return self.f.clone() };
        let mut g: Vec<f64> = p.iter().zip(&self.f).map(|(p, f)| p.max(KEEP * f)).collect();
        let now: f64 = g.iter().sum();
        if now > 0.0 {
            g.iter_mut().for_each(|v| *v *= self.mass / now);
        }
        g
    }

    /// The local error of `self.trial` against `predicted`, as a ratio to the tolerance.
    fn error_ratio(&self, factor: f64, predicted: &[f64]) -> f64 {
        let floor = self.mean_density;
        let mut worst = (0.0f64, 0usize);
        for (i, (c, p)) in self.trial.iter().zip(predicted).enumerate() {
            let e = factor * (c - p).abs() / (self.tolerance * (c.abs() + floor));
            if e > worst.0 {
                worst = (e, i);
            }
        }
        // the cell that sets Δt (a front, the condensate, a cell being emptied)
        log::trace!(
            "local error set by cell {}: f {:e} -> {:e}, ratio {:.3}",
            worst.1,
            self.f[worst.1],
            self.trial[worst.1],
            worst.0
        );
        worst.0
    }

    /// `trial` becomes the state, the old state the newest of the history.
    fn accept(&mut self, dt: f64) {
        let old = std::mem::replace(&mut self.f, std::mem::take(&mut self.trial));
        self.history.states.insert(0, old);
        self.history.steps.insert(0, dt);
        self.history.states.truncate(self.order);
        self.history.steps.truncate(self.order);
    }

    /// A step not taken: the next try is `next`; a stop when that is below the floor (or Δt
    /// is fixed, so no smaller step comes).
    fn retry(&mut self, next: f64, ctl: &StepControl, fixed: bool) -> Option<StopReason> {
        self.stats.rejected_steps += 1;
        self.rejected = true;
        self.dt = next;
        (next < ctl.dt_bound_floor || fixed)
            .then_some(StopReason::DtCollapse { dt_bound: next, floor: ctl.dt_bound_floor })
    }
}

impl ForwardStepper for ImplicitGradientFlow {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu-implicit".into(),
            precision: "f64".into(),
            device: format!(
                "host CPU ({}, Newton, {})",
                if self.order == 2 { "BDF2" } else { "backward Euler" },
                if self.disc.grid.dim == 1 { "tridiagonal" } else { "sparse LU" }
            ),
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
        // a new state has no past
        self.history = History::default();
        let volume = (2.0 * self.disc.grid.half_width).powi(self.disc.grid.dim as i32);
        self.mass = field.iter().sum();
        self.mean_density = self.mass * self.disc.grid.cell_volume() / volume;
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
            let (formula, earlier) = self.formula(dt);
            let predicted = (earlier > 0).then(|| self.predict(dt, earlier));
            let guess = self.guess(predicted.as_deref());
            let Some(iterations) = self.solve_step(dt, formula, guess) else {
                out.stop = self.retry(dt * 0.25, ctl, fixed);
                if out.stop.is_some() {
                    break;
                }
                continue;
            };
            self.stats.iterations += iterations as u64;
            // the local error decides Δt (the first step has no estimate: it starts at the
            // explicit bound)
            let order = if earlier == 2 { 2 } else { 1 };
            let err = match &predicted {
                Some(p) => {
                    self.error_ratio(control::error_factor(dt, &self.history.steps[..earlier], formula), p)
                }
                None => 0.0,
            };
            log::debug!(
                "implicit step t = {:.6e} dt = {dt:.3e}: {iterations} Newton iterations, error ratio {err:.3}, {} factorisations, {} rejected so far",
                self.t,
                self.stats.factorisations,
                self.stats.rejected_steps
            );
            if !fixed {
                let mut next = dt * control::step_factor(err, order);
                if err > 1.0 {
                    out.stop = self.retry(next, ctl, false);
                    if out.stop.is_some() {
                        break;
                    }
                    continue;
                }
                // no growth right after a rejection (it would likely be rejected again)
                if std::mem::take(&mut self.rejected) {
                    next = next.min(dt);
                }
                // a step shortened to land on t_stop says nothing about the next Δt
                if dt == self.dt || next < self.dt {
                    self.dt = next;
                }
            }
            self.accept(dt);
            self.t = if dt == remaining { ctl.t_stop } else { self.t + dt };
            out.steps += 1;
            out.dt_last = dt;
            let max = self.f.iter().fold(0.0f64, |m, v| m.max(*v));
            if !max.is_finite() {
                out.stop = Some(StopReason::NonFinite);
                break;
            }
            if max > ctl.max_density {
                out.stop = Some(StopReason::DensityBound { max_density: max, bound: ctl.max_density });
                break;
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
