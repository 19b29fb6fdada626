//! Device benchmarks of `bench-suite` beyond the peer step of `bench`: the forward step
//! of either scheme and integrator at k steps per pass, the copy kernel (the adapter's
//! own read-once/write-once bandwidth), the reverse PDE step and device frames.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::bench::{median, peer_discretisation, peer_initial, row, BenchRow};
use crate::config::{Integrator, OutputSection, SchemeKind};
use crate::error::{Error, Result};
use crate::forward::gpu::backend::GpuBackend;
use crate::forward::ForwardStepper;
use crate::gpu::context::{check_limits, PassTimer};
use crate::gpu::copy::CopyKernel;
use crate::gpu::GpuContext;
use crate::io::frames::FrameStyle;

/// A forward step to benchmark: scheme, integrator and steps per pass.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct ForwardVariant {
    pub scheme: SchemeKind,
    pub integrator: Integrator,
    pub steps_per_pass: u32,
}

impl ForwardVariant {
    /// The peer problem's step: upwind, forward Euler, one step per pass.
    pub const PEER: Self =
        Self { scheme: SchemeKind::Upwind, integrator: Integrator::Euler, steps_per_pass: 1 };

    /// Device passes per step.
    pub fn passes_per_step(&self) -> f64 {
        1.0 / self.steps_per_pass as f64
    }

    /// The least memory traffic per cell and step, in bytes: a pass reads the f32 field
    /// once and writes it once, whatever the scheme and integrator (the stages and the
    /// bound's fluxes work on the tile in workgroup memory).
    pub fn bytes_per_cell_step(&self) -> f64 {
        8.0 / self.steps_per_pass as f64
    }

    pub fn label(&self) -> String {
        format!("{}/{} ×{}", self.scheme.name(), self.integrator.name(), self.steps_per_pass)
    }
}

/// The forward step of `variant` (f32, fixed Δt = 0.2 h² or 0.9 × the scheme's bound on
/// f0 when that is less) on the peer problem, with the
/// field `f0` of that grid. Timed on the device by timestamp queries around each pass of
/// steps when the adapter has them (median over the repeats of the summed pass times);
/// otherwise wall time of the steps, synchronised by reading the stepping state.
pub fn measure_forward(
    ctx: &Arc<GpuContext>,
    cells: usize,
    variant: ForwardVariant,
    f0: &[f64],
    steps: u64,
    repeats: usize,
) -> Result<BenchRow> {
    let mut disc = peer_discretisation(cells)?;
    disc.scheme = variant.scheme;
    disc.integrator = variant.integrator;
    disc.steps_per_pass = variant.steps_per_pass;
    check_limits(&ctx.device.limits(), (disc.grid.len() * 4) as u64, 2)?;
    let mut backend = GpuBackend::new(ctx.clone(), &disc)?;
    backend.upload(f0, 0.0)?;
    // the peer Δt unless this scheme's bound on f0 is below it (gradient flow: the
    // fluxes at the edge of the support)
    let bound = 0.9 * backend.dt_bound();
    if let crate::forward::DtPolicy::Fixed(dt) = disc.dt {
        if bound < dt {
            backend.set_dt_policy(crate::forward::DtPolicy::Fixed(bound))?;
        }
    }
    let ctl = crate::forward::StepControl {
        t_stop: f64::INFINITY,
        dt_bound_floor: 0.0,
        max_density: f64::INFINITY,
    };
    if backend.step_timed(super::bench::WARMUP_STEPS)?.is_none() {
        let (wall, rel_mass_change) = super::bench::time_steps(&mut backend, cells, &ctl, steps, repeats)?;
        return Ok(row(backend.info(), cells, steps, wall, rel_mass_change, 4));
    }
    let mut times = Vec::with_capacity(repeats);
    let mut rel_mass_change = 0.0;
    for _ in 0..repeats.max(1) {
        backend.upload(f0, 0.0)?;
        let m0 = backend.diagnostics()?.mass;
        times.push(backend.step_timed(steps)?.unwrap_or(f64::NAN));
        let taken = backend.steps_since_upload()?;
        if taken != steps {
            return Err(Error::Numerics(format!("bench took {taken} of {steps} steps")));
        }
        rel_mass_change = (backend.diagnostics()?.mass - m0) / m0;
    }
    let mut r = row(backend.info(), cells, steps, median(times), rel_mass_change, 4);
    r.timing = "timestamp queries".into();
    Ok(r)
}

/// The copy kernel's bandwidth.
#[derive(Clone, Debug, Serialize)]
pub struct CopyRow {
    pub bytes: u64,
    pub copies: u32,
    /// Bytes read plus bytes written per second, median over the repeats.
    pub gb_per_second: f64,
    pub timing: String,
}

