// The classic upwind scheme (MATH.md §2a), f32, forward Euler or SSP-RK2, with the time
// step kept on the device. CPU twin: `Upwind::update_rows` (same face fluxes, zero-flux boundary) and
// `Upwind::max_rate_weight` (same cell-local step bound). Cell (i0, i1) has flat index
// i0 * n + i1 (axis 0 = x); in 1D the field is a single row along axis 1.
//
// Per step: `step_euler` reads Δt from `state`, writes the new field and folds the
// bound's rate weight and the max density of its output into `state` (workgroup tree
// reduction, then one atomicMax per workgroup on the bits of a non-negative f32, which is
// order-independent and so deterministic); `next_dt` turns them into the next Δt.

struct Params {
    n: u32,             // cells per side
    dim: u32,           // 1 or 2
    gamma_is_two: u32,  // fast path f^2
    adaptive: u32,      // 1: next_dt sets Δt = safety × bound; 0: Δt stays as written
    diffusion_over_h: f32,
    lambda: f32,
    beta: f32,
    gamma: f32,
    half_width: f32,    // L
    h: f32,
    safety: f32,
    diffusive_rate: f32, // 2 d D / h²
    fixed_dt: f32,       // Δt when not adaptive
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

struct State {
    dt: f32,             // Δt of the next step (0 once t_stop is reached)
    t_hi: f32,           // t = t_hi + t_lo (compensated sum of the steps)
    t_lo: f32,
    t_stop: f32,
    steps: u32,          // steps taken with Δt > 0
    bound: f32,          // step bound of the current field
    rate_bits: atomic<u32>,  // max rate weight of the field being written (f32 bits)
    max_bits: atomic<u32>,   // max density of the field being written (f32 bits)
    max_density: f32,    // max density of the current field
    nonfinite: atomic<u32>,  // set when a step wrote NaN or Inf
    dt_last: f32,        // Δt of the last step taken
    _pad0: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: State;

fn power(f: f32) -> f32 {
    if (p.gamma_is_two == 1u) {
        return f * f;
    }
    if (f > 0.0) {
        return pow(f, p.gamma);
    }
    return 0.0;
}

// G(f) = f (1 + β f^γ), the upwinded flux function.
fn mobility(f: f32) -> f32 {
    return f * (1.0 + p.beta * power(f));
}

// Flux through face k (between cells k-1 and k along one axis); zero on the boundary.
fn face_flux(k: u32, fl: f32, fr: f32) -> f32 {
    if (k == 0u || k >= p.n) {
        return 0.0;
    }
    let a = -p.lambda * (-p.half_width + f32(k) * p.h);
    return -p.diffusion_over_h * (fr - fl) + max(a, 0.0) * mobility(fl) + min(a, 0.0) * mobility(fr);
}

// Outward drift speed / λ of cell i along one axis: (|x_i| − h/2)⁺.
fn outward(i: u32) -> f32 {
    let x = -p.half_width + (f32(i) + 0.5) * p.h;
    return max(abs(x) - 0.5 * p.h, 0.0);
}

fn value(i0: u32, i1: u32) -> f32 {
    return f_in[i0 * p.n + i1];
}

const WG: u32 = 256u;
var<workgroup> wg_rate: array<f32, 256>;
var<workgroup> wg_max: array<f32, 256>;

// Tree-reduce the workgroup's maxima and fold them into `state`.
fn fold_maxima(local: u32, rate: f32, fmax: f32) {
    wg_rate[local] = rate;
    wg_max[local] = fmax;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (local < stride) {
            wg_rate[local] = max(wg_rate[local], wg_rate[local + stride]);
            wg_max[local] = max(wg_max[local], wg_max[local + stride]);
        }
        workgroupBarrier();
    }
    if (local == 0u) {
        atomicMax(&state.rate_bits, bitcast<u32>(max(wg_rate[0], 0.0)));
        atomicMax(&state.max_bits, bitcast<u32>(max(wg_max[0], 0.0)));
    }
}

fn rate_weight(i0: u32, i1: u32, f: f32) -> f32 {
    var speed = outward(i1);
    if (p.dim == 2u) {
        speed = speed + outward(i0);
    }
    return speed * (1.0 + (1.0 + p.gamma) * p.beta * power(f));
}

// f_in + Δt L(f_in) at cell (i0, i1).
fn euler_value(i0: u32, i1: u32) -> f32 {
    let f = value(i0, i1);
    // neighbours outside the box are never read: their faces carry no flux
    var left = 0.0;
    var right = 0.0;
    if (i1 > 0u) { left = value(i0, i1 - 1u); }
    if (i1 + 1u < p.n) { right = value(i0, i1 + 1u); }
    let fy_l = face_flux(i1, left, f);
    let fy_r = face_flux(i1 + 1u, f, right);
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
    let dt_over_h = state.dt / p.h;
    return f - dt_over_h * ((fx_a - fx_b) + (fy_r - fy_l));
}

fn in_field(i0: u32, i1: u32) -> bool {
    return i1 < p.n && i0 < select(1u, p.n, p.dim == 2u);
}

// Write a finished value and fold the bound's maxima (no early return anywhere: every
// invocation must reach the barriers of fold_maxima).
fn finish_cell(inside: bool, i0: u32, i1: u32, v: f32, local: u32) {
    var rate = 0.0;
    var out = 0.0;
    if (inside) {
        f_out[i0 * p.n + i1] = v;
        rate = rate_weight(i0, i1, v);
        out = v;
        // exponent bits all set: Inf or NaN (a bit test, as WGSL may assume no NaN)
        if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
            atomicOr(&state.nonfinite, 1u);
        }
    }
    fold_maxima(local, rate, out);
}

