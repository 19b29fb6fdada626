//! The shared generator run on the device for a range of ids (shaders/rng_check.wgsl), so
//! tests can compare it with its CPU twin `rng`.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ_WRITE, UNIFORM};
use crate::gpu::registry;

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct CheckParams {
    key: [u32; 2],
    first: u32,
    count: u32,
    step: u32,
    draw: u32,
    word3: u32,
    _pad: u32,
}

/// The layout of `CheckParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const CHECK_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(CheckParams { key, first, count, step, draw, word3 });

/// Where one run of the check starts: counters (first + i, step, draw, word3).
#[derive(Clone, Copy, Debug)]
pub struct CounterRange {
    pub key: [u32; 2],
    pub first: u32,
    pub count: u32,
    pub step: u32,
    pub draw: u32,
    pub word3: u32,
}

/// What the device generated for each id of a range.
pub struct Generated {
    /// Philox of (first + i, step, draw, word3).
    pub ints: Vec<[u32; 4]>,
    /// The four normals of (first + i, step, draw).
    pub normals: Vec<[f32; 4]>,
}

pub fn generate(ctx: &GpuContext, r: CounterRange) -> Result<Generated, GpuError> {
    let device = &ctx.device;
    let params = CheckParams {
        key: r.key,
        first: r.first,
        count: r.count,
        step: r.step,
        draw: r.draw,
        word3: r.word3,
        _pad: 0,
    };
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("rng check params"),
        contents: bytemuck::bytes_of(&params),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let bytes = r.count.max(1) as u64 * 16;
    let buffer = |label, usage| ctx.buffer(label, bytes, usage);
    let out = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let ints = buffer("rng ints", out);
    let normals = buffer("rng normals", out);
    let staging = buffer("rng read-back", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
    let m = registry::RNG_CHECK;
    let kernels = Kernels::new(ctx, m.name, m.source, &[UNIFORM, READ_WRITE, READ_WRITE], &["generate"]);
    let bind = kernels.bind_group(ctx, "rng check", &[&uniform, &ints, &normals]);
    let pipeline = kernels
        .pipelines
        .first()
        .ok_or_else(|| GpuError::Other("rng_check.wgsl: missing pipeline".into()))?;
    let mut encoder =
        device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("rng check") });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("rng check"),
            timestamp_writes: None,
        });
        pass.set_bind_group(0, &bind, &[]);
        pass.set_pipeline(pipeline);
        let groups = r.count.div_ceil(64);
        let gx = groups.min(65535);
        pass.dispatch_workgroups(gx, groups.div_ceil(gx.max(1)), 1);
    }
    ctx.queue.submit(Some(encoder.finish()));
    let mut u = vec![[0u32; 4]; r.count as usize];
    context::read_buffer(ctx, &ints, &staging, bytemuck::cast_slice_mut(&mut u))?;
    let mut z = vec![[0f32; 4]; r.count as usize];
    context::read_buffer(ctx, &normals, &staging, bytemuck::cast_slice_mut(&mut z))?;
    Ok(Generated { ints: u, normals: z })
}
