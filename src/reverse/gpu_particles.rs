//! Reverse particles on the device, f32 (shaders/reverse_particles.wgsl; CPU twin
//! `reverse::particles::move_particles`). Positions stay on the GPU; each step the host
//! uploads the face velocities it computed from the stored forward density (a grid-sized
//! transfer, independent of the particle count) and the step's Δt and counter.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::grid::Grid;

/// Uniform block of shaders/reverse_particles.wgsl (same field order, 48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct MoveParams {
    count: u32,
    dim: u32,
    n: u32,
    step: u32,
    key: [u32; 2],
    half_width: f32,
    inv_h: f32,
    dt: f32,
    noise: f32,
    _pad: [f32; 2],
}

/// The layout of `MoveParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const MOVE_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(MoveParams { count, dim, n, step, key, half_width, inv_h, dt, noise });

const WG: u32 = 256;

pub struct GpuReverseParticles {
    params: MoveParams,
    eta: f64,
    uniform: wgpu::Buffer,
    positions: wgpu::Buffer,
    along: wgpu::Buffer,
    across: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    pipeline: wgpu::ComputePipeline,
    along_f32: Vec<f32>,
    across_f32: Vec<f32>,
}

impl GpuReverseParticles {
    /// Particles at `positions` (count × dim, axis 0 first; rounded to f32), noise √(2η).
    pub fn new(
        ctx: &GpuContext,
        grid: &Grid,
        eta: f64,
        seed: u64,
        positions: &[f64],
    ) -> Result<Self, GpuError> {
        let (n, dim) = (grid.cells, grid.dim);
        let rows = if dim == 2 { n } else { 1 };
        let count = positions.len() / dim;
        let count32 = u32::try_from(count).map_err(|_| {
            GpuError::Other(format!("{count} reverse particles exceed the device's u32 index"))
        })?;
        let position_bytes = (positions.len() * 4) as u64;
        let along_len = rows * (n + 1);
        let across_len = if dim == 2 { (n + 1) * n } else { 1 };
        context::check_limits(&ctx.device.limits(), position_bytes.max((along_len * 4) as u64), 1)?;
        let params = MoveParams {
            count: count32,
            dim: dim as u32,
            n: n as u32,
            step: 0,
            key: crate::rng::key(seed),
            half_width: grid.half_width as f32,
            inv_h: (1.0 / grid.h()) as f32,
            dt: 0.0,
            noise: 0.0,
            _pad: [0.0; 2],
        };
        let storage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let uniform = ctx.buffer(
            "reverse particle params",
            std::mem::size_of::<MoveParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let x32: Vec<f32> = positions.iter().map(|&x| x as f32).collect();
        let positions = ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("reverse particle positions"),
            contents: bytemuck::cast_slice(&x32),
            usage: storage,
        });
        let along = ctx.buffer("reverse particles: velocities along rows", (along_len * 4) as u64, storage);
        let across =
            ctx.buffer("reverse particles: velocities across rows", (across_len * 4) as u64, storage);
        let staging = ctx.buffer(
            "reverse particles read-back",
            position_bytes.max(4),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let m = registry::REVERSE_PARTICLES;
        let kernels =
            Kernels::new(ctx, m.name, m.source, &[UNIFORM, READ_WRITE, READ, READ], &["move_reverse"]);
        let bind_group =
            kernels.bind_group(ctx, "reverse particles", &[&uniform, &positions, &along, &across]);
        let pipeline = kernels
            .pipelines
            .into_iter()
            .next()
            .ok_or_else(|| GpuError::Other("reverse_particles.wgsl: missing pipeline".into()))?;
        Ok(Self {
            params,
            eta,
            uniform,
            positions,
            along,
            across,
            staging,
            bind_group,
            pipeline,
            along_f32: vec![0.0; along_len],
            across_f32: vec![0.0; across_len],
        })
    }

    /// One step of Δt with face velocities `along` / `across` (the layout of
    /// `SchemeReverse::face_velocities`); `step` numbers the normals.
    pub fn step(&mut self, ctx: &GpuContext, along: &[f64], across: &[f64], dt: f64, step: u32) {
        self.params.dt = dt as f32;
        self.params.noise = (2.0 * self.eta * dt).sqrt() as f32;
        self.params.step = step;
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
        for (dst, src, buf) in
            [(&mut self.along_f32, along, &self.along), (&mut self.across_f32, across, &self.across)]
        {
            if src.is_empty() {
                continue;
            }
            dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s as f32);
            ctx.queue.write_buffer(buf, 0, bytemuck::cast_slice(dst));
        }
        let (gx, gy) = context::folded_groups(self.params.count, WG);
        ctx.submit_pass("reverse particles", |pass| {
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.set_pipeline(&self.pipeline);
            pass.dispatch_workgroups(gx, gy, 1);
        });
    }

    /// Positions (count × dim, axis 0 first).
    pub fn read_positions(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        context::read_buffer(ctx, &self.positions, &self.staging, bytemuck::cast_slice_mut(out))
    }
}
