//! Point-cloud scores and the reverse samplers on the device, f32 (shaders/score.wgsl;
//! CPU twins `model::score::posterior_means` and `diffusion::sampler::CpuSampler`): the
//! data and the samples (heat coordinates) stay on the GPU; one dispatch per step.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use super::shaders;
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
    _pad: [u32; 2],
}

const WG: u32 = 256;

pub struct GpuSampler {
    params: ScoreParams,
    uniform: wgpu::Buffer,
    positions: wgpu::Buffer,
    means: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    pipeline: wgpu::ComputePipeline,
}

impl GpuSampler {
    /// The cloud and samples at `positions` (heat coordinates, count × dim).
    pub fn new(ctx: &GpuContext, cloud: &PointCloud, positions: &[f64], seed: u64) -> Result<Self, GpuError> {
        let dim = cloud.dim;
        let count = positions.len() / dim;
        let too_many =
            |what: &str, n: usize| GpuError::Other(format!("{n} {what} exceed the device's u32 index"));
        let count32 = u32::try_from(count).map_err(|_| too_many("samples", count))?;
        let n_data = u32::try_from(cloud.len()).map_err(|_| too_many("data points", cloud.len()))?;
        let means_bytes = (count.max(1) * 16) as u64;
        context::check_limits(&ctx.device.limits(), means_bytes.max((cloud.len() * 16) as u64), 1)?;
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
        let x32: Vec<f32> = positions.iter().map(|&x| x as f32).collect();
        let positions = init("score samples", bytemuck::cast_slice(&x32));
        let means = ctx.buffer("score means", means_bytes, storage);
        let uniform = ctx.buffer(
            "score params",
            std::mem::size_of::<ScoreParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let staging = ctx.buffer(
            "score read-back",
            means_bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let m = shaders::SCORE;
        let kernels = Kernels::new(
            ctx,
            m.name,
            m.source,
            &[UNIFORM, READ, READ_WRITE, READ_WRITE],
            &["posterior_step"],
        );
        let bind_group = kernels.bind_group(ctx, "score", &[&uniform, &data, &positions, &means]);
        let pipeline = kernels
            .pipelines
            .into_iter()
            .next()
            .ok_or_else(|| GpuError::Other("score.wgsl: missing pipeline".into()))?;
        let params = ScoreParams {
            count: count32,
            n_data,
            dim: dim as u32,
            step: 0,
            key: crate::rng::key(seed),
            inv_4t: 0.0,
            a: 0.0,
            b: 0.0,
            move_samples: 0,
            _pad: [0; 2],
        };
        Ok(Self { params, uniform, positions, means, staging, bind_group, pipeline })
    }

    fn dispatch(&mut self, ctx: &GpuContext, t_h: f64) {
        self.params.inv_4t = (0.25 / t_h) as f32;
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
        let (gx, gy) = context::folded_groups(self.params.count, WG);
        ctx.submit_pass("score", |pass| {
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.set_pipeline(&self.pipeline);
            pass.dispatch_workgroups(gx, gy, 1);
        });
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
        context::read_buffer(ctx, &self.means, &self.staging, bytemuck::cast_slice_mut(out))
    }

    /// The first `out.len()` position coordinates (heat coordinates, count × dim).
    pub fn read_positions(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        context::read_buffer(ctx, &self.positions, &self.staging, bytemuck::cast_slice_mut(out))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uniform_block_matches_the_shader() {
        let size = super::shaders::struct_size(&super::shaders::SCORE, "Params");
        assert_eq!(size, std::mem::size_of::<super::ScoreParams>());
    }
}
