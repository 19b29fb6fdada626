//! Point-cloud scores and samplers on the device (f32) against the CPU twins (f64). Skips
//! loudly without an adapter unless FPGEN_REQUIRE_GPU is set.

use fpgen::diffusion::gpu::GpuSampler;
use fpgen::diffusion::sampler::{self, CpuSampler, DeviceSampler, SampleMethod, SamplerSettings, Start};
use fpgen::gpu::context::context_for_tests;
use fpgen::model::clouds::{self, Shape, ShapeParams};
use fpgen::model::score::{posterior_means, LinearProcess, MAX_DIM};

/// Posterior means of 3000 samples against 1000 lemniscate points (a = 2) at heat times
/// 1e-3 to 1: the device's logits carry an f32 error ≈ ε (|x − y|²/4t_h) for the points
/// that matter (those near the maximum, |x − y|²/4t_h = O(1) … O(10)), so π and m are off
/// by ≈ 10 ε relative, i.e. ≈ 1e-6 of the data's diameter (4); asserted 1e-4 of it.
#[test]
fn posterior_means_on_the_device_match_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let p = ShapeParams { scale: 2.0, noise: 0.0, side: 1 };
    let cloud = clouds::shape_cloud(Shape::Lemniscate, &p, 1000, 1, false).unwrap();
    let samples =
        clouds::sample(Shape::GaussianGrid, &ShapeParams { scale: 1.0, noise: 0.8, side: 3 }, 3000, 2);
    let mut gpu = GpuSampler::new(&ctx, &cloud, &samples, 0).unwrap();
    for t_h in [1e-3, 1e-2, 0.1, 1.0] {
        let (cpu, log_sums) = posterior_means(&cloud, t_h, &samples);
        gpu.posterior(&ctx, t_h);
        let mut out = vec![0f32; 3000 * 4];
        gpu.read_means(&ctx, &mut out).unwrap();
        let mut worst = 0.0f64;
        let mut worst_log = 0.0f64;
        for i in 0..3000 {
            for a in 0..2 {
                worst = worst.max((out[4 * i + a] as f64 - cpu[i * MAX_DIM + a]).abs());
            }
            worst_log =
                worst_log.max((out[4 * i + 3] as f64 - log_sums[i]).abs() / log_sums[i].abs().max(1.0));
        }
        eprintln!("t_h = {t_h}: largest mean gap {worst:.2e}, log-sum relative gap {worst_log:.2e}");
        assert!(worst < 4e-4, "t_h {t_h}: mean gap {worst:e}");
        assert!(worst_log < 1e-5, "t_h {t_h}: log-sum gap {worst_log:e}");
    }
}

/// The sampler on the device against the CPU twin, same start and normals (ε = 0.2, 50
/// exponential steps from T = 1 to 0.01, 4000 samples, 300 data points): f32 rounding moves
/// a sample by ≈ 1e-6 per step; near the boundary between two points' basins at small t that
/// can switch the point it falls to, so the test bounds the share of samples more than 1e-3
/// apart (1%) and the median gap (1e-4).
#[test]
fn sampler_on_the_device_matches_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let heat = LinearProcess { lambda: 0.0, diffusion: 1.0 };
    let p = ShapeParams { scale: 2.0, noise: 0.0, side: 1 };
    let cloud = clouds::shape_cloud(Shape::Lemniscate, &p, 300, 1, false).unwrap();
    let s = SamplerSettings {
        epsilon: 0.2,
        t_final: 1.0,
        t_min: 0.01,
        steps: 50,
        stepper: SampleMethod::Exponential,
        start: Start::Gaussian,
        samples: 4000,
        seed: 9,
        trajectories: 3,
    };
    let start = sampler::start_positions(&heat, &cloud, &s);
    let mut cpu = CpuSampler::exact(&heat, &cloud, start.clone(), s.seed);
    let on_cpu =
        fpgen::run::diffusion_steps::sample(&heat, 2, &s, &mut cpu, &start, &mut |_, _| Ok(())).unwrap();
    let mut dev = DeviceSampler::new(&ctx, &cloud, &start, s.seed).unwrap();
    let on_gpu =
        fpgen::run::diffusion_steps::sample(&heat, 2, &s, &mut dev, &start, &mut |_, _| Ok(())).unwrap();
    let mut gaps: Vec<f64> = on_cpu
        .samples
        .chunks(2)
        .zip(on_gpu.samples.chunks(2))
        .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
        .collect();
    gaps.sort_by(f64::total_cmp);
    let far = gaps.iter().filter(|&&g| g > 1e-3).count() as f64 / gaps.len() as f64;
    let median = gaps[gaps.len() / 2];
    eprintln!(
        "sampler gap: median {median:.2e}, 99th percentile {:.2e}, share > 1e-3 {far:.4}",
        gaps[gaps.len() * 99 / 100]
    );
    assert!(median < 1e-4 && far < 0.01, "median {median:e}, share {far}");
    assert_eq!(on_gpu.trajectories.len(), 51 * 3 * 2);
    let traj_gap =
        on_cpu.trajectories.iter().zip(&on_gpu.trajectories).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(traj_gap < 1e-2, "trajectory gap {traj_gap:e}");
}

