// The gradient-flow upwind scheme (MATH.md §2b): chemical potential ξ per cell, velocity
// u = −(ξ_r − ξ_l)/h per face, flux u⁺ m(f_l) + u⁻ m(f_r); completed by fv_step.wgsl
// (appended). Its step bound needs the fluxes of the new field: the step computes
// them on the tile. CPU twin: `GradientFlow` (cells, flux) and
// `gradient_flow_rate`.

// λ x²/2 per index along an axis, computed in f64 on the host (as the CPU's table).
@group(0) @binding(4) var<storage, read> half_lambda_x2: array<f32>;

// log(1 + x) accurate for small x (the CPU uses ln_1p): Goldberg's correction.
fn log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    return log(u) * x / (u - 1.0);
}

// (ξ, m(f)) of cell (i0, i1): ξ = λ|x|²/2 + D (log max(f, floor) − log(1 + β f^γ)/γ).
fn potential_and_mobility(i0: u32, i1: u32) -> vec2<f32> {
    let f = value(i0, i1);
    var row_potential = 0.0;
    if (p.dim == 2u) {
        row_potential = half_lambda_x2[i0];
    }
    let nonlinear = p.beta * power(f);
    let log_f = log(max(f, p.log_floor));
    let xi = row_potential + half_lambda_x2[i1] + p.diffusion * (log_f - log1p(nonlinear) * p.inv_gamma);
    return vec2<f32>(xi, f * (1.0 + nonlinear));
}

// Flux from cell l to cell r: u⁺ m_l + u⁻ m_r with u = (ξ_l − ξ_r)/h.
fn face_flux(l: vec2<f32>, r: vec2<f32>) -> f32 {
    let u = (l.x - r.x) * p.inv_h;
    return max(u, 0.0) * l.y + min(u, 0.0) * r.y;
}

// (left, right, below, above) face fluxes of cell (i0, i1); boundary faces carry none.
fn cell_fluxes(i0: u32, i1: u32) -> vec4<f32> {
    let c = potential_and_mobility(i0, i1);
    var out = vec4<f32>(0.0);
    if (i1 > 0u) { out.x = face_flux(potential_and_mobility(i0, i1 - 1u), c); }
    if (i1 + 1u < p.n) { out.y = face_flux(c, potential_and_mobility(i0, i1 + 1u)); }
    if (p.dim == 2u) {
        if (i0 > 0u) { out.z = face_flux(potential_and_mobility(i0 - 1u, i1), c); }
        if (i0 + 1u < p.n) { out.w = face_flux(c, potential_and_mobility(i0 + 1u, i1)); }
    }
    return out;
}

// The bound needs the new field's fluxes: the step computes one more ring of cells.
const MEASURE_HALO: u32 = 1u;

// Outflow rate of the cell times m'(f) f / m(f): Σ outgoing fluxes / (h f) ×
// (1 + (1+γ) β f^γ) / (1 + β f^γ), the Lipschitz form of the positivity bound.
fn cell_rate(i0: u32, i1: u32) -> f32 {
    let f = value(i0, i1);
    if (f <= 0.0) {
        return 0.0;
    }
    let fl = cell_fluxes(i0, i1);
    let out = max(fl.w, 0.0) + max(-fl.z, 0.0) + max(fl.y, 0.0) + max(-fl.x, 0.0);
    let fg = power(f);
    return out * p.inv_h / f * ((1.0 + p.lipschitz_factor * fg) / (1.0 + p.beta * fg));
}
