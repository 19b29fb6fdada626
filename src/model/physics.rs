//! The model's pointwise physics, once (docs/MATH.md §1, §2i): the mobility m(f), its
//! derivative and monotone parts, the chemical potential's density part, the particle
//! drift factor and the step-bound factors. Every CPU scheme, the implicit Jacobian, the
//! particles and the reverse PDE call `Physics`; `shaders/shared/model.wgsl` holds the
//! same functions for every kernel, fed by `ShaderModel` (its uniform mirror).
//!
//! Both statistics of the Kaniadakis–Quarati family are m(f) = f (1 + b f^γ) with a
//! signed b: b = +β (bosons, condensation) or b = −β (fermions, 0 ≤ f < β^{−1/γ}).

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};

use super::nonlinear_ou::{ModelParams, Power, PowerBody};
use crate::real::Real;

/// `model.statistics`: which mobility the model has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistics {
    /// m(f) = f (1 + β f^γ): Bose–Einstein-type steady states, condensation above M_c.
    #[default]
    Bose,
    /// m(f) = f (1 − β f^γ), 0 ≤ f < β^{−1/γ}: Fermi–Dirac-type steady states, no
    /// condensation.
    Fermi,
}

impl Statistics {
    /// The sign of b in m(f) = f (1 + b f^γ).
    pub fn sign(self) -> f64 {
        match self {
            Statistics::Bose => 1.0,
            Statistics::Fermi => -1.0,
        }
    }
}

/// The pointwise physics in the working precision T (f32 on the device and for f32
/// fields, f64 otherwise), with its constants computed once in f64.
#[derive(Clone, Copy, Debug)]
pub struct Physics<T> {
    pub power: Power,
    /// b = ±β.
    pub beta: T,
    pub inv_gamma: T,
    /// (1 + γ) b: m'(f) = 1 + (1 + γ) b f^γ.
    pub lipschitz_factor: T,
    /// f* where m'(f*) = 0 (T::MAX when m is increasing): m↑(f) = m(min(f, f*)),
    /// m↓(f) = m(max(f, f*)) − m(f*).
    pub peak: T,
    /// m(f*) (0 when m is increasing).
    pub peak_mobility: T,
    /// sup |m↓'| on the admissible densities: the factor of inflow speeds in the step
    /// bounds (0 when m is increasing: no upper bound to keep).
    pub inflow_factor: T,
}

impl<T: Real> Physics<T> {
    pub fn new(p: &ModelParams) -> Self {
        let b = p.statistics.sign() * p.beta;
        let (peak, peak_mobility, inflow_factor) = match p.statistics {
            Statistics::Fermi if p.beta > 0.0 => {
                let peak = ((1.0 + p.gamma) * p.beta).powf(-1.0 / p.gamma);
                // m(f*) = f* γ/(1+γ); |m'| rises from 0 at f* to γ at saturation
                (T::from_f64(peak), T::from_f64(peak * p.gamma / (1.0 + p.gamma)), T::from_f64(p.gamma))
            }
            _ => (T::max_value(), T::zero(), T::zero()),
        };
        Self {
            power: p.power(),
            beta: T::from_f64(b),
            inv_gamma: T::from_f64(1.0 / p.gamma),
            lipschitz_factor: T::from_f64((1.0 + p.gamma) * b),
            peak,
            peak_mobility,
            inflow_factor,
        }
    }

    /// Whether m has a decreasing part (then the face mobility needs m↓).
    pub fn has_decreasing_part(&self) -> bool {
        self.peak < T::max_value()
    }

    /// b f^γ.
    #[inline(always)]
    pub fn nonlinear(&self, f: T) -> T {
        self.beta * self.power.apply(f)
    }

    /// m(f) = f (1 + b f^γ).
    #[inline(always)]
    pub fn mobility(&self, f: T) -> T {
        f * (T::one() + self.nonlinear(f))
    }

    /// m'(f) = 1 + (1 + γ) b f^γ.
    #[inline(always)]
    pub fn mobility_derivative(&self, f: T) -> T {
        T::one() + self.lipschitz_factor * self.power.apply(f)
    }

    /// The increasing part m↑(f) = m(min(f, f*)) (m itself for bosons).
    #[inline(always)]
    pub fn mobility_up(&self, f: T) -> T {
        if f > self.peak {
            self.peak_mobility
        } else {
            self.mobility(f)
        }
    }

