// Time stepping shared by both finite-volume schemes (appended to a scheme's part, which
// defines `cell_fluxes`, `fused_rate` and `measured_rate`), f32, forward Euler or SSP-RK2,
// with the time step kept on the device. CPU twin: `CpuBackend::step` and `bound`.
// Cell (i0, i1) has flat index i0 * n + i1 (axis 0 = x); in 1D the field is a single row
// along axis 1.
//
// Per step: `step_euler` reads Δt from `state`, writes the new field and folds the max
// density of its output (and, for schemes whose step bound is cell-local, the bound's
// rate) into `state` (workgroup tree reduction, then one atomicMax per workgroup on the
// bits of a non-negative f32, which is order-independent and so deterministic);
// schemes whose bound needs the new field's fluxes fold it in a `measure` pass;
// `next_dt` turns the maxima into the next Δt.

struct StepParams {
    n: u32,              // cells per side
    dim: u32,            // 1 or 2
    power_kind: u32,     // f^γ: 1..4 by multiplication (as the CPU), 0 by pow
    adaptive: u32,       // 1: next_dt sets Δt = safety × bound; 0: Δt stays as written
    diffusion_over_h: f32,
    lambda: f32,
    beta: f32,
    gamma: f32,
    half_width: f32,     // L
    h: f32,
    safety: f32,
    diffusive_rate: f32, // 2 d D / h²
    fixed_dt: f32,       // Δt when not adaptive
    rate_scale: f32,     // bound = 1 / (diffusive_rate + rate_scale × folded rate)
    lipschitz_factor: f32, // (1 + γ) β
    inv_gamma: f32,
    diffusion: f32,
    log_floor: f32,
    inv_h: f32,
    _pad0: f32,
}

struct StepState {
    dt: f32,             // Δt of the next step (0 once t_stop is reached)
    t_hi: f32,           // t = t_hi + t_lo (compensated sum of the steps)
    t_lo: f32,
    t_stop: f32,
    steps: u32,          // steps taken with Δt > 0
    bound: f32,          // step bound of the current field
    rate_bits: atomic<u32>,  // max rate of the field being written (f32 bits)
    max_bits: atomic<u32>,   // max density of the field being written (f32 bits)
    max_density: f32,    // max density of the current field
    nonfinite: atomic<u32>,  // set when a step wrote NaN or Inf
    dt_last: f32,        // Δt of the last step taken
    _pad0: f32,
}

@group(0) @binding(0) var<uniform> p: StepParams;
@group(0) @binding(1) var<storage, read> f_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: StepState;

fn value(i0: u32, i1: u32) -> f32 {
    return f_in[i0 * p.n + i1];
}

fn in_field(i0: u32, i1: u32) -> bool {
    return i1 < p.n && i0 < select(1u, p.n, p.dim == 2u);
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

// f_in + Δt L(f_in) at cell (i0, i1), from the scheme's four face fluxes
// (along axis 1: left, right; along axis 0: below, above).
fn euler_value(i0: u32, i1: u32) -> f32 {
    let fl = cell_fluxes(i0, i1);
    let dt_over_h = state.dt / p.h;
    return value(i0, i1) - dt_over_h * ((fl.w - fl.z) + (fl.y - fl.x));
}

// Write a finished value and fold the maxima (no early return anywhere: every
// invocation must reach the barriers of fold_maxima).
fn finish_cell(inside: bool, i0: u32, i1: u32, v: f32, local: u32) {
    var rate = 0.0;
    var out = 0.0;
    if (inside) {
        f_out[i0 * p.n + i1] = v;
        rate = fused_rate(i0, i1, v);
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

// The step-bound rate and max density of the field in f_in (at upload, and after each
// step for schemes whose bound needs the fluxes).
@compute @workgroup_size(16, 16, 1)
fn measure(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    var rate = 0.0;
    var v = 0.0;
    if (in_field(gid.y, gid.x)) {
        v = value(gid.y, gid.x);
        rate = measured_rate(gid.y, gid.x);
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
    state.bound = 1.0 / (p.diffusive_rate + p.rate_scale * rate);
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