/// Copy `bytes` `copies` times in one pass, `repeats` times; checks the copy against
/// its CPU twin first.
pub fn measure_copy(ctx: &GpuContext, bytes: u64, copies: u32, repeats: usize) -> Result<CopyRow> {
    let kernel = CopyKernel::new(ctx, bytes)?;
    let values: Vec<f32> = (0..bytes.div_ceil(16) * 4).map(|i| i as f32).collect();
    kernel.upload(ctx, &values);
    kernel.run(ctx, 1, None);
    let (mut device, mut twin) = (vec![0.0; values.len()], vec![0.0; values.len()]);
    kernel.read_target(ctx, &mut device)?;
    crate::gpu::copy::copy_twin(&values, &mut twin);
    if device != twin {
        return Err(Error::Numerics("the copy kernel's target differs from its source".into()));
    }
    let timer = PassTimer::new(ctx);
    let mut seconds = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        let clock = Instant::now();
        kernel.run(ctx, copies, timer.as_ref());
        seconds.push(match &timer {
            Some(t) => t.seconds(ctx)?,
            None => {
                wait(ctx)?;
                clock.elapsed().as_secs_f64()
            }
        });
    }
    let seconds = median(seconds);
    Ok(CopyRow {
        bytes: kernel.bytes_moved() / 2,
        copies,
        gb_per_second: (kernel.bytes_moved() * copies as u64) as f64 / seconds / 1e9,
        timing: if timer.is_some() { "timestamp queries" } else { "wall clock" }.into(),
    })
}

fn wait(ctx: &GpuContext) -> Result<()> {
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map(|_| ())
        .map_err(|e| Error::Gpu(crate::error::GpuError::Other(e.to_string())))
}

/// A reverse-PDE or frame row: N, time per step or frame, throughput.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceRow {
    pub cells: usize,
    pub count: u32,
    /// Wall time per step or frame, median over the repeats.
    pub ms_each: f64,
    /// Cells per second (reverse PDE) or pixels per second (frames), in millions.
    pub millions_per_second: f64,
}

impl DeviceRow {
    /// The row of `count` steps or frames of `items` cells or pixels each, from the wall
    /// times of the repeats (their median).
    fn from_walls(cells: usize, count: u32, items: usize, walls: Vec<f64>) -> Self {
        let wall = median(walls);
        DeviceRow {
            cells,
            count,
            ms_each: 1e3 * wall / count as f64,
            millions_per_second: (items as f64 * count as f64) / wall / 1e6,
        }
    }
}

/// The reverse PDE step (f32) on the peer problem: the face velocities of the frozen
/// forward density, then `steps` explicit steps of Δt = 0.1 h², wall time until the
/// device is idle. It moves about 16 bytes per cell: g read and written, two face
/// velocities read.
pub fn measure_reverse_pde(
    ctx: &GpuContext,
    cells: usize,
    f0: &[f64],
    steps: u32,
    repeats: usize,
) -> Result<DeviceRow> {
    let disc = peer_discretisation(cells)?;
    let mut op = crate::reverse::gpu_pde::GpuReversePde::new(ctx, &disc.grid, &disc.params, 1.0, 1e-30)?;
    let f: Vec<f32> = f0.iter().map(|&v| v as f32).collect();
    op.set_forward(ctx, &f);
    let dt = 0.1 * disc.grid.h() * disc.grid.h();
    let mut walls = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        op.upload(ctx, &f);
        op.step_n(ctx, 1, dt);
        wait(ctx)?;
        let clock = Instant::now();
        op.step_n(ctx, steps, dt);
        wait(ctx)?;
        walls.push(clock.elapsed().as_secs_f64());
    }
    Ok(DeviceRow::from_walls(cells, steps, disc.grid.len(), walls))
}

/// Colour-mapped frames of the peer field on the device (default style: viridis, at
/// least 512 pixels a side), read back as RGB images: `frames` of them, one at a time.
pub fn measure_frames(
    ctx: &Arc<GpuContext>,
    cells: usize,
    f0: &[f64],
    frames: u32,
    repeats: usize,
) -> Result<DeviceRow> {
    let disc = peer_discretisation(cells)?;
    let mut backend = GpuBackend::new(ctx.clone(), &disc)?;
    backend.upload(f0, 0.0)?;
    let style = FrameStyle::covering(&OutputSection::default(), [f0]);
    let mut pixels = 0usize;
    let mut walls = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        backend.render_frame(&style)?;
        let clock = Instant::now();
        for _ in 0..frames {
            let image =
                backend.render_frame(&style)?.ok_or(Error::Unsupported("frames of a 1D grid".into()))?;
            pixels = (image.width() * image.height()) as usize;
        }
        walls.push(clock.elapsed().as_secs_f64());
    }
    Ok(DeviceRow::from_walls(cells, frames, pixels, walls))
}

/// The peer problem's initial field at N cells per side.
pub fn peer_field(cells: usize) -> Result<Vec<f64>> {
    peer_initial(&peer_discretisation(cells)?.grid)
}
