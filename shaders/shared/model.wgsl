// The model's pointwise physics (docs/MATH.md §1, §2i), once for every kernel: the
// mobility m(f) = f (1 + b f^γ) with b = ±β (bosons / fermions), its derivative and
// monotone parts, the density part of the chemical potential, the particle drift factor
// and the step-bound factors. Appended to every module whose uniform `p` has
// `model: Model` (its first member). CPU twin: `model::physics::Physics` (same
// functions, same operations); host mirror: `ShaderModel`.

struct Model {
    power_kind: u32,       // f^γ: 1..4 by multiplication (as the CPU), 0 by pow
    statistics: u32,       // 0 bose, 1 fermi (informative: b carries the sign)
    beta: f32,             // b = ±β
    gamma: f32,
    inv_gamma: f32,
    lipschitz_factor: f32, // (1 + γ) b
    peak: f32,             // f* with m'(f*) = 0 (f32 max when m increases)
    peak_mobility: f32,    // m(f*)
    inflow_factor: f32,    // sup |m↓'| (0 when m increases)
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

// f^γ as `Power::apply` computes it.
fn power(f: f32) -> f32 {
    switch p.model.power_kind {
        case 1u: { return f; }
        case 2u: { return f * f; }
        case 3u: { return f * f * f; }
        case 4u: { let f2 = f * f; return f2 * f2; }
        default: {
            if (f > 0.0) { return pow(f, p.model.gamma); }
            return 0.0;
        }
    }
}

// log(1 + x) accurate for small x (the CPU uses ln_1p): Goldberg's correction.
fn log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    return log(u) * x / (u - 1.0);
}

// b f^γ.
fn nonlinear(f: f32) -> f32 {
    return p.model.beta * power(f);
}

// m(f) = f (1 + b f^γ).
fn mobility(f: f32) -> f32 {
    return f * (1.0 + nonlinear(f));
}

// m'(f) = 1 + (1 + γ) b f^γ.
fn mobility_derivative(f: f32) -> f32 {
    return 1.0 + p.model.lipschitz_factor * power(f);
}

// m↑(f) = m(min(f, f*)).
fn mobility_up(f: f32) -> f32 {
    if (f > p.model.peak) {
        return p.model.peak_mobility;
    }
    return mobility(f);
}

// m↓(f) = m(max(f, f*)) − m(f*).
fn mobility_down(f: f32) -> f32 {
    if (f > p.model.peak) {
        return mobility(f) - p.model.peak_mobility;
    }
    return 0.0;
}

// The face mobility of a flux from `donor` into `receiver` (monotone).
fn face_mobility(donor: f32, receiver: f32) -> f32 {
    return mobility_up(donor) + mobility_down(receiver);
}

// Φ'(f) = log max(f, floor) − log(1 + b f^γ)/γ.
fn entropy_derivative(f: f32, log_floor: f32) -> f32 {
    return log(max(f, log_floor)) - log1p(nonlinear(f)) * p.model.inv_gamma;
}

// The factor 1 + b f^γ of the drift λx(1 + b f^γ), kept ≥ 0.
fn drift_factor(f: f32) -> f32 {
    return max(1.0 + nonlinear(f), 0.0);
}

// The factor of outflow speeds in the step bounds: max(m'(f), 0).
fn outflow_factor(f: f32) -> f32 {
    return max(mobility_derivative(f), 0.0);
}
