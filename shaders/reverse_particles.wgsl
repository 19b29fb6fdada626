
// Reverse particles (MATH.md §3) on the device: one Euler–Maruyama step of
//
//   dY = V(Y) ds + √(2η) dW̄,
//
// with V the reverse face velocities of the host (−F/f + η ∇log f on the staggered grid,
// `SchemeReverse::face_velocities`), interpolated as in the CPU twin
// `reverse::particles::move_particles`: each component linear between the two faces of the
// particle's cell along its axis, and between cell centres across. Reflecting walls; the
// normals from the shared generator at counter (particle, step, 0).
//
// Faces along rows: rows × (N + 1), index r (N + 1) + k; across rows (2D): (N + 1) × N,
// index k N + c.

struct MoveParams {
    count: u32,
    dim: u32,
    n: u32,
    step: u32,
    key: vec2<u32>,
    half_width: f32,
    inv_h: f32,
    dt: f32,
    noise: f32,          // √(2 η Δt)
    _pad0: f32,
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> p: MoveParams;
@group(0) @binding(1) var<storage, read_write> positions: array<f32>;
@group(0) @binding(2) var<storage, read> along: array<f32>;
@group(0) @binding(3) var<storage, read> across: array<f32>;

// A position's cell and its fraction from the cell's low face (twin: locate).
struct Located {
    cell: u32,
    w: f32,
}

fn locate(x: f32) -> Located {
    let u = (x + p.half_width) * p.inv_h;
    let cell = min(u32(max(floor(u), 0.0)), p.n - 1u);
    return Located(cell, clamp(u - f32(cell), 0.0, 1.0));
}

// The cell centres on either side of a position and the weight of the upper one (twin:
// centres_around).
struct Around {
    low: u32,
    high: u32,
    w: f32,
}

fn centres_around(x: f32) -> Around {
    let u = (x + p.half_width) * p.inv_h - 0.5;
    if (u <= 0.0) {
        return Around(0u, 0u, 0.0);
    }
    let low = min(u32(floor(u)), p.n - 1u);
    let high = min(low + 1u, p.n - 1u);
    var w = 0.0;
    if (high != low) {
        w = u - f32(low);
    }
    return Around(low, high, w);
}

fn across_at(k: u32, c: Around) -> f32 {
    return (1.0 - c.w) * across[k * p.n + c.low] + c.w * across[k * p.n + c.high];
}

fn along_at(r: Around, k: u32) -> f32 {
    let stride = p.n + 1u;
    return (1.0 - r.w) * along[r.low * stride + k] + r.w * along[r.high * stride + k];
}

@compute @workgroup_size(256, 1, 1)
fn move_reverse(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 256u;
    if (i >= p.count) {
        return;
    }
    let d = p.dim;
    var v = vec2<f32>(0.0, 0.0);
    if (d == 1u) {
        let a = locate(positions[i]);
        v.x = (1.0 - a.w) * along[a.cell] + a.w * along[a.cell + 1u];
    } else {
        let x0 = positions[2u * i];
        let x1 = positions[2u * i + 1u];
        let r = locate(x0);
        let c = centres_around(x1);
        v.x = (1.0 - r.w) * across_at(r.cell, c) + r.w * across_at(r.cell + 1u, c);
        let j = locate(x1);
        let rows = centres_around(x0);
        v.y = (1.0 - j.w) * along_at(rows, j.cell) + j.w * along_at(rows, j.cell + 1u);
    }
    let z = normals4(p.key, i, p.step, 0u);
    for (var a = 0u; a < d; a = a + 1u) {
        let k = i * d + a;
        positions[k] = reflect_box(positions[k] + v[a] * p.dt + p.noise * z[a], p.half_width);
    }
}