// Forward Euler: f_out = f_in + Δt L(f_in).
@compute @workgroup_size(16, 16, 1)
fn step_euler(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let inside = in_field(gid.y, gid.x);
    var v = 0.0;
    if (inside) { v = euler_value(gid.y, gid.x); }
    finish_cell(inside, gid.y, gid.x, v, local);
}

// SSP-RK2 stage 1: f_out = f_in + Δt L(f_in) (no bound: it is not the new state).
@compute @workgroup_size(16, 16, 1)
fn stage_euler(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (in_field(gid.y, gid.x)) {
        f_out[gid.y * p.n + gid.x] = euler_value(gid.y, gid.x);
    }
}

// SSP-RK2 stage 2, in place over f^n: f_out = ½ f_out + ½ (f_in + Δt L(f_in)), with
// f_in the stage-1 field and f_out holding f^n (each cell reads only its own f^n).
@compute @workgroup_size(16, 16, 1)
fn stage_blend(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let inside = in_field(gid.y, gid.x);
    var v = 0.0;
    if (inside) { v = 0.5 * (f_out[gid.y * p.n + gid.x] + euler_value(gid.y, gid.x)); }
    finish_cell(inside, gid.y, gid.x, v, local);
}

// The rate weight and max density of the field in f_in (at upload, before any step).
@compute @workgroup_size(16, 16, 1)
fn measure(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let i1 = gid.x;
    let i0 = gid.y;
    let rows = select(1u, p.n, p.dim == 2u);
    var rate = 0.0;
    var v = 0.0;
    if (i1 < p.n && i0 < rows) {
        v = value(i0, i1);
        rate = rate_weight(i0, i1, v);
    }
    fold_maxima(local, rate, v);
}

// Δt for the current bound: safety × bound or the fixed Δt, shortened to land on
// t_stop, then 0 (the following steps stand still).
fn choose_dt() {
    var dt = p.fixed_dt;
    if (p.adaptive == 1u) {
        dt = p.safety * state.bound;
    }
    let remaining = (state.t_stop - state.t_hi) - state.t_lo;
    if (dt >= remaining) {
        dt = max(remaining, 0.0);
    }
    state.dt = dt;
}

// One invocation, after each step (and after `measure`): turn the folded maxima into
// the bound of the new field and choose the next Δt.
@compute @workgroup_size(1, 1, 1)
fn next_dt() {
    let rate = bitcast<f32>(atomicLoad(&state.rate_bits));
    state.max_density = bitcast<f32>(atomicLoad(&state.max_bits));
    atomicStore(&state.rate_bits, 0u);
    atomicStore(&state.max_bits, 0u);
    state.bound = 1.0 / (p.diffusive_rate + p.lambda * rate / p.h);
    choose_dt();
}

// One invocation, after the host moved t_stop: re-choose Δt from the stored bound.
@compute @workgroup_size(1, 1, 1)
fn clip_dt() {
    choose_dt();
}

// One invocation, after each step: t += Δt (compensated), count the step.
@compute @workgroup_size(1, 1, 1)
fn advance_time() {
    let dt = state.dt;
    if (dt > 0.0) {
        // Kahan–Babuška (Neumaier): t_hi carries the sum, t_lo the rounding errors
        let s = state.t_hi + dt;
        var err: f32;
        if (abs(state.t_hi) >= abs(dt)) {
            err = (state.t_hi - s) + dt;
        } else {
            err = (dt - s) + state.t_hi;
        }
        state.t_hi = s;
        state.t_lo = state.t_lo + err;
        state.steps = state.steps + 1u;
        state.dt_last = dt;
    }
}
