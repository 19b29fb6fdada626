//! Point-cloud scores and the reverse samplers on the device, f32 (shaders/score.wgsl;
//! CPU twins `model::score::posterior_means` and `diffusion::sampler::CpuSampler`): the
//! data and the samples (heat coordinates) stay on the GPU; one dispatch per step.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::model::score::{PointCloud, MAX_DIM};

/// Uniform block of shaders/score.wgsl (same field order, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ScoreParams {
    count: u32,
    n_data: u32,
    dim: u32,
    step: u32,
    key: [u32; 2],
    inv_4t: f32,
    a: f32,
    b: f32,
    move_samples: u32,
    first: u32,
    _pad: u32,
}

/// The layout of `ScoreParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const SCORE_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(ScoreParams { count, n_data, dim, step, key, inv_4t, a, b, move_samples, first });

const WG: u32 = 256;
/// Bytes per sample in the largest per-sample buffer (the means, vec4<f32>).
const MEAN_BYTES: u64 = 16;

/// Samples `first .. first + count`, in buffers of their own.
struct Chunk {
    first: usize,
    count: usize,
    uniform: wgpu::Buffer,
    positions: wgpu::Buffer,
    means: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

pub struct GpuSampler {
    params: ScoreParams,
    dim: usize,
    chunks: Vec<Chunk>,
    staging: wgpu::Buffer,
    pipeline: wgpu::ComputePipeline,
    samples_per_thread: u32,
}

/// Samples per thread the kernel can be built for (shaders/score.wgsl `SAMPLES`).
pub const SAMPLES_PER_THREAD: [u32; 3] = [1, 2, 4];

/// The most samples one chunk may hold on this device.
pub fn largest_chunk(limits: &wgpu::Limits) -> usize {
    let bytes = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    ((bytes / MEAN_BYTES) as usize / WG as usize * WG as usize).max(WG as usize)
}

impl GpuSampler {
    /// The cloud and samples at `positions` (heat coordinates, count × dim), split into
    /// chunks as large as the device binds.
    pub fn new(ctx: &GpuContext, cloud: &PointCloud, positions: &[f64], seed: u64) -> Result<Self, GpuError> {
        Self::with_chunk(ctx, cloud, positions, seed, largest_chunk(&ctx.device.limits()))
    }

    /// As `new`, with at most `chunk` samples per dispatch.
    pub fn with_chunk(
        ctx: &GpuContext,
        cloud: &PointCloud,
        positions: &[f64],
        seed: u64,
        chunk: usize,
    ) -> Result<Self, GpuError> {
        Self::with_options(ctx, cloud, positions, seed, chunk, 1)
    }

    /// As `with_chunk`, each thread of the kernel serving `samples_per_thread` samples
    /// (one of `SAMPLES_PER_THREAD`; the results do not depend on it).
    pub fn with_options(
        ctx: &GpuContext,
        cloud: &PointCloud,
        positions: &[f64],
        seed: u64,
        chunk: usize,
        samples_per_thread: u32,
    ) -> Result<Self, GpuError> {
        if !SAMPLES_PER_THREAD.contains(&samples_per_thread) {
            return Err(GpuError::Other(format!(
                "samples per thread must be one of {SAMPLES_PER_THREAD:?} (got {samples_per_thread})"
            )));
        }
        let dim = cloud.dim;
        let count = positions.len() / dim;
        let too_many =
            |what: &str, n: usize| GpuError::Other(format!("{n} {what} exceed the device's u32 index"));
        u32::try_from(count).map_err(|_| too_many("samples", count))?;
        let n_data = u32::try_from(cloud.len()).map_err(|_| too_many("data points", cloud.len()))?;
        let limits = ctx.device.limits();
        let data_bytes = (cloud.len().max(1) as u64) * 16;
        let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if data_bytes > binding {
            return Err(GpuError::Other(format!(
                "{} data points need {data_bytes} bytes in one buffer; the device binds at most {binding} (max_storage_buffer_binding_size): use fewer points",
                cloud.len()
            )));
        }
        let chunk = chunk.clamp(1, largest_chunk(&limits));
        let packed: Vec<f32> = (0..cloud.len())
            .flat_map(|j| {
                let mut v = [0f32; 4];
                for (a, y) in cloud.point(j).iter().enumerate() {
                    v[a] = *y as f32;
                }
                v[MAX_DIM] = cloud.log_weights[j] as f32;
                v
            })
            .collect();
        let storage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let init = |label, contents: &[u8]| {
            ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: storage,
            })
        };
        let data = init("score data", bytemuck::cast_slice(&packed));
        let m = registry::SCORE;
        let kernels = Kernels::specialised(
            ctx,
            m.name,
            m.source,
            &[UNIFORM, READ, READ_WRITE, READ_WRITE],
            &[("posterior_step", vec![("SAMPLES", f64::from(samples_per_thread))])],
        );
        let mut chunks = Vec::new();
        for first in (0..count.max(1)).step_by(chunk) {
            let n = chunk.min(count - first.min(count));
            let x32: Vec<f32> = positions[first * dim..(first + n) * dim].iter().map(|&x| x as f32).collect();
            // wgpu refuses empty buffers: an empty sampler keeps one unused slot
            let positions = if x32.is_empty() {
                ctx.buffer("score samples", 16, storage)
            } else {
                init("score samples", bytemuck::cast_slice(&x32))
            };
            let means = ctx.buffer("score means", n.max(1) as u64 * MEAN_BYTES, storage);
            let uniform = ctx.buffer(
                "score params",
                std::mem::size_of::<ScoreParams>() as u64,
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            );
            let bind_group = kernels.bind_group(ctx, "score", &[&uniform, &data, &positions, &means]);
            chunks.push(Chunk { first, count: n, uniform, positions, means, bind_group });
        }
        let staging = ctx.buffer(
            "score read-back",
            chunk.min(count).max(1) as u64 * MEAN_BYTES,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let pipeline = kernels
            .pipelines
            .into_iter()
            .next()
            .ok_or_else(|| GpuError::Other("score.wgsl: missing pipeline".into()))?;
        let params = ScoreParams {
            count: 0,
            n_data,
            dim: dim as u32,
            step: 0,
            key: crate::rng::key(seed),
            inv_4t: 0.0,
            a: 0.0,
            b: 0.0,
            move_samples: 0,
            first: 0,
            _pad: 0,
        };
        Ok(Self { params, dim, chunks, staging, pipeline, samples_per_thread })
    }

