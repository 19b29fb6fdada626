// Time stepping shared by both finite-volume schemes (appended to a scheme's part, which
// defines `cell_fluxes`, `cell_rate` and `MEASURE_HALO`), f32, forward Euler or SSP-RK2,
// with the time step kept on the device. CPU twin: `CpuBackend::step` and `bound` (the
// blocked pass's twin is LEVELS single steps: tests/gpu_blocking.rs).
// Cell (i0, i1) has flat index i0 * n + i1 (axis 0 = x); in 1D the field is a single row
// along axis 1.
//
// One pass per step, or per LEVELS steps (temporal blocking, docs/MATH.md §2h): a workgroup
// loads its tile of f (TILE² cells in 2D, ROW_TILE in 1D) with a halo of one cell per
// Euler stage (+ MEASURE_HALO when the bound needs the new field's fluxes) into
// workgroup memory, takes the stages there (each one shrinks the valid region by a
// cell), writes its own cells once and folds the new field's max density and bound rate.
// The last workgroup to finish (an atomic ticket between device-scope fences) turns the
// maxima into the next Δt and advances t: no other pass, 8 bytes of f per cell.

struct StepParams {
    model: Model,        // the physics (shared/model.wgsl)
    n: u32,              // cells per side
    dim: u32,            // 1 or 2
    adaptive: u32,       // 1: Δt = safety × bound; 0: Δt = fixed_dt
    diffusion_over_h: f32,
    lambda: f32,
    half_width: f32,     // L
    h: f32,
    safety: f32,
    diffusive_rate: f32, // 2 d D / h²
    fixed_dt: f32,       // Δt when not adaptive
    rate_scale: f32,     // bound = 1 / (diffusive_rate + rate_scale × folded rate)
    diffusion: f32,
    log_floor: f32,
    inv_h: f32,
    _pad0: f32,
    _pad1: f32,
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
    done: atomic<u32>,   // workgroups of the current pass that have finished
    overstep: atomic<u32>,   // set when a blocked pass's frozen Δt exceeded a later bound
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: StepParams;
@group(0) @binding(1) var<storage, read> f_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: StepState;

// Steps per pass (0: measure the field in f_in only) and the integrator, per pipeline.
override LEVELS: u32 = 1u;
override RK2: bool = false;

const WG: u32 = 256u;
const TILE: u32 = 32u;          // own cells per side of a 2D tile
const ROW_TILE: u32 = 1024u;    // own cells of a 1D tile
const MAX_HALO: u32 = 5u;       // stages per pass + MEASURE_HALO may not exceed it
const TILE_CELLS: u32 = 1764u;  // (TILE + 2 MAX_HALO)², ≥ ROW_TILE + 2 MAX_HALO

// Two tile buffers, at offsets 0 and TILE_CELLS.
var<workgroup> tile: array<f32, 2u * TILE_CELLS>;
var<workgroup> wg_rate_bits: atomic<u32>;
var<workgroup> wg_max_bits: atomic<u32>;
var<workgroup> wg_flags: atomic<u32>;   // 1: non-finite value, 2: overstep
var<workgroup> wg_ticket: u32;

// The tile's first cell in grid coordinates, its row length, and the buffer the scheme
// reads (`value`); set per workgroup and per stage.
var<private> origin0: i32;
var<private> origin1: i32;
var<private> width: u32;
var<private> src: u32;
var<private> stage_dt: f32;

fn value(i0: u32, i1: u32) -> f32 {
    return tile[src + u32(i32(i0) - origin0) * width + u32(i32(i1) - origin1)];
}

// A rectangle of cells in grid coordinates: rows [r0, r1), columns [c0, c1).
struct Region {
    r0: u32,
    r1: u32,
    c0: u32,
    c1: u32,
}

// The own cells of workgroup `wid` grown by `margin` cells (along axis 0 in 2D only),
// clipped to the box.
fn region(wid: vec3<u32>, margin: u32) -> Region {
    if (p.dim == 2u) {
        let r0 = wid.y * TILE;
        let c0 = wid.x * TILE;
        return Region(
            u32(max(i32(r0) - i32(margin), 0)), min(r0 + TILE + margin, p.n),
            u32(max(i32(c0) - i32(margin), 0)), min(c0 + TILE + margin, p.n),
        );
    }
    let c0 = wid.x * ROW_TILE;
    return Region(0u, 1u, u32(max(i32(c0) - i32(margin), 0)), min(c0 + ROW_TILE + margin, p.n));
}

fn region_cells(r: Region) -> u32 {
    return (r.r1 - r.r0) * (r.c1 - r.c0);
}

// Grid coordinates of the k-th cell of a region, row-major.
fn region_cell(r: Region, k: u32) -> vec2<u32> {
    let cols = r.c1 - r.c0;
    return vec2<u32>(r.r0 + k / cols, r.c0 + k % cols);
}

fn tile_index(c: vec2<u32>) -> u32 {
    return u32(i32(c.x) - origin0) * width + u32(i32(c.y) - origin1);
}

// f + Δt L(f) at cell (i0, i1) of the buffer `src`, from the scheme's four face fluxes
// (along axis 1: left, right; along axis 0: below, above).
fn euler_value(i0: u32, i1: u32) -> f32 {
    let fl = cell_fluxes(i0, i1);
    let dt_over_h = stage_dt / p.h;
    return value(i0, i1) - dt_over_h * ((fl.w - fl.z) + (fl.y - fl.x));
}

// One Euler stage over `r`, from buffer `from_buf` into `to_buf`; `blend`: SSP-RK2
// second stage, ½ (to_buf + Euler(from_buf)) with to_buf holding f^n (each cell reads its own).
fn stage(r: Region, from_buf: u32, to_buf: u32, blend: bool, local: u32) {
    src = from_buf;
    for (var k = local; k < region_cells(r); k = k + WG) {
        let c = region_cell(r, k);
        var v = euler_value(c.x, c.y);
        if (blend) {
            v = 0.5 * (tile[to_buf + tile_index(c)] + v);
        }
        tile[to_buf + tile_index(c)] = v;
    }
    workgroupBarrier();
}

// Δt for a step from t = t_hi + t_lo: the frozen Δt (safety × bound of the pass's
// first field, or the fixed Δt), shortened to land on t_stop, then 0.
fn choose_dt(frozen: f32, t_hi: f32, t_lo: f32) -> f32 {
    let remaining = (state.t_stop - t_hi) - t_lo;
    if (frozen >= remaining) {
        return max(remaining, 0.0);
    }
    return frozen;
}

fn frozen_dt(bound: f32) -> f32 {
    if (p.adaptive == 1u) {
        return p.safety * bound;
    }
    return p.fixed_dt;
}

// t + Δt as a Kahan–Babuška (Neumaier) pair: t_hi carries the sum, t_lo the rounding.
fn advance(t: vec2<f32>, dt: f32) -> vec2<f32> {
    let s = t.x + dt;
    var err: f32;
    if (abs(t.x) >= abs(dt)) {
        err = (t.x - s) + dt;
    } else {
        err = (dt - s) + t.x;
    }
    return vec2<f32>(s, t.y + err);
}

fn bound_of(rate: f32) -> f32 {
    return 1.0 / (p.diffusive_rate + p.rate_scale * rate);
}

fn is_nonfinite(v: f32) -> bool {
    // exponent bits all set: Inf or NaN (a bit test, as WGSL may assume no NaN)
    return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

// Own cells of an intermediate field of the pass, in buffer `src`: flag values that are
// not finite and, when the Δt is adaptive, a bound below the `next_dt` the pass's next
// step uses on this field.
fn check_level(own: Region, next_dt: f32, local: u32) {
    for (var k = local; k < region_cells(own); k = k + WG) {
        let c = region_cell(own, k);
        if (is_nonfinite(value(c.x, c.y))) {
            atomicOr(&wg_flags, 1u);
        }
        if (p.adaptive == 1u && next_dt > bound_of(cell_rate(c.x, c.y))) {
            atomicOr(&wg_flags, 2u);
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn step(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let stages_per_step = select(1u, 2u, RK2);
    let halo = LEVELS * stages_per_step + MEASURE_HALO;
    if (local == 0u) {
        atomicStore(&wg_rate_bits, 0u);
        atomicStore(&wg_max_bits, 0u);
        atomicStore(&wg_flags, 0u);
    }
    // load f on the own cells and the full halo
    let loaded = region(wid, halo);
    let own = region(wid, 0u);
    // the tile's origin is the own cells' grown by the halo, unclipped
    let side = select(ROW_TILE, TILE, p.dim == 2u);
    origin0 = select(0, i32(wid.y * TILE) - i32(halo), p.dim == 2u);
    origin1 = i32(wid.x * side) - i32(halo);
    width = side + 2u * halo;
    for (var k = local; k < region_cells(loaded); k = k + WG) {
        let c = region_cell(loaded, k);
        tile[tile_index(c)] = f_in[c.x * p.n + c.y];
    }
    workgroupBarrier();

    // every workgroup follows the same Δt sequence (same arithmetic, same inputs)
    let frozen = frozen_dt(state.bound);
    var t = vec2<f32>(state.t_hi, state.t_lo);
    var dt = state.dt;
    var taken = 0u;
    var dt_last = 0.0;
    var current = 0u;
    var margin = halo;
    for (var level = 0u; level < LEVELS; level = level + 1u) {
        stage_dt = dt;
        let other = TILE_CELLS - current;
        margin = margin - 1u;
        stage(region(wid, margin), current, other, false, local);
        if (RK2) {
            margin = margin - 1u;
            stage(region(wid, margin), other, current, true, local);
        } else {
            current = other;
        }
        if (dt > 0.0) {
            t = advance(t, dt);
            taken = taken + 1u;
            dt_last = dt;
        }
        dt = choose_dt(frozen, t.x, t.y);
        src = current;
        if (level + 1u < LEVELS) {
            check_level(own, dt, local);
        }
    }

    // write the own cells, fold the new field's maxima
    src = current;
    var rate = 0.0;
    var fmax = 0.0;
    var nonfinite = false;
    for (var k = local; k < region_cells(own); k = k + WG) {
        let c = region_cell(own, k);
        let v = value(c.x, c.y);
        if (LEVELS > 0u) {
            f_out[c.x * p.n + c.y] = v;
        }
        rate = max(rate, cell_rate(c.x, c.y));
        fmax = max(fmax, v);
        nonfinite = nonfinite || is_nonfinite(v);
    }
    if (nonfinite) {
        atomicOr(&wg_flags, 1u);
    }
    atomicMax(&wg_rate_bits, bitcast<u32>(max(rate, 0.0)));
    atomicMax(&wg_max_bits, bitcast<u32>(max(fmax, 0.0)));
    workgroupBarrier();
    if (local == 0u) {
        // max of non-negative f32 as max of their bits: order-independent, deterministic
        atomicMax(&state.rate_bits, atomicLoad(&wg_rate_bits));
        atomicMax(&state.max_bits, atomicLoad(&wg_max_bits));
        let flags = atomicLoad(&wg_flags);
        if ((flags & 1u) != 0u) {
            atomicOr(&state.nonfinite, 1u);
        }
        if ((flags & 2u) != 0u) {
            atomicOr(&state.overstep, 1u);
        }
    }
    // release this workgroup's results to the device before taking a ticket ...
    storageBarrier();
    if (local == 0u) {
        wg_ticket = atomicAdd(&state.done, 1u);
    }
    let ticket = workgroupUniformLoad(&wg_ticket);
    if (ticket + 1u != groups.x * groups.y) {
        return;
    }
    // ... and the last one acquires everybody's before reading the maxima
    storageBarrier();
    if (local == 0u) {
        state.t_hi = t.x;
        state.t_lo = t.y;
        state.steps = state.steps + taken;
        if (taken > 0u) {
            state.dt_last = dt_last;
        }
        let field_rate = bitcast<f32>(atomicLoad(&state.rate_bits));
        state.max_density = bitcast<f32>(atomicLoad(&state.max_bits));
        atomicStore(&state.rate_bits, 0u);
        atomicStore(&state.max_bits, 0u);
        atomicStore(&state.done, 0u);
        state.bound = bound_of(field_rate);
        state.dt = choose_dt(frozen_dt(state.bound), t.x, t.y);
    }
}

// One invocation, after the host moved t_stop: re-choose Δt from the stored bound.
@compute @workgroup_size(1, 1, 1)
fn clip_dt() {
    state.dt = choose_dt(frozen_dt(state.bound), state.t_hi, state.t_lo);
}