/// `points` data points on a circle and 3500 samples around a 3 × 3 grid of Gaussians.
fn circle_and_samples(points: usize) -> (fpgen::model::score::PointCloud, Vec<f64>) {
    let circle = ShapeParams { scale: 1.5, noise: 0.0, side: 1 };
    let cloud = clouds::shape_cloud(Shape::Circle, &circle, points, 1, false).unwrap();
    let samples =
        clouds::sample(Shape::GaussianGrid, &ShapeParams { scale: 1.0, noise: 0.8, side: 3 }, 3500, 4);
    (cloud, samples)
}

/// Samples split into chunks (the device's binding limit caps a buffer near 8·10⁶ samples
/// on lavapipe) take exactly the steps of one dispatch: every sample's arithmetic and its
/// normals (counter = global index) are the same, so positions and means agree bit for bit.
#[test]
fn chunked_samples_move_exactly_as_one_dispatch() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let (cloud, samples) = circle_and_samples(200);
    let mut whole = GpuSampler::new(&ctx, &cloud, &samples, 5).unwrap();
    let mut split = GpuSampler::with_chunk(&ctx, &cloud, &samples, 5, 1000).unwrap();
    assert_eq!((whole.chunks(), split.chunks()), (1, 4));
    let times = sampler::log_times(1.0, 0.01, 10);
    for (k, w) in times.windows(2).enumerate() {
        let (a, b) = sampler::coefficients(SampleMethod::Exponential, 0.5, w[0], w[1]);
        whole.step(&ctx, w[0], a, b, k as u32 + 1);
        split.step(&ctx, w[0], a, b, k as u32 + 1);
    }
    let read = |s: &GpuSampler| {
        let mut x = vec![0f32; 3500 * 2];
        s.read_positions(&ctx, &mut x).unwrap();
        let mut m = vec![0f32; 3500 * 4];
        s.read_means(&ctx, &mut m).unwrap();
        (x, m)
    };
    let (x_whole, m_whole) = read(&whole);
    let (x_split, m_split) = read(&split);
    let moved = x_whole.iter().zip(&samples).filter(|(a, b)| (**a as f64 - **b).abs() > 1e-3).count();
    assert!(moved > 3000 * 2, "the samples barely moved ({moved} coordinates)");
    assert_eq!(x_whole, x_split);
    assert_eq!(m_whole, m_split);
    // a partial read stops inside the second chunk
    let mut head = vec![0f32; 1500 * 2];
    split.read_positions(&ctx, &mut head).unwrap();
    assert_eq!(head[..], x_whole[..1500 * 2]);
}

/// Every samples-per-thread build of the score kernel (1, 2, 4) takes the same steps bit for
/// bit: each sample's sum runs over the points in the same order with the same arithmetic.
/// 3500 samples leave a partial last workgroup for each, and two chunks (2000 + 1500) check
/// the generator's counter of the second one's samples.
#[test]
fn samples_per_thread_move_exactly_as_one() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let (cloud, samples) = circle_and_samples(300);
    let run = |per_thread: u32| {
        let mut s = GpuSampler::with_options(&ctx, &cloud, &samples, 5, 2000, per_thread).unwrap();
        let times = sampler::log_times(1.0, 0.01, 6);
        for (k, w) in times.windows(2).enumerate() {
            let (a, b) = sampler::coefficients(SampleMethod::Exponential, 0.5, w[0], w[1]);
            s.step(&ctx, w[0], a, b, k as u32 + 1);
        }
        let mut x = vec![0f32; 3500 * 2];
        s.read_positions(&ctx, &mut x).unwrap();
        let mut m = vec![0f32; 3500 * 4];
        s.read_means(&ctx, &mut m).unwrap();
        (x, m)
    };
    let one = run(1);
    let moved = one.0.iter().zip(&samples).filter(|(a, b)| (**a as f64 - **b).abs() > 1e-3).count();
    assert!(moved > 3000 * 2, "the samples barely moved ({moved} coordinates)");
    for per_thread in [2, 4] {
        let (x, m) = run(per_thread);
        assert_eq!(x, one.0, "{per_thread} samples per thread: positions");
        assert_eq!(m, one.1, "{per_thread} samples per thread: means");
    }
    assert!(GpuSampler::with_options(&ctx, &cloud, &samples, 5, 2000, 3).is_err());
}

