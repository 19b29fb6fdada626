//! Frames colour-mapped on the device against the host renderer (their CPU twin).
//! Skips loudly without an adapter unless FPGEN_REQUIRE_GPU is set.

mod common;
use common::*;
use fpgen::config::Colormap;
use fpgen::gpu::context::context_for_tests;
use fpgen::io::frames::{self, FrameStyle};

/// Same pixels as the host for each colour map, linear and log scales, with and without
/// upscaling: both look up the same 256-entry table at the nearest entry of the scaled
/// value. The device scales in f32 and the host in f64, so a pixel may take the
/// neighbouring entry where 255 s lies within f32 round-off (~1e-5) of a half-integer: at
/// most one entry apart, in at most 1 pixel in 10⁴ (none on lavapipe).
#[test]
fn device_frames_match_the_host_renderer() {
    let Some(_probe) = context_for_tests(4 * 65 * 65, 2) else { return };
    for (colormap, log, min_pixels) in [
        (Colormap::Viridis, false, 64),
        (Colormap::Magma, true, 300),
        (Colormap::Cividis, true, 65),
        (Colormap::Diverging, false, 65),
        (Colormap::Gray, false, 130),
    ] {
        let mut cfg = config(2, &["grid.cells=65", "run.precision=\"f32\""]);
        cfg.output.colormap = colormap;
        cfg.output.log_scale = log;
        cfg.output.min_pixels = min_pixels;
        let grid = cfg.grid().unwrap();
        let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
        let f0 = cfg.initial_density().unwrap().on_grid(&grid, 1.0).unwrap();
        gpu.upload(&f0, 0.0).unwrap();
        // a range narrower than the field: values beyond it take the end colours
        let style = FrameStyle::covering(&cfg.output, [&f0[..f0.len() / 2]]);
        gpu.step_n(10, &control(&cfg, f64::INFINITY)).unwrap();
        let device = gpu.render_frame(&style).unwrap().expect("2D frames are drawn on the device");
        let host = frames::render(&grid, &field(gpu.as_mut(), grid.len()), &style);
        assert_eq!(device.dimensions(), host.dimensions());
        let k = style.pixels_per_cell(65);
        assert_eq!(device.width(), 65 * k);
        let table = frames::table(colormap);
        let entry = |p: &image::Rgb<u8>| table.iter().position(|c| *c == p.0).expect("a colour of the table");
        let (mut differing, mut worst) = (0usize, 0usize);
        for (a, b) in device.pixels().zip(host.pixels()) {
            let d = entry(a).abs_diff(entry(b));
            worst = worst.max(d);
            differing += usize::from(d > 0);
        }
        let total = (device.width() * device.height()) as usize;
        eprintln!(
            "{colormap:?} log={log} k={k}: {differing} of {total} pixels differ, by at most {worst} entries"
        );
        assert!(worst <= 1, "{colormap:?}: a pixel is {worst} entries off");
        assert!(differing * 10_000 <= total, "{colormap:?}: {differing} of {total} pixels differ");
    }
}

/// 1D profiles are line plots: drawn on the host.
#[test]
fn one_dimensional_frames_are_drawn_on_the_host() {
    let Some(_probe) = context_for_tests(4 * 65, 1) else { return };
    let cfg = config(1, &["grid.cells=65", "run.precision=\"f32\""]);
    let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
    gpu.upload(&vec![1.0; 65], 0.0).unwrap();
    let style = FrameStyle::covering(&cfg.output, [[0.0, 1.0].as_slice()]);
    assert!(gpu.render_frame(&style).unwrap().is_none());
}
