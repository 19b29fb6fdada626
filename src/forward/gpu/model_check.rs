//! The model's WGSL functions (shaders/shared/model.wgsl) evaluated on the device for a
//! list of densities (shaders/model_check.wgsl), and the same list through the CPU twin
//! `Physics<f32>`, so that a test compares them value by value.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::model::{ModelParams, ShaderModel};

/// Values per density (see shaders/model_check.wgsl).
pub const OUTPUTS: usize = 10;

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ModelCheckParams {
    model: ShaderModel,
    count: u32,
    log_floor: f32,
    _pad: [u32; 2],
}

/// The layout of `ModelCheckParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const MODEL_CHECK_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(ModelCheckParams { model, count, log_floor });

/// The CPU twin: the same ten values per density, in the same order.
pub fn evaluate_cpu(model: &ModelParams, densities: &[f32], log_floor: f32) -> Vec<f32> {
    let phys = model.physics::<f32>();
    let n = densities.len();
    let mut out = Vec::with_capacity(n * OUTPUTS);
    for (i, &f) in densities.iter().enumerate() {
        let receiver = densities[(i + 1) % n];
        out.extend_from_slice(&[
            phys.nonlinear(f),
            phys.mobility(f),
            phys.mobility_derivative(f),
            phys.mobility_up(f),
            phys.mobility_down(f),
            phys.face_mobility(f, receiver),
            phys.entropy_derivative(f, log_floor),
            phys.drift_factor(f),
            phys.outflow_factor(f),
            phys.power.apply(f),
        ]);
    }
    out
}

/// The device's values for `densities` (at most 65535 × 64).
pub fn evaluate(
    ctx: &GpuContext,
    model: &ModelParams,
    densities: &[f32],
    log_floor: f32,
) -> Result<Vec<f32>, GpuError> {
    let device = &ctx.device;
    let count = densities.len() as u32;
    let params = ModelCheckParams { model: ShaderModel::new(model), count, log_floor, _pad: [0; 2] };
    let init = |label, contents: &[u8], usage| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
    };
    let uniform = init("model check params", bytemuck::bytes_of(&params), wgpu::BufferUsages::UNIFORM);
    let input = init("model check densities", bytemuck::cast_slice(densities), wgpu::BufferUsages::STORAGE);
    let bytes = (densities.len() * OUTPUTS * 4).max(4) as u64;
    let values =
        ctx.buffer("model check values", bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let staging = ctx.buffer(
        "model check read-back",
        bytes,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    );
    let m = registry::MODEL_CHECK;
    let kernels = Kernels::new(ctx, m.name, m.source, &[UNIFORM, READ, READ_WRITE], &["evaluate"]);
    let bind = kernels.bind_group(ctx, "model check", &[&uniform, &input, &values]);
    let pipeline = kernels
        .pipelines
        .first()
        .ok_or_else(|| GpuError::Other("model_check.wgsl: missing pipeline".into()))?;
    let mut encoder =
        device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("model check") });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("model check"),
            timestamp_writes: None,
        });
        pass.set_bind_group(0, &bind, &[]);
        pass.set_pipeline(pipeline);
        pass.dispatch_workgroups(count.div_ceil(64).max(1), 1, 1);
    }
    ctx.queue.submit(Some(encoder.finish()));
    let mut out = vec![0f32; densities.len() * OUTPUTS];
    context::read_buffer(ctx, &values, &staging, bytemuck::cast_slice_mut(&mut out))?;
    Ok(out)
}
