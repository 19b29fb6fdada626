// The gradient-flow upwind scheme (MATH.md §2b): chemical potential ξ per cell, velocity
// u = −(ξ_r − ξ_l)/h per face, flux u⁺ (m↑(f_l) + m↓(f_r)) + u⁻ (m↑(f_r) + m↓(f_l));
// completed by fv_step.wgsl and model.wgsl (appended). Its step bound needs the face
// velocities of the new field: the step computes them on the tile. CPU twin:
// `GradientFlow` (cells, flux) and `gradient_flow_rate`.

// λ x²/2 per index along an axis, computed in f64 on the host (as the CPU's table).
@group(0) @binding(4) var<storage, read> half_lambda_x2: array<f32>;

// (ξ, m↑(f), m↓(f)) of cell (i0, i1): ξ = λ|x|²/2 + D Φ'(max(f, floor)).
fn potential_and_mobility(i0: u32, i1: u32) -> vec3<f32> {
    let f = value(i0, i1);
    var row_potential = 0.0;
    if (p.dim == 2u) {
        row_potential = half_lambda_x2[i0];
    }
    let xi = row_potential + half_lambda_x2[i1] + p.diffusion * entropy_derivative(f, p.log_floor);
    return vec3<f32>(xi, mobility_up(f), mobility_down(f));
}

// Flux from cell l to cell r: u⁺ (m↑_l + m↓_r) + u⁻ (m↑_r + m↓_l) with u = (ξ_l − ξ_r)/h.
fn face_flux(l: vec3<f32>, r: vec3<f32>) -> f32 {
    let u = (l.x - r.x) * p.inv_h;
    return max(u, 0.0) * (l.y + r.z) + min(u, 0.0) * (r.y + l.z);
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

// ξ of cell (i0, i1) alone (the velocities of the bound).
fn potential(i0: u32, i1: u32) -> f32 {
    return potential_and_mobility(i0, i1).x;
}

// (left, right, below, above) face velocities u = (ξ_l − ξ_r)/h of cell (i0, i1); zero on
// boundary faces.
fn cell_velocities(i0: u32, i1: u32) -> vec4<f32> {
    let c = potential(i0, i1);
    var u = vec4<f32>(0.0);
    if (i1 > 0u) { u.x = (potential(i0, i1 - 1u) - c) * p.inv_h; }
    if (i1 + 1u < p.n) { u.y = (c - potential(i0, i1 + 1u)) * p.inv_h; }
    if (p.dim == 2u) {
        if (i0 > 0u) { u.z = (potential(i0 - 1u, i1) - c) * p.inv_h; }
        if (i0 + 1u < p.n) { u.w = (c - potential(i0 + 1u, i1)) * p.inv_h; }
    }
    return u;
}

// The bound needs the new field's velocities: the step computes one more ring of cells.
const MEASURE_HALO: u32 = 1u;

// [Σ_out u⁺ max(m'(f), 0) (f > 0) + Σ_in |u| sup|m↓'|] / h: the Lipschitz form of the
// positivity (and, for fermions, saturation) bound.
fn cell_rate(i0: u32, i1: u32) -> f32 {
    let f = value(i0, i1);
    let u = cell_velocities(i0, i1);
    var rate = 0.0;
    if (f > 0.0) {
        let out = max(u.w, 0.0) + max(-u.z, 0.0) + max(u.y, 0.0) + max(-u.x, 0.0);
        rate = out * outflow_factor(f);
    }
    if (p.model.inflow_factor > 0.0) {
        let inflow = max(-u.w, 0.0) + max(u.z, 0.0) + max(-u.y, 0.0) + max(u.x, 0.0);
        rate = rate + inflow * p.model.inflow_factor;
    }
    return rate * p.inv_h;
}
