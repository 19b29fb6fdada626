
// Scores of a weighted point cloud under the heat flow (MATH.md §4) and the reverse
// samplers' step, in heat coordinates (CPU twins: model::score::posterior /
// posterior_means and diffusion::sampler::CpuSampler).
//
// One thread per SAMPLES samples. The data points go through workgroup memory a tile of
// 256 at a time; each thread sums over them in point order with a running maximum per
// sample (log-sum-exp, one exp per pair):
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
// Samples per thread (1, 2 or 4, per pipeline): each point read from the tile serves all
// of them; sample s of workgroup w's thread l is w · 256 · SAMPLES + s · 256 + l.
override SAMPLES: u32 = 1u;
const MAX_SAMPLES: u32 = 4u;

var<workgroup> tile: array<vec4<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn posterior_step(@builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) groups: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let base = (wid.x + wid.y * groups.x) * TILE * SAMPLES + lid;
    var x: array<vec3<f32>, MAX_SAMPLES>;
    var top: array<f32, MAX_SAMPLES>;
    var sum: array<f32, MAX_SAMPLES>;
    var sum_y: array<vec3<f32>, MAX_SAMPLES>;
    for (var s = 0u; s < SAMPLES; s = s + 1u) {
        let i = base + s * TILE;
        x[s] = vec3<f32>(0.0, 0.0, 0.0);
        if (i < p.count) {
            for (var a = 0u; a < p.dim; a = a + 1u) {
                x[s][a] = positions[i * p.dim + a];
            }
        }
        top[s] = -3.4e38;
        sum[s] = 0.0;
        sum_y[s] = vec3<f32>(0.0, 0.0, 0.0);
    }
    for (var first = 0u; first < p.n_data; first = first + TILE) {
        workgroupBarrier();
        if (first + lid < p.n_data) {
            tile[lid] = data[first + lid];
        }
        workgroupBarrier();
        let len = min(TILE, p.n_data - first);
        for (var k = 0u; k < len; k = k + 1u) {
            let y = tile[k];
            for (var s = 0u; s < SAMPLES; s = s + 1u) {
                let diff = x[s] - y.xyz;
                let logit = y.w - dot(diff, diff) * p.inv_4t;
                if (logit > top[s]) {
                    // rescale what is summed so far to the new maximum
                    let c = exp(top[s] - logit);
                    sum[s] = sum[s] * c + 1.0;
                    sum_y[s] = sum_y[s] * c + y.xyz;
                    top[s] = logit;
                } else {
                    let e = exp(logit - top[s]);
                    sum[s] = sum[s] + e;
                    sum_y[s] = sum_y[s] + e * y.xyz;
                }
            }
        }
    }
    for (var s = 0u; s < SAMPLES; s = s + 1u) {
        let i = base + s * TILE;
        if (i < p.count) {
            let m = sum_y[s] / sum[s];
            means[i] = vec4<f32>(m, top[s] + log(sum[s]));
            if (p.move_samples == 1u) {
                let z = normals4(p.key, p.first + i, p.step, 0u);
                for (var a = 0u; a < p.dim; a = a + 1u) {
                    positions[i * p.dim + a] = m[a] + p.a * (x[s][a] - m[a]) + p.b * z[a];
                }
            }
        }
    }
}
