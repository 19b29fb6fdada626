//! Double-exponential quadrature (tanh–sinh on finite intervals, exp–sinh on [a, ∞)).
//!
//! Both rules cluster nodes double-exponentially at the endpoints, so integrable
//! algebraic endpoint singularities and slowly decaying tails converge fast — what the
//! critical-mass integrals need (docs/MATH.md §1: never the naive series).

use std::f64::consts::FRAC_PI_2;

const MAX_LEVELS: usize = 14;
const T_MAX: f64 = 6.5;

/// Refine a trapezoidal sum in t (step halving) until two levels agree to `tol`.
fn refine(term: impl Fn(f64) -> f64, tol: f64) -> f64 {
    // Level 0: h = 1, all integer t in [-T_MAX, T_MAX].
    let mut h = 1.0;
    let mut sum: f64 = term(0.0);
    let mut k = 1.0;
    while k <= T_MAX {
        sum += term(k) + term(-k);
        k += 1.0;
    }
    let mut estimate = sum * h;
    for level in 1..=MAX_LEVELS {
        h *= 0.5;
        let mut t = h;
        while t <= T_MAX {
            sum += term(t) + term(-t);
            t += 2.0 * h;
        }
        let next = sum * h;
        let converged = (next - estimate).abs() <= tol * next.abs().max(f64::MIN_POSITIVE);
        estimate = next;
        if converged && level >= 3 {
            break;
        }
    }
    estimate
}

/// ∫_a^b f(x) dx by tanh–sinh. `f` is never evaluated at the endpoints; nodes near
/// `a` are computed as a + δ so a singularity at a = 0 is resolved down to tiny δ.
pub fn tanh_sinh(f: impl Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let width = b - a;
    let term = |t: f64| -> f64 {
        let s = FRAC_PI_2 * t.sinh();
        let cosh_s = s.cosh();
        let weight = 0.5 * width * FRAC_PI_2 * t.cosh() / (cosh_s * cosh_s);
        // distance to the nearer endpoint: (b - a) / (1 + e^{2|s|})
        let delta = width / (1.0 + (2.0 * s.abs()).exp());
        if !(weight > 0.0 && weight.is_finite() && delta > 0.0) {
            return 0.0;
        }
        let x = if t >= 0.0 { b - delta } else { a + delta };
        if x <= a || x >= b {
            return 0.0;
        }
        weight * f(x)
    };
    refine(term, tol)
}

/// ∫_a^∞ f(x) dx by exp–sinh (x = a + exp(π/2 sinh t)), for integrands that decay
/// at least like a power > 1 or exponentially.
pub fn exp_sinh(f: impl Fn(f64) -> f64, a: f64, tol: f64) -> f64 {
    let term = |t: f64| -> f64 {
        let e = (FRAC_PI_2 * t.sinh()).exp();
        let weight = FRAC_PI_2 * t.cosh() * e;
        if !(e > 0.0 && weight.is_finite()) {
            return 0.0;
        }
        let value = f(a + e);
        if value == 0.0 {
            return 0.0;
        }
        weight * value
    };
    refine(term, tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_sinh_handles_endpoint_singularity() {
        // ∫_0^1 x^{-0.9} dx = 10
        let v = tanh_sinh(|x| x.powf(-0.9), 0.0, 1.0, 1e-14);
        assert!((v - 10.0).abs() < 1e-9, "{v}");
        // ∫_0^1 sqrt(1 - x^2) = π/4 (derivative singular at 1)
        let v = tanh_sinh(|x| (1.0 - x * x).sqrt(), 0.0, 1.0, 1e-14);
        assert!((v - std::f64::consts::FRAC_PI_4).abs() < 1e-13, "{v}");
    }

    #[test]
    fn exp_sinh_integrates_slow_tails() {
        // ∫_1^∞ e^{-x/3} dx = 3 e^{-1/3}
        let v = exp_sinh(|x| (-x / 3.0).exp(), 1.0, 1e-14);
        assert!((v - 3.0 * (-1.0f64 / 3.0).exp()).abs() < 1e-12, "{v}");
        // ∫_0^∞ 1/(1+x^2) = π/2
        let v = exp_sinh(|x| 1.0 / (1.0 + x * x), 0.0, 1e-14);
        assert!((v - FRAC_PI_2).abs() < 1e-11, "{v}");
    }
}
