//! `fpgen bench-suite`: the device benchmarks in one run (the copy kernel; the forward
//! step of both schemes and integrators at every steps-per-pass on the peer problem at
//! growing N; the reverse PDE step; device frames; the particle system interacting and
//! not; the score sampler), with the adapter's name, driver and limits, as JSON and
//! markdown tables. Each forward row reads as a fraction of the copy kernel's bandwidth
//! and, with `--peak-gbps`, of the device's peak, counting the 8 bytes per cell that one
//! step of one pass must move (a blocked pass moves 8/k: above 1 is past the single-step
//! roofline).

use serde::Serialize;

use super::bench::{measure_particles, measure_score_with, BenchRow, ParticleBenchRow, ScoreBenchRow};
use super::bench_device::{
    measure_copy, measure_forward, measure_frames, measure_reverse_pde, peer_field, CopyRow, DeviceRow,
    ForwardVariant,
};
use crate::config::{Integrator, SchemeKind};
use crate::error::Result;
use crate::gpu::context::AdapterSummary;
use crate::gpu::GpuContext;
use crate::kinds::max_steps_per_pass;

/// What the suite measures: the full one for a real GPU, a small one for lavapipe and CI.
#[derive(Clone, Debug, Serialize)]
pub struct SuitePlan {
    pub forward_sizes: Vec<usize>,
    pub forward_steps: u64,
    /// Steps per pass tried for each scheme and integrator: all that fit (false) or 1
    /// and the most (true).
    pub ends_of_k_only: bool,
    /// Bytes of the copy kernel's buffers, and copies per timed pass.
    pub copy_bytes: u64,
    pub copies: u32,
    pub reverse_steps: u32,
    pub frames: u32,
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
                ends_of_k_only: true,
                copy_bytes: 1 << 22,
                copies: 4,
                reverse_steps: 10,
                frames: 2,
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
                forward_steps: 240,
                ends_of_k_only: false,
                copy_bytes: 4 * 8193 * 8193,
                copies: 20,
                reverse_steps: 100,
                frames: 10,
                particle_counts: vec![1_000_000, 10_000_000],
                particle_cells: 1025,
                particle_steps: 20,
                score_sizes: vec![(10_000, 100_000), (10_000, 1_000_000)],
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
    pub variant: ForwardVariant,
    pub passes_per_step: f64,
    /// The least bytes per cell and step a pass can move (8 / steps per pass).
    pub bytes_per_cell_step: f64,
    /// effective_gb_per_second (8 B per cell and step) / the copy kernel's bandwidth.
    pub fraction_of_copy: Option<f64>,
    /// effective_gb_per_second / the peak given (None without one).
    pub fraction_of_peak: Option<f64>,
    /// The fastest steps per pass for this N, scheme and integrator.
    pub best_k: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    pub adapter: AdapterSummary,
    pub plan: SuitePlan,
    pub peak_gb_per_second: Option<f64>,
    pub copy: Option<CopyRow>,
    pub forward: Vec<ForwardSuiteRow>,
    pub reverse_pde: Vec<DeviceRow>,
    pub frames: Vec<DeviceRow>,
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
/// `progress` sees the report after every benchmark (the CLI writes it, so that a run cut
/// short by a time limit keeps what it measured); the order puts the figures first:
/// copy, forward, particles, score, then the reverse PDE and frames.
pub fn run(
    ctx: &std::sync::Arc<GpuContext>,
    plan: &SuitePlan,
    peak: Option<f64>,
    progress: &mut dyn FnMut(&SuiteReport) -> Result<()>,
) -> Result<SuiteReport> {
    let mut r = SuiteReport {
        adapter: ctx.summary.clone(),
        plan: plan.clone(),
        peak_gb_per_second: peak,
        copy: None,
        forward: Vec::new(),
        reverse_pde: Vec::new(),
        frames: Vec::new(),
        particles: Vec::new(),
        score: Vec::new(),
        skipped: Vec::new(),
    };
    let measured = measure_copy(ctx, plan.copy_bytes, plan.copies, plan.repeats);
    r.copy = or_skip(measured, format!("copy of {} B", plan.copy_bytes), &mut r.skipped)?;
    progress(&r)?;
    // the peer field of each size, made once (a 8193² one takes seconds on one core)
    let mut fields = Vec::with_capacity(plan.forward_sizes.len());
    for &n in &plan.forward_sizes {
        fields.push((n, peer_field(n)?));
        let f0 = &fields[fields.len() - 1].1;
        for variant in variants(plan) {
            let measured = measure_forward(ctx, n, variant, f0, plan.forward_steps, plan.repeats);
            let what = format!("forward N = {n} {}", variant.label());
            if let Some(row) = or_skip(measured, what, &mut r.skipped)? {
                let gbps = row.effective_gb_per_second;
                r.forward.push(ForwardSuiteRow {
                    row,
                    variant,
                    passes_per_step: variant.passes_per_step(),
                    bytes_per_cell_step: variant.bytes_per_cell_step(),
                    fraction_of_copy: r.copy.as_ref().map(|c| gbps / c.gb_per_second),
                    fraction_of_peak: peak.map(|p| gbps / p),
                    best_k: false,
                });
                mark_best_k(&mut r.forward);
            }
            progress(&r)?;
        }
    }
    for &count in &plan.particle_counts {
        for interacting in [true, false] {
            let measured = measure_particles(
                &crate::gpu::Device::Gpu(ctx.clone()),
                count,
                interacting,
                plan.particle_cells,
                plan.particle_steps,
                plan.repeats,
            );
            r.particles.extend(or_skip(measured, format!("particles N_p = {count}"), &mut r.skipped)?);
            progress(&r)?;
        }
    }
    for &(data, samples) in &plan.score_sizes {
        for per_thread in crate::diffusion::gpu::SAMPLES_PER_THREAD {
            let measured = measure_score_with(
                &crate::gpu::Device::Gpu(ctx.clone()),
                data,
                samples,
                plan.score_steps,
                plan.repeats,
                per_thread,
            );
            r.score.extend(or_skip(measured, format!("score {data} × {samples}"), &mut r.skipped)?);
            progress(&r)?;
        }
    }
    for (n, f0) in &fields {
        let n = *n;
        let measured = measure_reverse_pde(ctx, n, f0, plan.reverse_steps, plan.repeats);
        r.reverse_pde.extend(or_skip(measured, format!("reverse PDE N = {n}"), &mut r.skipped)?);
        let measured = measure_frames(ctx, n, f0, plan.frames, plan.repeats);
        r.frames.extend(or_skip(measured, format!("frames N = {n}"), &mut r.skipped)?);
        progress(&r)?;
    }
    Ok(r)
}

/// Both schemes and both explicit integrators, at each steps per pass the plan tries.
fn variants(plan: &SuitePlan) -> Vec<ForwardVariant> {
    let mut out = Vec::new();
    for scheme in [SchemeKind::Upwind, SchemeKind::GradientFlow] {
        for integrator in [Integrator::Euler, Integrator::SspRk2] {
            let most = max_steps_per_pass(scheme, integrator);
            let ks: Vec<u32> = if plan.ends_of_k_only { vec![1, most] } else { (1..=most).collect() };
            out.extend(ks.into_iter().map(|steps_per_pass| ForwardVariant {
                scheme,
                integrator,
                steps_per_pass,
            }));
        }
    }
    out
}

/// Mark the fastest steps per pass of each (N, scheme, integrator).
fn mark_best_k(rows: &mut [ForwardSuiteRow]) {
    let key = |r: &ForwardSuiteRow| (r.row.cells, r.variant.scheme.name(), r.variant.integrator.name());
    for i in 0..rows.len() {
        let fastest = rows
            .iter()
            .filter(|r| key(r) == key(&rows[i]))
            .map(|r| r.row.ms_per_step)
            .fold(f64::INFINITY, f64::min);
        rows[i].best_k = rows[i].row.ms_per_step == fastest;
    }
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
    let percent = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{:.0} %", 100.0 * x));
    if let Some(c) = &r.copy {
        s.push_str(&format!(
            "Copy kernel: {:.1} GB/s (read + write, {} B buffers, {})\n\n",
            c.gb_per_second, c.bytes, c.timing
        ));
    }
    s.push_str("| forward N | scheme/integrator | steps/pass | min B/cell·step | ms/step | Mcell-upd/s | GB/s at 8 B/cell | of copy | of peak | fastest k | timing |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    for f in &r.forward {
        s.push_str(&format!(
            "| {} | {}/{} | {} | {:.2} | {:.4} | {:.1} | {:.2} | {} | {} | {} | {} |\n",
            f.row.cells,
            f.variant.scheme.name(),
            f.variant.integrator.name(),
            f.variant.steps_per_pass,
            f.bytes_per_cell_step,
            f.row.ms_per_step,
            f.row.mcell_updates_per_second,
            f.row.effective_gb_per_second,
            percent(f.fraction_of_copy),
            percent(f.fraction_of_peak),
            if f.best_k { "yes" } else { "" },
            f.row.timing
        ));
    }
    for (title, unit, rows) in
        [("reverse PDE N", "Mcell-upd/s", &r.reverse_pde), ("frames N", "Mpixel/s", &r.frames)]
    {
        s.push_str(&format!("\n| {title} | ms each | {unit} |\n|---:|---:|---:|\n"));
        for d in rows {
            s.push_str(&format!("| {} | {:.3} | {:.1} |\n", d.cells, d.ms_each, d.millions_per_second));
        }
    }
    s.push_str("\n| particles | interacting | particle-steps/s |\n|---:|---|---:|\n");
    for p in &r.particles {
        s.push_str(&format!(
            "| {} | {} | {:.3e} |\n",
            p.particles, p.interacting, p.particle_steps_per_second
        ));
    }
    s.push_str(
        "\n| score: data × samples | samples/thread | ms/step | pair evaluations/s |\n|---|---:|---:|---:|\n",
    );
    for q in &r.score {
        s.push_str(&format!(
            "| {} × {} | {} | {:.3} | {:.3e} |\n",
            q.data_points, q.samples, q.samples_per_thread, q.ms_per_step, q.pair_evaluations_per_second
        ));
    }
    for why in &r.skipped {
        s.push_str(&format!("\nskipped: {why}\n"));
    }
    s
}
