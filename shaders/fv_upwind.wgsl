// One explicit (forward Euler) step of the classic upwind scheme (MATH.md §2a), f32.
// CPU twin: `Upwind::update_rows` in src/backend/cpu/schemes.rs (same face fluxes,
// same zero-flux boundary faces). One invocation per cell; cell (i0, i1) has flat
// index i0 * n + i1 (axis 0 = x); in 1D the field is a single row along axis 1.

struct Params {
    n: u32,             // cells per side
    dim: u32,           // 1 or 2
    gamma_is_two: u32,  // fast path f^2
    _pad: u32,
    dt_over_h: f32,
    diffusion_over_h: f32,
    lambda: f32,
    beta: f32,
    gamma: f32,
    half_width: f32,    // L
    h: f32,
    _pad2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<f32>;

// G(f) = f (1 + β f^γ), the upwinded flux function.
fn mobility(f: f32) -> f32 {
    var fg: f32;
    if (p.gamma_is_two == 1u) {
        fg = f * f;
    } else if (f > 0.0) {
        fg = pow(f, p.gamma);
    } else {
        fg = 0.0;
    }
    return f * (1.0 + p.beta * fg);
}

// Flux through face k (between cells k-1 and k along one axis); zero on the boundary.
fn face_flux(k: u32, fl: f32, fr: f32) -> f32 {
    if (k == 0u || k >= p.n) {
        return 0.0;
    }
    let a = -p.lambda * (-p.half_width + f32(k) * p.h);
    let a_plus = max(a, 0.0);
    let a_minus = min(a, 0.0);
    return -p.diffusion_over_h * (fr - fl) + a_plus * mobility(fl) + a_minus * mobility(fr);
}

fn value(i0: u32, i1: u32) -> f32 {
    return f_in[i0 * p.n + i1];
}

@compute @workgroup_size(16, 16, 1)
fn step_euler(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i1 = gid.x;
    let i0 = gid.y;
    let rows = select(1u, p.n, p.dim == 2u);
    if (i1 >= p.n || i0 >= rows) {
        return;
    }
    let f = value(i0, i1);
    // along the row (axis 1; the only axis in 1D)
    // neighbours outside the box are never read: their faces carry no flux
    var left = 0.0;
    var right = 0.0;
    if (i1 > 0u) { left = value(i0, i1 - 1u); }
    if (i1 + 1u < p.n) { right = value(i0, i1 + 1u); }
    let fy_l = face_flux(i1, left, f);
    let fy_r = face_flux(i1 + 1u, f, right);
    // across rows (axis 0), 2D only
    var fx_b = 0.0;
    var fx_a = 0.0;
    if (p.dim == 2u) {
        var below = 0.0;
        var above = 0.0;
        if (i0 > 0u) { below = value(i0 - 1u, i1); }
        if (i0 + 1u < p.n) { above = value(i0 + 1u, i1); }
        fx_b = face_flux(i0, below, f);
        fx_a = face_flux(i0 + 1u, f, above);
    }
    f_out[i0 * p.n + i1] = f - p.dt_over_h * ((fx_a - fx_b) + (fy_r - fy_l));
}
