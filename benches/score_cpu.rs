//! Criterion benchmark of the CPU posterior means (the score's cost) of point-cloud data:
//! throughput in pair evaluations (samples × data points); `fpgen bench-score` times whole
//! sampler steps on either backend.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fpgen::model::clouds::{self, Shape, ShapeParams};
use fpgen::model::score::posterior_means;

const SAMPLES: usize = 10_000;

fn score_cpu(c: &mut Criterion) {
    let mut group = c.benchmark_group("score_posterior_means_2d");
    group.sample_size(10);
    let lemniscate = ShapeParams { scale: 2.0, noise: 0.0, side: 1 };
    let spread = ShapeParams { scale: 1.0, noise: 0.8, side: 3 };
    let samples = clouds::sample(Shape::GaussianGrid, &spread, SAMPLES, 2);
    for data in [100usize, 1000, 10_000] {
        let cloud = clouds::shape_cloud(Shape::Lemniscate, &lemniscate, data, 1, false).expect("cloud");
        group.throughput(Throughput::Elements((SAMPLES * data) as u64));
        group.bench_with_input(BenchmarkId::new("f64", data), &cloud, |b, cloud| {
            b.iter(|| posterior_means(cloud, 0.01, &samples));
        });
    }
    group.finish();
}

criterion_group!(benches, score_cpu);
criterion_main!(benches);
