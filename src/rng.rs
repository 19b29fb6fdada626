//! Counter-based random numbers shared by the CPU and the GPU (docs/MATH.md §5): Philox4x32-10
//! keyed by the seed, counter = (particle id, step, draw, 0), and Box–Muller normals.
//! Twin: shaders/shared/rng.wgsl, which performs the same f32 operations in the same order
//! (its own log and sin/cos polynomials, not the platform's), so the uniform integers are
//! identical and the normals differ at most by the rounding of fused multiply-adds, sqrt
//! and division on the device (a few ulp).

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// The Philox4x32 bijection with 10 rounds (Salmon et al., SC'11; Random123).
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
        }
        let p0 = PHILOX_M0 as u64 * c[0] as u64;
        let p1 = PHILOX_M1 as u64 * c[2] as u64;
        c = [((p1 >> 32) as u32) ^ c[1] ^ k[0], p1 as u32, ((p0 >> 32) as u32) ^ c[3] ^ k[1], p0 as u32];
    }
    c
}

/// The Philox key of a 64-bit seed.
pub fn key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Four uniform 32-bit integers for (id, step, draw).
pub fn uniform_u32x4(seed: u64, id: u32, step: u32, draw: u32) -> [u32; 4] {
    philox4x32_10([id, step, draw, 0], key(seed))
}

/// A uniform in (0, 1): the top 24 bits, centred in their interval (exact in f32; never 0,
/// so its log is finite).
pub fn open_unit(u: u32) -> f32 {
    ((u >> 8) as f32 + 0.5) * (1.0 / 16_777_216.0)
}

const LN_2: f32 = std::f32::consts::LN_2;
const FRAC_PI_2: f32 = std::f32::consts::FRAC_PI_2;

/// ln x for x in (0, 1], f32: x = m 2^e with m in [√½, √2), ln m = 2 atanh s, s = (m−1)/(m+1)
/// (|s| ≤ 0.172, series to s⁹: truncation below 1e-9 relative).
pub fn ln_unit(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    2.0 * s * series + e as f32 * LN_2
}

/// (sin 2πu, cos 2πu) for u in (0, 1): quadrant q = round(4u), φ = (4u − q) π/2 in
/// [−π/4, π/4], Taylor polynomials to φ⁹ and φ¹⁰ (truncation below 2e-9).
pub fn sincos_turns(u: f32) -> (f32, f32) {
    let t = 4.0 * u;
    let q = (t + 0.5).floor();
    let phi = (t - q) * FRAC_PI_2;
    let p2 = phi * phi;
    let sin =
        phi * (1.0 + p2 * (-1.0 / 6.0 + p2 * (1.0 / 120.0 + p2 * (-1.0 / 5040.0 + p2 * (1.0 / 362_880.0)))));
    let cos = 1.0
        + p2 * (-0.5
            + p2 * (1.0 / 24.0 + p2 * (-1.0 / 720.0 + p2 * (1.0 / 40320.0 + p2 * (-1.0 / 3_628_800.0)))));
    match (q as u32) & 3 {
        0 => (sin, cos),
        1 => (cos, -sin),
        2 => (-sin, -cos),
        _ => (-cos, sin),
    }
}

/// Two standard normals from two uniform integers (Box–Muller).
pub fn box_muller(a: u32, b: u32) -> [f32; 2] {
    let r = (-2.0 * ln_unit(open_unit(a))).sqrt();
    let (s, c) = sincos_turns(open_unit(b));
    [r * c, r * s]
}

/// Four standard normals for (id, step, draw).
pub fn normals4(seed: u64, id: u32, step: u32, draw: u32) -> [f32; 4] {
    let u = uniform_u32x4(seed, id, step, draw);
    let [z0, z1] = box_muller(u[0], u[1]);
    let [z2, z3] = box_muller(u[2], u[3]);
    [z0, z1, z2, z3]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's published known-answer vectors (kat_vectors, `philox4x32 10`).
    pub const KNOWN_ANSWERS: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0, 0, 0, 0], [0, 0], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([0xffff_ffff; 4], [0xffff_ffff; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];

    #[test]
    fn philox_matches_the_published_known_answers() {
        for (ctr, key, expected) in KNOWN_ANSWERS {
            assert_eq!(philox4x32_10(ctr, key), expected, "ctr {ctr:x?} key {key:x?}");
        }
    }

    /// The hand-made log and sin/cos are within a few ulp of the library's (f64 reference).
    #[test]
    fn elementary_functions_are_accurate() {
        let mut worst_ln: f64 = 0.0;
        let mut worst_trig: f64 = 0.0;
        for k in 0..200_000u32 {
            let u = open_unit(k.wrapping_mul(2_654_435_761));
            let exact = (u as f64).ln();
            worst_ln = worst_ln.max((ln_unit(u) as f64 - exact).abs() / exact.abs().max(1e-30));
            let (s, c) = sincos_turns(u);
            let a = std::f64::consts::TAU * u as f64;
            worst_trig = worst_trig.max((s as f64 - a.sin()).abs()).max((c as f64 - a.cos()).abs());
        }
        // f32 ulp is 1.2e-7 relative (6e-8 absolute near 1)
        assert!(worst_ln < 4e-7, "ln: {worst_ln:e}");
        assert!(worst_trig < 3e-7, "sin/cos: {worst_trig:e}");
    }

    /// 10^6 normals: mean, variance and kurtosis within 5 standard errors of 0, 1 and 3
    /// (standard errors 1/√n, √(2/n), √(96/n)).
    #[test]
    fn normals_have_the_right_moments() {
        let n_calls = 250_000u32;
        let (mut s1, mut s2, mut s4) = (0.0f64, 0.0f64, 0.0f64);
        for id in 0..n_calls {
            for z in normals4(42, id, 7, 0) {
                let z = z as f64;
                s1 += z;
                s2 += z * z;
                s4 += z * z * z * z;
            }
        }
        let n = 4.0 * n_calls as f64;
        let (mean, var, kurt) = (s1 / n, s2 / n, s4 / n);
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
        assert!((kurt - 3.0).abs() < 5.0 * (96.0 / n).sqrt(), "kurtosis {kurt}");
    }

    #[test]
    fn streams_differ_by_seed_step_and_draw() {
        let a = uniform_u32x4(1, 5, 9, 0);
        assert_ne!(a, uniform_u32x4(2, 5, 9, 0));
        assert_ne!(a, uniform_u32x4(1, 5, 10, 0));
        assert_ne!(a, uniform_u32x4(1, 5, 9, 1));
        assert_eq!(a, uniform_u32x4(1, 5, 9, 0));
    }
}
