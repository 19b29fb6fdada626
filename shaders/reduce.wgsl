// Diagnostics reductions of an f32 field, deterministic: `partials` tree-reduces each
// workgroup's 256 cells into one record, `finish` (a single workgroup) folds the records
// in a fixed order. CPU twin: `CpuBackend::diagnostics` (same quantities, f64 there).
// Record: [Σ f, Σ f², Σ |x|² f, Σ (λ|x|²/2 f + D Φ(f)), min f, max f, origin mass / h^d, 0].

struct ReduceParams {
    model: Model,       // the physics (shared/model.wgsl)
    len: u32,           // cells
    n: u32,             // cells per side
    dim: u32,
    records: u32,       // number of partial records (workgroups of `partials`)
    origin: vec4<u32>,  // flat indices of the origin cells (n odd: one, repeated ...)
    origin_count: u32,
    table_len: u32,
    beta_is_zero: u32,
    lambda: f32,
    diffusion: f32,
    half_width: f32,
    h: f32,
    k_scale: f32,       // β^{-1/γ}: K(f) = k_scale · k(f / k_scale)
    table_u0: f32,      // ln z of table entry 0 (fermions: z = 0)
    table_du: f32,      // step in ln z (fermions: in z)
    _pad0: f32,
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> field: array<f32>;
@group(0) @binding(2) var<storage, read> k_table: array<f32>;
@group(0) @binding(3) var<storage, read_write> records: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32, 8>;

const WG: u32 = 256u;
var<workgroup> acc: array<array<f32, 7>, 256>;

// k(z) = ∫_0^z dσ/(1 + σ^γ) by cubic Hermite on the table (twin: EntropyFunction::k).
fn k_scaled(z: f32) -> f32 {
    if (z <= 0.0) { return 0.0; }
    let u = log(z);
    if (u < p.table_u0) { return z; }
    let pos = (u - p.table_u0) / p.table_du;
    let last = p.table_len - 1u;
    if (pos >= f32(last)) { return k_table[last]; }
    let i = u32(floor(pos));
    let s = pos - f32(i);
    let u0 = p.table_u0 + f32(i) * p.table_du;
    let z0 = exp(u0);
    let z1 = exp(u0 + p.table_du);
    let d0 = z0 / (1.0 + pow(z0, p.model.gamma)) * p.table_du;
    let d1 = z1 / (1.0 + pow(z1, p.model.gamma)) * p.table_du;
    let s2 = s * s;
    let s3 = s2 * s;
    return (2.0 * s3 - 3.0 * s2 + 1.0) * k_table[i] + (s3 - 2.0 * s2 + s) * d0
        + (-2.0 * s3 + 3.0 * s2) * k_table[i + 1u] + (s3 - s2) * d1;
}

// Fermions: q(z) = ∫_0^z ln(1 − σ^γ) dσ = −(1 − z) ln(1 − z) − z + R(z), R and its
// derivative r on z = i dz in the table (twin: EntropyFunction::fermi_q).
fn fermi_q(z_in: f32) -> f32 {
    let z = clamp(z_in, 0.0, 1.0);
    let nodes = p.table_len / 2u;
    let pos = z / p.table_du;
    let i = min(u32(floor(pos)), nodes - 2u);
    let s = pos - f32(i);
    let d0 = k_table[nodes + i] * p.table_du;
    let d1 = k_table[nodes + i + 1u] * p.table_du;
    let s2 = s * s;
    let s3 = s2 * s;
    let regular = (2.0 * s3 - 3.0 * s2 + 1.0) * k_table[i] + (s3 - 2.0 * s2 + s) * d0
        + (-2.0 * s3 + 3.0 * s2) * k_table[i + 1u] + (s3 - s2) * d1;
    var log_part = -1.0;
    if (z < 1.0) { log_part = -(1.0 - z) * log1p(-z) - z; }
    return log_part + regular;
}

// Φ(f) = f Φ'(f) − K(f) (bosons) or f ln f − f − (S/γ) q(f/S) (fermions), Φ(0) = 0.
fn phi(f: f32) -> f32 {
    if (f <= 0.0) { return 0.0; }
    if (p.beta_is_zero == 1u) { return f * log(f) - f; }
    if (p.model.statistics == 1u) {
        return f * log(f) - f - p.k_scale * p.model.inv_gamma * fermi_q(f / p.k_scale);
    }
    let derivative = entropy_derivative(f, 0.0);
    return f * derivative - p.k_scale * k_scaled(f / p.k_scale);
}

fn centre(i: u32) -> f32 {
    return -p.half_width + (f32(i) + 0.5) * p.h;
}

fn combine(a: u32, b: u32) {
    for (var q = 0u; q < 4u; q = q + 1u) { acc[a][q] = acc[a][q] + acc[b][q]; }
    acc[a][4] = min(acc[a][4], acc[b][4]);
    acc[a][5] = max(acc[a][5], acc[b][5]);
    acc[a][6] = acc[a][6] + acc[b][6];
}

fn tree(local: u32) {
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (local < stride) { combine(local, local + stride); }
        workgroupBarrier();
    }
}

// Dispatched as a 2D grid of workgroups (a dimension may not exceed 65535): record
// index = wid.y × groups.x + wid.x.
@compute @workgroup_size(256, 1, 1)
fn partials(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let record = wid.y * groups.x + wid.x;
    let i = record * WG + local;
    var r = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 3.4e38, -3.4e38, 0.0);
    if (i < p.len) {
        let f = field[i];
        var r2 = centre(i % p.n) * centre(i % p.n);
        if (p.dim == 2u) { r2 = r2 + centre(i / p.n) * centre(i / p.n); }
        r[0] = f;
        r[1] = f * f;
        r[2] = r2 * f;
        r[3] = 0.5 * p.lambda * r2 * f + p.diffusion * phi(f);
        r[4] = f;
        r[5] = f;
        for (var o = 0u; o < p.origin_count; o = o + 1u) {
            if (i == p.origin[o]) { r[6] = f; }
        }
    }
    acc[local] = r;
    tree(local);
    if (local == 0u && record < p.records) {
        for (var q = 0u; q < 7u; q = q + 1u) { records[record * 8u + q] = acc[0][q]; }
        records[record * 8u + 7u] = 0.0;
    }
}

@compute @workgroup_size(256, 1, 1)
fn finish(@builtin(local_invocation_index) local: u32) {
    var r = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 3.4e38, -3.4e38, 0.0);
    // fixed order: thread `local` folds records local, local + 256, ...
    for (var j = local; j < p.records; j = j + WG) {
        for (var q = 0u; q < 4u; q = q + 1u) { r[q] = r[q] + records[j * 8u + q]; }
        r[4] = min(r[4], records[j * 8u + 4u]);
        r[5] = max(r[5], records[j * 8u + 5u]);
        r[6] = r[6] + records[j * 8u + 6u];
    }
    acc[local] = r;
    tree(local);
    if (local == 0u) {
        for (var q = 0u; q < 7u; q = q + 1u) { result[q] = acc[0][q]; }
        result[7] = 0.0;
    }
}
