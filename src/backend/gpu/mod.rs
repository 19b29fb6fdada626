//! GPU backend (wgpu). So far: the device context and the forward-Euler upwind step
//! with ping-pong buffers (both bind groups made once, many steps per submission).
//! Adaptive Δt on the device, reductions, the gradient-flow scheme, SSP-RK2 and the
//! `Backend` implementation are still to come (issue 3).

pub mod context;
pub mod shaders;

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

pub use context::{GpuContext, GpuError};

use crate::grid::Grid;
use crate::model::{ModelParams, Power};

/// Uniform block of shaders/fv_upwind.wgsl (same field order, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct UpwindParams {
    n: u32,
    dim: u32,
    gamma_is_two: u32,
    _pad: u32,
    dt_over_h: f32,
    diffusion_over_h: f32,
    lambda: f32,
    beta: f32,
    gamma: f32,
    half_width: f32,
    h: f32,
    _pad2: f32,
}

const WORKGROUP: u32 = 16;

/// The upwind forward-Euler step on the device, f32, fixed Δt.
pub struct GpuUpwind {
    grid: Grid,
    params: UpwindParams,
    uniform: wgpu::Buffer,
    fields: [wgpu::Buffer; 2],
    staging: wgpu::Buffer,
    bind_groups: [wgpu::BindGroup; 2],
    pipeline: wgpu::ComputePipeline,
    /// Which of `fields` holds the current state.
    current: usize,
}

impl GpuUpwind {
    pub fn new(ctx: &GpuContext, grid: &Grid, model: &ModelParams, dt: f64) -> Result<Self, GpuError> {
        let bytes = (grid.len() * 4) as u64;
        context::check_limits(&ctx.device.limits(), bytes, grid.dim)?;
        let device = &ctx.device;
        let h = grid.h();
        let params = UpwindParams {
            n: grid.cells as u32,
            dim: grid.dim as u32,
            gamma_is_two: u32::from(model.power() == Power::Two),
            _pad: 0,
            dt_over_h: (dt / h) as f32,
            diffusion_over_h: (model.diffusion / h) as f32,
            lambda: model.lambda as f32,
            beta: model.beta as f32,
            gamma: model.gamma as f32,
            half_width: grid.half_width as f32,
            h: h as f32,
            _pad2: 0.0,
        };
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("upwind params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let field = |label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let fields = [field("field a"), field("field b")];
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("fv_upwind.wgsl"),
            source: wgpu::ShaderSource::Wgsl(shaders::FV_UPWIND.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("upwind euler"),
            layout: None,
            module: &module,
            entry_point: Some("step_euler"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let bind = |src: &wgpu::Buffer, dst: &wgpu::Buffer| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("upwind ping-pong"),
                layout: &layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 1, resource: src.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 2, resource: dst.as_entire_binding() },
                ],
            })
        };
        let bind_groups = [bind(&fields[0], &fields[1]), bind(&fields[1], &fields[0])];
        Ok(Self { grid: grid.clone(), params, uniform, fields, staging, bind_groups, pipeline, current: 0 })
    }

    pub fn upload(&mut self, ctx: &GpuContext, field: &[f32]) {
        self.current = 0;
        ctx.queue.write_buffer(&self.fields[0], 0, bytemuck::cast_slice(field));
    }

    pub fn set_dt(&mut self, ctx: &GpuContext, dt: f64) {
        self.params.dt_over_h = (dt / self.grid.h()) as f32;
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
    }

    /// Record `steps` steps into one command buffer and submit it.
    pub fn step_n(&mut self, ctx: &GpuContext, steps: u32) {
        let n = self.grid.cells as u32;
        let rows = if self.grid.dim == 2 { n } else { 1 };
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("steps") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("upwind"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            for _ in 0..steps {
                pass.set_bind_group(0, &self.bind_groups[self.current], &[]);
                pass.dispatch_workgroups(n.div_ceil(WORKGROUP), rows.div_ceil(WORKGROUP), 1);
                self.current = 1 - self.current;
            }
        }
        ctx.queue.submit(Some(encoder.finish()));
    }

    /// Copy the current field to the host.
    pub fn read_back(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        let bytes = (self.grid.len() * 4) as u64;
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("read-back") });
        encoder.copy_buffer_to_buffer(&self.fields[self.current], 0, &self.staging, 0, bytes);
        ctx.queue.submit(Some(encoder.finish()));
        let slice = self.staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Other(e.to_string()))?;
        rx.recv()
            .map_err(|e| GpuError::Other(e.to_string()))?
            .map_err(|e| GpuError::Other(format!("cannot map the read-back buffer: {e}")))?;
        {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Other(format!("cannot read the mapped buffer: {e}")))?;
            out.copy_from_slice(bytemuck::cast_slice(&view));
        }
        self.staging.unmap();
        Ok(())
    }
}
