// The stabilised reverse-time PDE (R_η) of MATH.md §3 with log-difference face scores
// (CPU twin: reverse::pde::ReversePde, `set_forward` = velocities, `step` = step):
//
//   V_face = λ x_face (1 + β f̄^γ) + (D + η) (ln f₊ − ln f₋)/h,   f̄ = (f₋ + f₊)/2,
//   F_face = V⁺ g₋ + V⁻ g₊ − η (g₊ − g₋)/h   (upwind, flux_kind 0), or
//   F_face = (η/h) (B(−P) g₋ − B(P) g₊),  P = V h/η,  B(z) = z/(e^z − 1)
//                                            (Scharfetter–Gummel, flux_kind 1),
//   boundary faces carry no flux,
//   g_out = g − Δt/h Σ (F_out − F_in).
//
// Faces along rows: rows × (N + 1), index r (N + 1) + k; across rows (2D):
// (N + 1) × N, index k N + c — the layout of the CPU twin.

struct ReverseParams {
    model: Model,        // the physics (shared/model.wgsl)
    n: u32,
    dim: u32,
    flux_kind: u32,
    h: f32,
    half_width: f32,
    lambda: f32,
    diffusion: f32,
    eta: f32,
    log_floor: f32,
    dt: f32,
    _pad1: f32,
    _pad2: f32,
    _pad3: f32,
    _pad4: f32,
    _pad5: f32,
    _pad6: f32,
}

@group(0) @binding(0) var<uniform> p: ReverseParams;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read_write> along: array<f32>;
@group(0) @binding(3) var<storage, read_write> across: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> g_out: array<f32>;

fn flat_index(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * 65535u * 64u;
}

fn face_velocity(k: u32, fl: f32, fr: f32) -> f32 {
    let x = -p.half_width + f32(k) * p.h;
    let nonlinear = drift_factor(0.5 * (fl + fr));
    let score = (log(max(fr, p.log_floor)) - log(max(fl, p.log_floor))) / p.h;
    return p.lambda * x * nonlinear + (p.diffusion + p.eta) * score;
}

// One thread per face of either family.
@compute @workgroup_size(64, 1, 1)
fn velocities(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat_index(gid);
    let n = p.n;
    let rows = select(1u, n, p.dim == 2u);
    if (i < rows * (n + 1u)) {
        let r = i / (n + 1u);
        let k = i % (n + 1u);
        var v = 0.0;
        if (k > 0u && k < n) {
            v = face_velocity(k, f[r * n + k - 1u], f[r * n + k]);
        }
        along[i] = v;
    }
    if (p.dim == 2u && i < (n + 1u) * n) {
        let k = i / n;
        let c = i % n;
        var v = 0.0;
        if (k > 0u && k < n) {
            v = face_velocity(k, f[(k - 1u) * n + c], f[k * n + c]);
        }
        across[i] = v;
    }
}

// B(z) = z/(e^z − 1): a series where e^z − 1 cancels (error z⁶/30240 at |z| < 0.1)
fn bernoulli(z: f32) -> f32 {
    if (abs(z) < 0.1) {
        let z2 = z * z;
        return 1.0 - 0.5 * z + z2 / 12.0 - z2 * z2 / 720.0;
    }
    return z / (exp(z) - 1.0);
}

fn flux(v: f32, gl: f32, gr: f32) -> f32 {
    if (p.flux_kind == 1u) {
        if (p.eta > 0.0) {
            let pe = v * p.h / p.eta;
            return p.eta / p.h * (bernoulli(-pe) * gl - bernoulli(pe) * gr);
        }
        return max(v, 0.0) * gl + min(v, 0.0) * gr;
    }
    return max(v, 0.0) * gl + min(v, 0.0) * gr - p.eta / p.h * (gr - gl);
}

// One thread per cell.
@compute @workgroup_size(64, 1, 1)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat_index(gid);
    let n = p.n;
    let rows = select(1u, n, p.dim == 2u);
    if (i >= rows * n) {
        return;
    }
    let r = i / n;
    let j = i % n;
    var left = 0.0;
    var right = 0.0;
    if (j > 0u) {
        left = flux(along[r * (n + 1u) + j], g[i - 1u], g[i]);
    }
    if (j + 1u < n) {
        right = flux(along[r * (n + 1u) + j + 1u], g[i], g[i + 1u]);
    }
    var below = 0.0;
    var above = 0.0;
    if (p.dim == 2u) {
        if (r > 0u) {
            below = flux(across[r * n + j], g[i - n], g[i]);
        }
        if (r + 1u < n) {
            above = flux(across[(r + 1u) * n + j], g[i], g[i + n]);
        }
    }
    g_out[i] = g[i] - p.dt / p.h * ((above - below) + (right - left));
}
