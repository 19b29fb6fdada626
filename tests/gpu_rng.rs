//! The WGSL generator against its CPU twin `fpgen::rng` (docs/MATH.md §5). Skips loudly
//! without an adapter unless FPGEN_REQUIRE_GPU is set.

use fpgen::gpu::context::context_for_tests;
use fpgen::gpu::rng_check::{generate, CounterRange};
use fpgen::rng;

/// Random123's known answers for `philox4x32 10`, computed on the device.
#[test]
fn device_philox_matches_the_published_known_answers() {
    let Some(ctx) = context_for_tests(1 << 20, 1) else { return };
    let cases: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0, 0, 0, 0], [0, 0], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([0xffff_ffff; 4], [0xffff_ffff; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];
    for (ctr, key, expected) in cases {
        let range = CounterRange { key, first: ctr[0], count: 1, step: ctr[1], draw: ctr[2], word3: ctr[3] };
        let ints = generate(&ctx, range).unwrap().ints;
        assert_eq!(ints[0], expected, "ctr {ctr:x?} key {key:x?}");
    }
}

/// The first 10^5 normals (25 000 ids × 4): the uniform integers are identical bit for bit,
/// the normals within 4 ulp (the device may fuse multiply-adds and round sqrt and division
/// differently).
#[test]
fn device_normals_match_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 1) else { return };
    let seed = 0x0123_4567_89ab_cdef_u64;
    let range = CounterRange { key: rng::key(seed), first: 0, count: 25_000, step: 3, draw: 1, word3: 0 };
    let g = generate(&ctx, range).unwrap();
    let (ints, normals) = (g.ints, g.normals);
    let mut worst_ulp = 0u32;
    let mut differing = 0usize;
    for (id, (u, z)) in ints.iter().zip(&normals).enumerate() {
        assert_eq!(*u, rng::uniform_u32x4(seed, id as u32, 3, 1), "id {id}");
        let cpu = rng::normals4(seed, id as u32, 3, 1);
        for (a, b) in z.iter().zip(cpu) {
            assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "id {id}: {a} vs {b}");
            let ulp = a.to_bits().abs_diff(b.to_bits());
            worst_ulp = worst_ulp.max(ulp);
            differing += usize::from(ulp > 0);
        }
    }
    eprintln!("10^5 normals: {differing} differ from the CPU, by at most {worst_ulp} ulp");
    assert!(worst_ulp <= 4, "{worst_ulp} ulp");
}
