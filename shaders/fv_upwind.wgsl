// The classic upwind scheme (MATH.md §2a): face fluxes and the cell-local step bound,
// completed by fv_step.wgsl and model.wgsl (appended). CPU twin: `Upwind::update_rows`
// (same face fluxes, zero-flux boundary) and `Upwind::max_rate_weight` (same bound,
// rate_scale = λ/h).

// Flux through face k (between cells k-1 and k along one axis); zero on the boundary.
fn face_flux(k: u32, fl: f32, fr: f32) -> f32 {
    if (k == 0u || k >= p.n) {
        return 0.0;
    }
    let a = -p.lambda * (-p.half_width + f32(k) * p.h);
    return -p.diffusion_over_h * (fr - fl) + max(a, 0.0) * face_mobility(fl, fr) + min(a, 0.0) * face_mobility(fr, fl);
}

// Outward drift speed / λ of cell i along one axis: (|x_i| − h/2)⁺.
fn outward(i: u32) -> f32 {
    let x = -p.half_width + (f32(i) + 0.5) * p.h;
    return max(abs(x) - 0.5 * p.h, 0.0);
}

// (left, right, below, above) face fluxes of cell (i0, i1); neighbours outside the box
// are never read, as boundary faces carry no flux.
fn cell_fluxes(i0: u32, i1: u32) -> vec4<f32> {
    let f = value(i0, i1);
    var left = 0.0;
    var right = 0.0;
    if (i1 > 0u) { left = value(i0, i1 - 1u); }
    if (i1 + 1u < p.n) { right = value(i0, i1 + 1u); }
    var out = vec4<f32>(face_flux(i1, left, f), face_flux(i1 + 1u, f, right), 0.0, 0.0);
    if (p.dim == 2u) {
        var below = 0.0;
        var above = 0.0;
        if (i0 > 0u) { below = value(i0 - 1u, i1); }
        if (i0 + 1u < p.n) { above = value(i0 + 1u, i1); }
        out.z = face_flux(i0, below, f);
        out.w = face_flux(i0 + 1u, f, above);
    }
    return out;
}

// The bound reads the cell alone: no halo beyond the steps'.
const MEASURE_HALO: u32 = 0u;

// Inward drift speed / λ of cell i along one axis: (|x_i| + h/2) + (h/2 − |x_i|)⁺.
fn inward(i: u32) -> f32 {
    let x = abs(-p.half_width + (f32(i) + 0.5) * p.h);
    return x + 0.5 * p.h + max(0.5 * p.h - x, 0.0);
}

// Σ_dims (|x| − h/2)⁺ max(m'(f), 0) [+ Σ_dims inward × sup|m↓'|] of cell (i0, i1).
fn cell_rate(i0: u32, i1: u32) -> f32 {
    var speed = outward(i1);
    if (p.dim == 2u) {
        speed = outward(i0) + speed;
    }
    let rate = speed * outflow_factor(value(i0, i1));
    if (p.model.inflow_factor > 0.0) {
        var inflow = inward(i1);
        if (p.dim == 2u) {
            inflow = inward(i0) + inflow;
        }
        return rate + p.model.inflow_factor * inflow;
    }
    return rate;
}
