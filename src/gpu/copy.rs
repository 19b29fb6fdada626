//! The copy kernel (shaders/copy.wgsl): the device's read-once/write-once bandwidth,
//! measured with the adapter's own timestamps, as the yardstick of the stencil kernels.

use super::context::{self, GpuContext, Kernels, PassTimer, READ, READ_WRITE};
use super::registry;
use crate::error::GpuError;

const WG: u32 = 256;

/// Two buffers of `bytes` (a multiple of 16) and the copy pipeline between them.
pub struct CopyKernel {
    buffers: [wgpu::Buffer; 2],
    bind_group: wgpu::BindGroup,
    pipeline: wgpu::ComputePipeline,
    bytes: u64,
}

impl CopyKernel {
    pub fn new(ctx: &GpuContext, bytes: u64) -> Result<Self, GpuError> {
        let bytes = bytes.div_ceil(16) * 16;
        context::check_limits(&ctx.device.limits(), bytes, 1)?;
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let buffers = [ctx.buffer("copy source", bytes, usage), ctx.buffer("copy target", bytes, usage)];
        let m = registry::COPY;
        let kernels = Kernels::new(ctx, m.name, m.source, &[READ, READ_WRITE], &["copy"]);
        let bind_group = kernels.bind_group(ctx, "copy", &[&buffers[0], &buffers[1]]);
        let pipeline =
            kernels.pipelines.into_iter().next().ok_or(GpuError::Other("copy: no pipeline".into()))?;
        Ok(Self { buffers, bind_group, pipeline, bytes })
    }

    pub fn upload(&self, ctx: &GpuContext, values: &[f32]) {
        ctx.queue.write_buffer(&self.buffers[0], 0, bytemuck::cast_slice(values));
    }

    /// `times` copies in one pass, timed by `timer` when given.
    pub fn run(&self, ctx: &GpuContext, times: u32, timer: Option<&PassTimer>) {
        let (gx, gy) = context::folded_groups((self.bytes / 16) as u32, WG);
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("copy") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("copy"),
                timestamp_writes: timer.map(|t| t.writes()),
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            for _ in 0..times {
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        if let Some(t) = timer {
            t.resolve(&mut encoder);
        }
        ctx.queue.submit(Some(encoder.finish()));
    }

    /// The target buffer's first `out.len()` values.
    pub fn read_target(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        let staging = ctx.buffer(
            "copy read-back",
            self.bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        context::read_buffer(ctx, &self.buffers[1], &staging, bytemuck::cast_slice_mut(out))
    }

    /// Bytes moved per copy: each byte read once and written once.
    pub fn bytes_moved(&self) -> u64 {
        2 * self.bytes
    }
}

/// The CPU twin: what the kernel does to the target.
pub fn copy_twin(source: &[f32], target: &mut [f32]) {
    target.copy_from_slice(source);
}
