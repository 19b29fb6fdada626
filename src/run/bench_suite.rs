//! `fpgen bench-suite`: the device benchmarks in one run (the forward step of the peer
//! problem at growing N, the particle system interacting and not, the score sampler), with
//! the adapter's name, driver and limits, as JSON and a markdown table. With the device's
//! peak bandwidth given, each forward row also reads as a fraction of it (8 bytes moved
//! per cell and f32 step: one read and one write of the field).

use serde::Serialize;

use super::bench::{
    measure_gpu, measure_particles, measure_score, BenchRow, ParticleBenchRow, ScoreBenchRow,
};
use crate::error::Result;
use crate::gpu::context::AdapterSummary;
use crate::gpu::GpuContext;

/// What the suite measures: the full one for a real GPU, a small one for lavapipe and CI.
#[derive(Clone, Debug, Serialize)]
pub struct SuitePlan {
    pub forward_sizes: Vec<usize>,
    pub forward_steps: u64,
    pub particle_counts: Vec<usize>,
    pub particle_cells: usize,
    pub particle_steps: u32,
    /// (data points, samples) per score row.
    pub score_sizes: Vec<(usize, usize)>,
    pub score_steps: usize,
    pub repeats: usize,
}

impl SuitePlan {
    pub fn new(quick: bool) -> Self {
        if quick {
            SuitePlan {
                forward_sizes: vec![129, 257],
                forward_steps: 20,
                particle_counts: vec![10_000],
                particle_cells: 129,
                particle_steps: 5,
                score_sizes: vec![(500, 1000)],
                score_steps: 2,
                repeats: 1,
            }
        } else {
            SuitePlan {
                forward_sizes: vec![1025, 2049, 4097, 8193],
                forward_steps: 200,
                particle_counts: vec![1_000_000, 10_000_000],
                particle_cells: 1025,
                particle_steps: 20,
                score_sizes: vec![(10_000, 100_000), (100_000, 100_000)],
                score_steps: 5,
                repeats: 3,
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ForwardSuiteRow {
    #[serde(flatten)]
    pub row: BenchRow,
    /// effective_gb_per_second / the peak given (None without one).
    pub fraction_of_peak: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    pub adapter: AdapterSummary,
    pub plan: SuitePlan,
    pub peak_gb_per_second: Option<f64>,
    pub forward: Vec<ForwardSuiteRow>,
    pub particles: Vec<ParticleBenchRow>,
    pub score: Vec<ScoreBenchRow>,
    /// Benchmarks that could not run here, with why (a grid over the adapter's limits).
    pub skipped: Vec<String>,
}

/// A benchmark's row, or None with the reason in `skipped` when the adapter cannot run it
/// (a grid over its limits); other errors stop the suite.
fn or_skip<T>(measured: Result<T>, what: String, skipped: &mut Vec<String>) -> Result<Option<T>> {
    match measured {
        Ok(row) => Ok(Some(row)),
        Err(e @ crate::error::Error::Gpu(_)) => {
            skipped.push(format!("{what}: {e}"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Run `plan` on `ctx`. A size the adapter cannot hold is skipped and listed, not an error.
pub fn run(ctx: &std::sync::Arc<GpuContext>, plan: &SuitePlan, peak: Option<f64>) -> Result<SuiteReport> {
    let mut skipped = Vec::new();
    let mut forward = Vec::new();
    for &n in &plan.forward_sizes {
        let measured = measure_gpu(ctx, n, plan.forward_steps, plan.repeats);
        if let Some(row) = or_skip(measured, format!("forward N = {n}"), &mut skipped)? {
            let fraction_of_peak = peak.map(|p| row.effective_gb_per_second / p);
            forward.push(ForwardSuiteRow { row, fraction_of_peak });
        }
    }
    let mut particles = Vec::new();
    for &count in &plan.particle_counts {
        for interacting in [true, false] {
            let measured = measure_particles(
                Some(ctx),
                count,
                interacting,
                plan.particle_cells,
                plan.particle_steps,
                plan.repeats,
            );
            particles.extend(or_skip(measured, format!("particles N_p = {count}"), &mut skipped)?);
        }
    }
    let mut score = Vec::new();
    for &(data, samples) in &plan.score_sizes {
        let measured = measure_score(Some(ctx), data, samples, plan.score_steps, plan.repeats);
        score.extend(or_skip(measured, format!("score {data} × {samples}"), &mut skipped)?);
    }
    Ok(SuiteReport {
        adapter: ctx.summary.clone(),
        plan: plan.clone(),
        peak_gb_per_second: peak,
        forward,
        particles,
        score,
        skipped,
    })
}

/// The report as markdown tables (what BENCHMARKS.md takes).
pub fn markdown(r: &SuiteReport) -> String {
    let a = &r.adapter;
    let mut s = format!(
        "Adapter: {} ({}, {}, driver {} {}); timestamp queries: {}; max storage binding {} B\n\n",
        a.name,
        a.backend,
        a.device_type,
        a.driver,
        a.driver_info,
        a.timestamp_queries,
        a.max_storage_buffer_binding_size
    );
    s.push_str("| forward N | ms/step | Mcell-upd/s | GB/s (8 B/cell) | of peak | timing |\n|---:|---:|---:|---:|---:|---|\n");
    for f in &r.forward {
        let of_peak = f.fraction_of_peak.map_or("—".to_string(), |x| format!("{:.0} %", 100.0 * x));
        s.push_str(&format!(
            "| {} | {:.4} | {:.1} | {:.1} | {of_peak} | {} |\n",
            f.row.cells,
            f.row.ms_per_step,
            f.row.mcell_updates_per_second,
            f.row.effective_gb_per_second,
            f.row.timing
        ));
    }
    s.push_str("\n| particles | interacting | particle-steps/s |\n|---:|---|---:|\n");
    for p in &r.particles {
        s.push_str(&format!(
            "| {} | {} | {:.3e} |\n",
            p.particles, p.interacting, p.particle_steps_per_second
        ));
    }
    s.push_str("\n| score: data × samples | ms/step | pair evaluations/s |\n|---|---:|---:|\n");
    for q in &r.score {
        s.push_str(&format!(
            "| {} × {} | {:.3} | {:.3e} |\n",
            q.data_points, q.samples, q.ms_per_step, q.pair_evaluations_per_second
        ));
    }
    for why in &r.skipped {
        s.push_str(&format!("\nskipped: {why}\n"));
    }
    s
}
