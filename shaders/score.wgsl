
// Scores of a weighted point cloud under the heat flow (MATH.md §4) and the reverse
// samplers' step, in heat coordinates (CPU twins: model::score::posterior /
// posterior_means and diffusion::sampler::CpuSampler).
//
// One thread per sample. The data points go through workgroup memory a tile of 256 at a
// time; each thread sums over them in point order with a running maximum (log-sum-exp, one
// exp per pair):
//
//   logit_j = log w_j − |x − y_j|² / (4 t_h),   m = Σ π_j y_j,   π = softmax(logit).
//
// With `move_samples` the sample then takes the step X ← m + a (X − m) + b ξ (the
// exponential or Euler step, coefficients from the host), ξ from the shared generator at
// counter (sample, step, 0). Samples beyond one binding's reach come in chunks, one
// dispatch each; `first` keeps the generator's counter global.

struct ScoreParams {
    count: u32,
    n_data: u32,
    dim: u32,
    step: u32,
    key: vec2<u32>,
    inv_4t: f32,         // 1 / (4 t_h)
    a: f32,
    b: f32,
    move_samples: u32,
    first: u32,          // index of this chunk's first sample (the generator's counter)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ScoreParams;
@group(0) @binding(1) var<storage, read> data: array<vec4<f32>>;        // (y, log w)
@group(0) @binding(2) var<storage, read_write> positions: array<f32>;
@group(0) @binding(3) var<storage, read_write> means: array<vec4<f32>>; // (m, log Σ)

const TILE: u32 = 256u;

var<workgroup> tile: array<vec4<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn posterior_step(@builtin(global_invocation_id) gid: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = gid.x + gid.y * 65535u * TILE;
    let in_range = i < p.count;
    var x = vec3<f32>(0.0, 0.0, 0.0);
    if (in_range) {
        for (var a = 0u; a < p.dim; a = a + 1u) {
            x[a] = positions[i * p.dim + a];
        }
    }
    var top = -3.4e38;
    var sum = 0.0;
    var sum_y = vec3<f32>(0.0, 0.0, 0.0);
    for (var base = 0u; base < p.n_data; base = base + TILE) {
        workgroupBarrier();
        if (base + lid < p.n_data) {
            tile[lid] = data[base + lid];
        }
        workgroupBarrier();
        let len = min(TILE, p.n_data - base);
        for (var k = 0u; k < len; k = k + 1u) {
            let y = tile[k];
            let diff = x - y.xyz;
            let logit = y.w - dot(diff, diff) * p.inv_4t;
            if (logit > top) {
                // rescale what is summed so far to the new maximum
                let c = exp(top - logit);
                sum = sum * c + 1.0;
                sum_y = sum_y * c + y.xyz;
                top = logit;
            } else {
                let e = exp(logit - top);
                sum = sum + e;
                sum_y = sum_y + e * y.xyz;
            }
        }
    }
    if (!in_range) {
        return;
    }
    let m = sum_y / sum;
    means[i] = vec4<f32>(m, top + log(sum));
    if (p.move_samples == 1u) {
        let z = normals4(p.key, p.first + i, p.step, 0u);
        for (var a = 0u; a < p.dim; a = a + 1u) {
            positions[i * p.dim + a] = m[a] + p.a * (x[a] - m[a]) + p.b * z[a];
        }
    }
}
