// Counter-based random numbers (MATH.md §5): Philox4x32-10 keyed by the seed, counter =
// (particle id, step, draw, 0), and Box–Muller normals. CPU twin: src/rng.rs, with the
// same f32 operations in the same order (own log and sin/cos polynomials, so the result
// does not depend on the platform's transcendental functions).

// (hi, lo) of the 64-bit product a × b, from 16-bit halves (WGSL has no u64).
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let ll = al * bl;
    let lh = al * bh;
    let hl = ah * bl;
    let hh = ah * bh;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round = round + 1u) {
        if (round > 0u) {
            k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
        }
        let p0 = mul_wide(0xD2511F53u, c.x);
        let p1 = mul_wide(0xCD9E8D57u, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

// A uniform in (0, 1) from the top 24 bits (exact in f32, never 0).
fn open_unit(u: u32) -> f32 {
    return (f32(u >> 8u) + 0.5) * (1.0 / 16777216.0);
}

// ln x for x in (0, 1] (twin: rng::ln_unit).
fn ln_unit(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    var e = i32((bits >> 23u) & 0xffu) - 127;
    var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 1.4142135) {
        m = m * 0.5;
        e = e + 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    return 2.0 * s * series + f32(e) * 0.6931472;
}

// (sin 2πu, cos 2πu) for u in (0, 1) (twin: rng::sincos_turns).
fn sincos_turns(u: f32) -> vec2<f32> {
    let t = 4.0 * u;
    let q = floor(t + 0.5);
    let phi = (t - q) * 1.5707964;
    let p2 = phi * phi;
    let s = phi * (1.0 + p2 * (-1.0 / 6.0 + p2 * (1.0 / 120.0 + p2 * (-1.0 / 5040.0 + p2 * (1.0 / 362880.0)))));
    let c = 1.0 + p2 * (-0.5 + p2 * (1.0 / 24.0 + p2 * (-1.0 / 720.0 + p2 * (1.0 / 40320.0 + p2 * (-1.0 / 3628800.0)))));
    switch (u32(q) & 3u) {
        case 0u: { return vec2<f32>(s, c); }
        case 1u: { return vec2<f32>(c, -s); }
        case 2u: { return vec2<f32>(-s, -c); }
        default: { return vec2<f32>(-c, s); }
    }
}

// Two standard normals from two uniform integers (Box–Muller).
fn box_muller(a: u32, b: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * ln_unit(open_unit(a)));
    let sc = sincos_turns(open_unit(b));
    return vec2<f32>(r * sc.y, r * sc.x);
}

// Four standard normals for (id, step, draw) under `key` (the seed's two words).
fn normals4(key: vec2<u32>, id: u32, step: u32, draw: u32) -> vec4<f32> {
    let u = philox4x32_10(vec4<u32>(id, step, draw, 0u), key);
    return vec4<f32>(box_muller(u.x, u.y), box_muller(u.z, u.w));
}
