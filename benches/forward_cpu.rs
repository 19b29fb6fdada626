//! Criterion benchmark of the CPU forward step on the peer problem (2D, γ = 2, upwind,
//! explicit Euler, Δt = 0.2 h²); `fpgen bench` prints the same figures as a table.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fpgen::forward::ForwardStepper;
use fpgen::run::bench::peer_backend;

const STEPS: u64 = 10;

fn forward_cpu(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward_cpu_upwind_euler_2d");
    group.sample_size(10);
    for cells in [257usize, 513, 1025] {
        group.throughput(Throughput::Elements((cells * cells) as u64 * STEPS));
        group.bench_with_input(BenchmarkId::new("f64", cells), &cells, |b, &n| {
            let (mut backend, ctl) = peer_backend::<f64>(n, None).expect("peer problem");
            b.iter(|| backend.step_n(STEPS, &ctl).expect("steps"));
        });
        group.bench_with_input(BenchmarkId::new("f32", cells), &cells, |b, &n| {
            let (mut backend, ctl) = peer_backend::<f32>(n, None).expect("peer problem");
            b.iter(|| backend.step_n(STEPS, &ctl).expect("steps"));
        });
    }
    group.finish();
}

criterion_group!(benches, forward_cpu);
criterion_main!(benches);