    /// The decreasing part m↓(f) = m(max(f, f*)) − m(f*) (0 for bosons).
    #[inline(always)]
    pub fn mobility_down(&self, f: T) -> T {
        if f > self.peak {
            self.mobility(f) - self.peak_mobility
        } else {
            T::zero()
        }
    }

    /// d m↑/df and d m↓/df.
    #[inline(always)]
    pub fn mobility_part_derivatives(&self, f: T) -> (T, T) {
        let d = self.mobility_derivative(f);
        if f > self.peak {
            (T::zero(), d)
        } else {
            (d, T::zero())
        }
    }

    /// The face mobility of a flux from `donor` into `receiver`: m↑(donor) + m↓(receiver),
    /// non-decreasing in the donor and non-increasing in the receiver (monotone), m(f)
    /// when both are f.
    #[inline(always)]
    pub fn face_mobility(&self, donor: T, receiver: T) -> T {
        self.mobility_up(donor) + self.mobility_down(receiver)
    }

    /// Φ'(f) = log max(f, floor) − log(1 + b f^γ)/γ, the density part of ξ / D.
    #[inline(always)]
    pub fn entropy_derivative(&self, f: T, log_floor: T) -> T {
        f.max(log_floor).ln() - self.nonlinear(f).ln_1p() * self.inv_gamma
    }

    /// The factor 1 + b f^γ of the particles' and the reverse PDE's drift λx(1 + b f^γ),
    /// kept ≥ 0 (a fermion density estimated above saturation must not push outward).
    #[inline(always)]
    pub fn drift_factor(&self, f: T) -> T {
        (T::one() + self.nonlinear(f)).max(T::zero())
    }

    /// The factor of outflow speeds in the step bounds: max(m'(f), 0), the Lipschitz
    /// constant of m↑ at f (m'(f) itself for bosons).
    #[inline(always)]
    pub fn outflow_factor(&self, f: T) -> T {
        self.mobility_derivative(f).max(T::zero())
    }

    /// Run `body` with the per-cell rows m↑ and m↓ computed by a loop specialised for the
    /// exponent (see `Power::with`).
    #[inline(always)]
    pub fn mobility_rows(&self, f: &[T], up: &mut [T], down: Option<&mut [T]>) {
        self.power.with(MobilityRows { physics: self, f, up, down });
    }
}

/// up_j = m↑(f_j), down_j = m↓(f_j).
struct MobilityRows<'a, T> {
    physics: &'a Physics<T>,
    f: &'a [T],
    up: &'a mut [T],
    down: Option<&'a mut [T]>,
}

impl<T: Real> PowerBody<T, ()> for MobilityRows<'_, T> {
    #[inline(always)]
    fn run(self, pow: impl Fn(T) -> T + Copy) {
        let (b, peak, peak_m) = (self.physics.beta, self.physics.peak, self.physics.peak_mobility);
        for (o, &x) in self.up.iter_mut().zip(self.f) {
            let m = x * (T::one() + b * pow(x));
            *o = if x > peak { peak_m } else { m };
        }
        if let Some(down) = self.down {
            for (o, &x) in down.iter_mut().zip(self.f) {
                *o = if x > peak { x * (T::one() + b * pow(x)) - peak_m } else { T::zero() };
            }
        }
    }
}

/// The uniform mirror of `Model` in shaders/shared/model.wgsl (48 bytes, first member of
/// every kernel's parameter block so that it sits at a 16-byte offset).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ShaderModel {
    pub power_kind: u32,
    pub statistics: u32,
    pub beta: f32,
    pub gamma: f32,
    pub inv_gamma: f32,
    pub lipschitz_factor: f32,
    pub peak: f32,
    pub peak_mobility: f32,
    pub inflow_factor: f32,
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

impl ShaderModel {
    pub fn new(p: &ModelParams) -> Self {
        let phys = Physics::<f32>::new(p);
        Self {
            power_kind: p.power().shader_kind(),
            statistics: p.statistics as u32,
            beta: phys.beta,
            gamma: p.gamma as f32,
            inv_gamma: phys.inv_gamma,
            lipschitz_factor: phys.lipschitz_factor,
            peak: phys.peak,
            peak_mobility: phys.peak_mobility,
            inflow_factor: phys.inflow_factor,
            _pad0: 0.0,
            _pad1: 0.0,
            _pad2: 0.0,
        }
    }
}
