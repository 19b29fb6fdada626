// Evaluates every function of shared/model.wgsl on a list of densities, so that a test
// compares them with their CPU twin `Physics` (same inputs, f32). Per density f_i (and
// its neighbour f_{i+1}, cyclically, as the receiver of a face):
// [b f^γ, m, m', m↑, m↓, m↑(f_i) + m↓(f_{i+1}), Φ', drift factor, outflow factor, f^γ].

struct ModelCheckParams {
    model: Model,
    count: u32,
    log_floor: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ModelCheckParams;
@group(0) @binding(1) var<storage, read> densities: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;

const OUTPUTS: u32 = 10u;

@compute @workgroup_size(64, 1, 1)
fn evaluate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.count) {
        return;
    }
    let f = densities[i];
    let receiver = densities[(i + 1u) % p.count];
    let o = i * OUTPUTS;
    values[o] = nonlinear(f);
    values[o + 1u] = mobility(f);
    values[o + 2u] = mobility_derivative(f);
    values[o + 3u] = mobility_up(f);
    values[o + 4u] = mobility_down(f);
    values[o + 5u] = face_mobility(f, receiver);
    values[o + 6u] = entropy_derivative(f, p.log_floor);
    values[o + 7u] = drift_factor(f);
    values[o + 8u] = outflow_factor(f);
    values[o + 9u] = power(f);
}