/// `fpgen bench-score --backend gpu` runs on the device and counts its pairs as the CPU's.
#[test]
fn score_bench_runs_on_the_device() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let device = fpgen::gpu::Device::Gpu(std::sync::Arc::new(ctx));
    let row = fpgen::run::bench::measure_score(&device, 300, 2000, 3, 1).unwrap();
    assert_eq!((row.backend.as_str(), row.precision.as_str()), ("gpu", "f32"));
    assert_eq!(row.device, device.name());
    let pairs_per_step = row.pair_evaluations_per_second * row.ms_per_step * 1e-3;
    assert!((pairs_per_step / (300.0 * 2000.0) - 1.0).abs() < 1e-9, "{pairs_per_step}");
}

/// The grid backward Fokker–Planck equation on the device (score kernel at the faces, f32
/// steps) against the CPU twin (f64), from the Gaussian start and from u(T), 1D (three
/// Diracs, heat and OU) and 2D (a 40-point circle), upwind and Scharfetter–Gummel fluxes. Each of the S steps rounds every cell
/// to f32 (relative 6e-8) and the velocities carry the score kernel's f32 error. These
/// roundings are unbiased, so the gap grows like √S · 6e-8 ≤ 8e-6 for S ≤ 1.6e4 (asserted;
/// the worst case S · 6e-8 would be 1e-3): relative L1 gap asserted ≤ 1e-5 (measured
/// ≤ 4.4e-7 upwind, ≤ 2.2e-6 Scharfetter–Gummel, whose f32 e^P − 1 loses digits near
/// |P| = 0.1 where the kernel leaves its series). Mass stays 1 to f32 sums (measured
/// ≤ 3.8e-7, asserted 2e-6).
#[test]
fn backward_fokker_planck_on_the_device_matches_the_cpu() {
    use fpgen::diffusion::backward::{self, CpuBackward, DeviceBackward};
    use fpgen::grid::Grid;
    use fpgen::model::score::PointCloud;
    use fpgen::reverse::pde::FaceFlux;
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let heat = LinearProcess { lambda: 0.0, diffusion: 1.0 };
    let ou = LinearProcess { lambda: 0.5, diffusion: 1.0 };
    let diracs = PointCloud::new(1, vec![-5.0, 0.0, 5.0], Some(&[0.7, 0.3, 0.1])).unwrap();
    let circle =
        clouds::shape_cloud(Shape::Circle, &ShapeParams { scale: 1.5, noise: 0.0, side: 1 }, 40, 1, true)
            .unwrap();
    let (up, sg) = (FaceFlux::Upwind, FaceFlux::ScharfetterGummel);
    let cases = [
        (heat, &diracs, Grid::new(1, 1000, 14.0).unwrap(), vec![2.0, 0.5, 0.15], 1.0, up),
        (heat, &diracs, Grid::new(1, 1000, 14.0).unwrap(), vec![2.0, 0.5, 0.15], 1.0, sg),
        (ou, &diracs, Grid::new(1, 800, 10.0).unwrap(), vec![2.0, 0.5, 0.15], 0.2, sg),
        (heat, &circle, Grid::new(2, 48, 6.0).unwrap(), vec![1.0, 0.4, 0.2], 0.5, up),
        (heat, &circle, Grid::new(2, 48, 6.0).unwrap(), vec![1.0, 0.4, 0.2], 0.5, sg),
    ];
    for (process, cloud, grid, times, eps, flux) in cases {
        let starts: Vec<Vec<f64>> = [Start::Gaussian, Start::Exact]
            .into_iter()
            .map(|s| backward::start_density(&process, cloud, &grid, s, times[0]))
            .collect();
        let mut cpu = CpuBackward::new(&process, cloud, &grid, eps, flux, starts.clone());
        let mut dev = DeviceBackward::new(&ctx, &process, cloud, &grid, eps, flux, &starts).unwrap();
        let (on_cpu, steps) =
            fpgen::run::diffusion_steps::backward_solve(&mut cpu, 0.9, &times, &mut |_, _| {}).unwrap();
        let (on_dev, dev_steps) =
            fpgen::run::diffusion_steps::backward_solve(&mut dev, 0.9, &times, &mut |_, _| {}).unwrap();
        assert!(steps <= 16_000 && steps == dev_steps, "{steps} and {dev_steps} steps");
        for (k, (a, b)) in on_cpu.iter().zip(&on_dev).enumerate() {
            for (c, g) in a.iter().zip(b) {
                let l1: f64 =
                    c.iter().zip(g).map(|(x, y)| (x - y).abs()).sum::<f64>() / c.iter().sum::<f64>();
                let mass: f64 = g.iter().sum::<f64>() * grid.cell_volume();
                eprintln!(
                    "{}D λ {} {flux:?} t = {}: relative L1 gap {l1:.2e}, device mass − 1 = {:.1e} ({steps} / {dev_steps} steps)",
                    grid.dim,
                    process.lambda,
                    times[k],
                    mass - 1.0
                );
                assert!(l1 < 1e-5, "relative L1 gap {l1:e}");
                assert!((mass - 1.0).abs() < 2e-6, "device mass {mass}");
            }
        }
    }
}
