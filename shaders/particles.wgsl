// The interacting particle system on the device (appended to shared/rng.wgsl). CPU twin:
// `particles::ParticleSystem` (deposit: `CicGrid::stencil`/`deposit`, the same fixed-point
// weights; step: the same Euler–Maruyama / drift-implicit update and reflection; the
// increments from the same counter (particle id, step, 0)).
//
// Per step: `clear_units`, `deposit` (integer atomics: a 64-bit sum per cell as two u32
// words with a carry, which is order-independent, so the grid is deterministic and its
// total exact), `to_density`, optional `smooth_rows`/`smooth_cols` sweeps, `move_particles`,
// `next_step`.

struct ParticleParams {
    model: Model,        // the physics (shared/model.wgsl)
    count: u32,
    dim: u32,
    cells: u32,
    implicit: u32,       // 1: drift-implicit, 0: Euler–Maruyama
    key: vec2<u32>,
    interacting: u32,    // 0 when β = 0: no density needed
    half_width: f32,
    inv_h: f32,
    dt: f32,
    noise: f32,          // √(2 D Δt)
    lambda: f32,
    unit_density: f32,   // density of one mass unit in one cell: unit mass / h^d
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: ParticleParams;
@group(0) @binding(1) var<storage, read_write> positions: array<f32>;
@group(0) @binding(2) var<storage, read_write> units: array<atomic<u32>>;   // (lo, hi) per cell
@group(0) @binding(3) var<storage, read_write> density: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(5) var<storage, read_write> step_counter: array<u32>;

const WEIGHT_ONE: u32 = 32768u;

// Lower cell and quantised weight of the upper cell along one axis (twin: cic_axis).
fn cic_axis(x: f32) -> vec2<u32> {
    let t = (x + p.half_width) * p.inv_h;
    let c = floor(t);
    let frac = t - c;
    var lower: f32;
    var w: f32;
    if (frac < 0.5) {
        lower = c - 1.0;
        w = frac + 0.5;
    } else {
        lower = c;
        w = frac - 0.5;
    }
    if (lower < 0.0) {
        return vec2<u32>(0u, 0u);
    }
    if (lower > f32(p.cells - 2u)) {
        return vec2<u32>(p.cells - 2u, WEIGHT_ONE);
    }
    return vec2<u32>(u32(lower), min(u32(floor(w * f32(WEIGHT_ONE))), WEIGHT_ONE));
}

struct Stencil {
    corner: u32,
    w_along: u32,
    w_across: u32,
}

fn particle_index(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * 65535u * 256u;
}

fn stencil(i: u32) -> Stencil {
    let d = p.dim;
    let along = cic_axis(positions[i * d + d - 1u]);
    if (d == 1u) {
        return Stencil(along.x, along.y, 0u);
    }
    let across = cic_axis(positions[i * d]);
    return Stencil(across.x * p.cells + along.x, along.y, across.y);
}

fn add_units(cell: u32, v: u32) {
    if (v == 0u) {
        return;
    }
    let old = atomicAdd(&units[2u * cell], v);
    if (old > 0xffffffffu - v) {
        atomicAdd(&units[2u * cell + 1u], 1u);
    }
}

fn cell_count() -> u32 {
    if (p.dim == 2u) {
        return p.cells * p.cells;
    }
    return p.cells;
}

@compute @workgroup_size(256, 1, 1)
fn clear_units(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = particle_index(gid);
    if (c < 2u * cell_count()) {
        atomicStore(&units[c], 0u);
    }
}

@compute @workgroup_size(256, 1, 1)
fn deposit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = particle_index(gid);
    if (i >= p.count) {
        return;
    }
    let s = stencil(i);
    let b1 = WEIGHT_ONE - s.w_along;
    let a1 = s.w_along;
    if (p.dim == 1u) {
        add_units(s.corner, b1);
        add_units(s.corner + 1u, a1);
        return;
    }
    let b0 = WEIGHT_ONE - s.w_across;
    let a0 = s.w_across;
    add_units(s.corner, b0 * b1);
    add_units(s.corner + 1u, b0 * a1);
    add_units(s.corner + p.cells, a0 * b1);
    add_units(s.corner + p.cells + 1u, a0 * a1);
}

@compute @workgroup_size(256, 1, 1)
fn to_density(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = particle_index(gid);
    if (c >= cell_count()) {
        return;
    }
    let lo = atomicLoad(&units[2u * c]);
    let hi = atomicLoad(&units[2u * c + 1u]);
    density[c] = (f32(hi) * 4294967296.0 + f32(lo)) * p.unit_density;
}

// One smoothing sweep along an axis (twin: deposit::smooth): density → scratch → density.
fn smooth_cell(c: u32, stride: u32) {
    let pos = (c / stride) % p.cells;
    let centre = scratch[c];
    var below = centre;
    var above = centre;
    if (pos > 0u) { below = scratch[c - stride]; }
    if (pos + 1u < p.cells) { above = scratch[c + stride]; }
    density[c] = centre + 0.25 * (below - 2.0 * centre + above);
}

@compute @workgroup_size(256, 1, 1)
fn copy_to_scratch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = particle_index(gid);
    if (c < cell_count()) {
        scratch[c] = density[c];
    }
}

@compute @workgroup_size(256, 1, 1)
fn smooth_along(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = particle_index(gid);
    if (c < cell_count()) {
        smooth_cell(c, 1u);
    }
}

@compute @workgroup_size(256, 1, 1)
fn smooth_across(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = particle_index(gid);
    if (c < cell_count()) {
        smooth_cell(c, p.cells);
    }
}

fn gather(s: Stencil) -> f32 {
    let one = f32(WEIGHT_ONE);
    let a1 = f32(s.w_along) / one;
    let b1 = f32(WEIGHT_ONE - s.w_along) / one;
    let row0 = b1 * density[s.corner] + a1 * density[s.corner + 1u];
    if (p.dim == 1u) {
        return row0;
    }
    let a0 = f32(s.w_across) / one;
    let b0 = f32(WEIGHT_ONE - s.w_across) / one;
    let row1 = b1 * density[s.corner + p.cells] + a1 * density[s.corner + p.cells + 1u];
    return b0 * row0 + a0 * row1;
}

@compute @workgroup_size(256, 1, 1)
fn move_particles(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = particle_index(gid);
    if (i >= p.count) {
        return;
    }
    var factor = 1.0;
    if (p.interacting == 1u) {
        factor = drift_factor(max(gather(stencil(i)), 0.0));
    }
    let z = normals4(p.key, i, step_counter[0], 0u);
    for (var a = 0u; a < p.dim; a = a + 1u) {
        let k = i * p.dim + a;
        let x0 = positions[k];
        let kick = p.noise * z[a];
        var moved: f32;
        if (p.implicit == 1u) {
            moved = (x0 + kick) / (1.0 + p.lambda * p.dt * factor);
        } else {
            moved = x0 - p.lambda * x0 * factor * p.dt + kick;
        }
        positions[k] = reflect_box(moved, p.half_width);
    }
}

@compute @workgroup_size(1, 1, 1)
fn next_step() {
    step_counter[0] = step_counter[0] + 1u;
}