    /// How many dispatches one step takes.
    pub fn chunks(&self) -> usize {
        self.chunks.len()
    }

    fn dispatch(&mut self, ctx: &GpuContext, t_h: f64) {
        self.params.inv_4t = (0.25 / t_h) as f32;
        for c in self.chunks.iter().filter(|c| c.count > 0) {
            let params = ScoreParams { count: c.count as u32, first: c.first as u32, ..self.params };
            ctx.queue.write_buffer(&c.uniform, 0, bytemuck::bytes_of(&params));
            let (gx, gy) = context::folded_groups(params.count, WG * self.samples_per_thread);
            ctx.submit_pass("score", |pass| {
                pass.set_bind_group(0, &c.bind_group, &[]);
                pass.set_pipeline(&self.pipeline);
                pass.dispatch_workgroups(gx, gy, 1);
            });
        }
    }

    /// Replace the positions (heat coordinates, the same count × dim).
    pub fn set_positions(&self, ctx: &GpuContext, positions: &[f64]) {
        for c in self.chunks.iter().filter(|c| c.count > 0) {
            let x32: Vec<f32> = positions[c.first * self.dim..(c.first + c.count) * self.dim]
                .iter()
                .map(|&x| x as f32)
                .collect();
            ctx.queue.write_buffer(&c.positions, 0, bytemuck::cast_slice(&x32));
        }
    }

    /// Posterior means at heat time t_h of the current samples (read with `read_means`).
    pub fn posterior(&mut self, ctx: &GpuContext, t_h: f64) {
        self.params.move_samples = 0;
        self.dispatch(ctx, t_h);
    }

    /// One sampler step: means at t_h, then X ← m + a (X − m) + b ξ(sample, step, 0).
    pub fn step(&mut self, ctx: &GpuContext, t_h: f64, a: f64, b: f64, step: u32) {
        self.params.move_samples = 1;
        self.params.a = a as f32;
        self.params.b = b as f32;
        self.params.step = step;
        self.dispatch(ctx, t_h);
    }

    /// The means (count × 4: m padded to 3 coordinates, then log Σ w exp(logit)).
    pub fn read_means(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        self.read(ctx, |c| &c.means, 4, out)
    }

    /// The first `out.len()` position coordinates (heat coordinates, count × dim).
    pub fn read_positions(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        self.read(ctx, |c| &c.positions, self.dim, out)
    }

    /// The first `out.len()` values of a per-sample array of `width` values per sample.
    fn read(
        &self,
        ctx: &GpuContext,
        buffer: impl Fn(&Chunk) -> &wgpu::Buffer,
        width: usize,
        out: &mut [f32],
    ) -> Result<(), GpuError> {
        for c in &self.chunks {
            let from = c.first * width;
            if from >= out.len() {
                break;
            }
            let to = out.len().min((c.first + c.count) * width);
            context::read_buffer(
                ctx,
                buffer(c),
                &self.staging,
                bytemuck::cast_slice_mut(&mut out[from..to]),
            )?;
        }
        Ok(())
    }
}
