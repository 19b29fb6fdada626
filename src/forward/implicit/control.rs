//! The implicit integrators' formulas (docs/MATH.md §2g): the variable-step BDF2
//! coefficients, the polynomial predictor through the last states, and the local error
//! estimate from the predictor–corrector difference (Milne's device), with the step-size
//! rule that follows from it.

/// A step's formula: a₀ fⁿ⁺¹ − (a₁ fⁿ − a₂ fⁿ⁻¹) = −Δt div F(fⁿ⁺¹).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Formula {
    pub a0: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Formula {
    pub const BACKWARD_EULER: Formula = Formula { a0: 1.0, a1: 1.0, a2: 0.0 };

    /// Variable-step BDF2 with ω = Δtₙ/Δtₙ₋₁: the derivative at tₙ₊₁ of the quadratic
    /// through the last three states. a₀ = a₁ − a₂, so the mass is kept.
    pub fn bdf2(omega: f64) -> Formula {
        Formula {
            a0: (1.0 + 2.0 * omega) / (1.0 + omega),
            a1: 1.0 + omega,
            a2: omega * omega / (1.0 + omega),
        }
    }
}

/// The weights of the polynomial through the states at tₙ, tₙ − Δt₁, tₙ − Δt₁ − Δt₂, …
/// (`past` = [Δt₁, Δt₂, …], one per earlier state) evaluated at tₙ + Δt.
pub fn predictor_weights(dt: f64, past: &[f64]) -> Vec<f64> {
    let mut nodes = vec![0.0];
    let mut back = 0.0;
    for &step in past {
        back -= step;
        nodes.push(back);
    }
    (0..nodes.len())
        .map(|k| {
            nodes
                .iter()
                .enumerate()
                .filter(|&(m, _)| m != k)
                .map(|(_, &s)| (dt - s) / (nodes[k] - s))
                .product()
        })
        .collect()
}

/// The factor c with local error ≈ c (f_corrector − f_predictor): with the order-q method's
/// error C y^{(q+1)}/(q+1)! and the predictor's Π y^{(q+1)}/(q+1)! (of opposite sign),
/// c = C / (Π + C). Backward Euler (`past` = [Δt₁], linear predictor): C = Δt², Π = Δt(Δt +
/// Δt₁). BDF2 (`past` = [Δt₁, Δt₂], quadratic predictor): C = Δt²(Δt + Δt₁)/a₀, Π = Δt(Δt +
/// Δt₁)(Δt + Δt₁ + Δt₂).
pub fn error_factor(dt: f64, past: &[f64], formula: Formula) -> f64 {
    let (corrector, predictor) = match past {
        [d1] => (dt * dt, dt * (dt + d1)),
        [d1, d2, ..] => (dt * dt * (dt + d1) / formula.a0, dt * (dt + d1) * (dt + d1 + d2)),
        [] => return 0.0,
    };
    corrector / (predictor + corrector)
}

/// The next Δt from an error ratio `err` (≤ 1 accepts) for a method of order q: the
/// standard rule 0.9 err^{−1/(q+1)}, kept in [0.2, 2] (2 keeps variable-step BDF2
/// zero-stable, ω < 1 + √2).
pub fn step_factor(err: f64, order: usize) -> f64 {
    if err <= 0.0 {
        return 2.0;
    }
    (0.9 * err.powf(-1.0 / (order as f64 + 1.0))).clamp(0.2, 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The predictor reproduces polynomials of its degree; BDF2 differentiates quadratics
    /// exactly at unequal steps; the error factors match the constant-step values 1/3
    /// (backward Euler) and 2/11 (BDF2).
    #[test]
    fn formulas_are_exact_where_they_must_be() {
        let (dt, d1, d2) = (0.3, 0.5, 0.2);
        let q = |t: f64| 1.0 + 2.0 * t - 3.0 * t * t;
        let w = predictor_weights(dt, &[d1, d2]);
        let pred = w[0] * q(0.0) + w[1] * q(-d1) + w[2] * q(-d1 - d2);
        assert!((pred - q(dt)).abs() < 1e-14, "{pred} vs {}", q(dt));
        let f = Formula::bdf2(dt / d1);
        let derivative = (f.a0 * q(dt) - f.a1 * q(0.0) + f.a2 * q(-d1)) / dt;
        assert!((derivative - (2.0 - 6.0 * dt)).abs() < 1e-12, "{derivative}");
        assert!((f.a0 - (f.a1 - f.a2)).abs() < 1e-15);
        assert!((error_factor(1.0, &[1.0], Formula::BACKWARD_EULER) - 1.0 / 3.0).abs() < 1e-15);
        assert!((error_factor(1.0, &[1.0, 1.0], Formula::bdf2(1.0)) - 2.0 / 11.0).abs() < 1e-15);
        assert_eq!(step_factor(0.0, 2), 2.0);
        assert_eq!(step_factor(1e6, 1), 0.2);
    }
}
