//! The reverse-time PDE with log-difference face scores on the device, f32
//! (shaders/reverse_pde.wgsl; CPU twin `reverse::pde::ReversePde`): face velocities of a
//! frozen forward density, then explicit steps of g, ping-pong, many per submission.

use bytemuck::{Pod, Zeroable};

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::grid::Grid;
use crate::model::{ModelParams, ShaderModel};
use crate::reverse::pde::FaceFlux;

/// Uniform block of shaders/reverse_pde.wgsl (same field order, 112 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ReverseParams {
    model: ShaderModel,
    n: u32,
    dim: u32,
    flux_kind: u32,
    h: f32,
    half_width: f32,
    lambda: f32,
    diffusion: f32,
    eta: f32,
    log_floor: f32,
    dt: f32,
    _pad1: [f32; 6],
}

/// The layout of `ReverseParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const REVERSE_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(ReverseParams {
        model,
        n,
        dim,
        flux_kind,
        h,
        half_width,
        lambda,
        diffusion,
        eta,
        log_floor,
        dt
    });

const WG: u32 = 64;

/// Workgroups for `items` invocations of 64, folded into two dimensions.
fn groups(items: usize) -> (u32, u32) {
    context::folded_groups(items as u32, WG)
}

pub struct GpuReversePde {
    grid: Grid,
    params: ReverseParams,
    uniform: wgpu::Buffer,
    forward: wgpu::Buffer,
    along: wgpu::Buffer,
    across: wgpu::Buffer,
    g: [wgpu::Buffer; 2],
    staging: wgpu::Buffer,
    bind_groups: [wgpu::BindGroup; 2],
    velocities: wgpu::ComputePipeline,
    step: wgpu::ComputePipeline,
    current: usize,
}

impl GpuReversePde {
    pub fn new(
        ctx: &GpuContext,
        grid: &Grid,
        model: &ModelParams,
        eta: f64,
        log_floor: f64,
    ) -> Result<Self, GpuError> {
        let n = grid.cells;
        let rows = if grid.dim == 2 { n } else { 1 };
        let field_bytes = (grid.len() * 4) as u64;
        let along_bytes = (rows * (n + 1) * 4) as u64;
        let across_bytes = if grid.dim == 2 { ((n + 1) * n * 4) as u64 } else { 4 };
        context::check_limits(&ctx.device.limits(), along_bytes.max(across_bytes), grid.dim)?;
        let params = ReverseParams {
            model: ShaderModel::new(model),
            n: n as u32,
            dim: grid.dim as u32,
            flux_kind: 0,
            h: grid.h() as f32,
            half_width: grid.half_width as f32,
            lambda: model.lambda as f32,
            diffusion: model.diffusion as f32,
            eta: eta as f32,
            log_floor: log_floor.max(f32::MIN_POSITIVE as f64) as f32,
            dt: 0.0,
            _pad1: [0.0; 6],
        };
        let storage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let uniform = ctx.buffer(
            "reverse params",
            std::mem::size_of::<ReverseParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let forward = ctx.buffer("reverse: forward f", field_bytes, storage);
        let along = ctx.buffer("reverse: velocities along rows", along_bytes, storage);
        let across = ctx.buffer("reverse: velocities across rows", across_bytes, storage);
        let g = [
            ctx.buffer("reverse: g a", field_bytes, storage),
            ctx.buffer("reverse: g b", field_bytes, storage),
        ];
        let staging = ctx.buffer(
            "reverse read-back",
            field_bytes.max(along_bytes),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let m = registry::REVERSE_PDE;
        let kernels = Kernels::new(
            ctx,
            m.name,
            m.source,
            &[UNIFORM, READ, READ_WRITE, READ_WRITE, READ, READ_WRITE],
            &["velocities", "step"],
        );
        let bind = |src: &wgpu::Buffer, dst: &wgpu::Buffer| {
            kernels.bind_group(ctx, "reverse ping-pong", &[&uniform, &forward, &along, &across, src, dst])
        };
        let bind_groups = [bind(&g[0], &g[1]), bind(&g[1], &g[0])];
        let mut it = kernels.pipelines.into_iter();
        let mut next =
            || it.next().ok_or_else(|| GpuError::Other("reverse_pde.wgsl: missing pipeline".into()));
        let velocities = next()?;
        let step = next()?;
        ctx.queue.write_buffer(&uniform, 0, bytemuck::bytes_of(&params));
        Ok(Self {
            grid: grid.clone(),
            params,
            uniform,
            forward,
            along,
            across,
            g,
            staging,
            bind_groups,
            velocities,
            step,
            current: 0,
        })
    }

    /// Freeze the forward density f (= f(T − s)): compute the face velocities.
    pub fn set_forward(&self, ctx: &GpuContext, f: &[f32]) {
        ctx.queue.write_buffer(&self.forward, 0, bytemuck::cast_slice(f));
        let n = self.grid.cells;
        let (gx, gy) = groups((n + 1) * n);
        ctx.submit_pass("reverse", |pass| {
            pass.set_bind_group(0, &self.bind_groups[self.current], &[]);
            pass.set_pipeline(&self.velocities);
            pass.dispatch_workgroups(gx, gy, 1);
        });
    }

    /// Use another face flux (twin of `ReversePde::with_flux`).
    pub fn set_flux(&mut self, ctx: &GpuContext, flux: FaceFlux) {
        self.params.flux_kind = match flux {
            FaceFlux::Upwind => 0,
            FaceFlux::ScharfetterGummel => 1,
        };
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
    }

    /// Set the face velocities directly (twin of `ReversePde::set_face_velocities`).
    pub fn set_velocities(&self, ctx: &GpuContext, along: &[f32], across: &[f32]) {
        ctx.queue.write_buffer(&self.along, 0, bytemuck::cast_slice(along));
        if !across.is_empty() {
            ctx.queue.write_buffer(&self.across, 0, bytemuck::cast_slice(across));
        }
    }

    pub fn upload(&mut self, ctx: &GpuContext, g: &[f32]) {
        self.current = 0;
        ctx.queue.write_buffer(&self.g[0], 0, bytemuck::cast_slice(g));
    }

    /// `steps` explicit steps of Δt with the frozen velocities, in one submission.
    pub fn step_n(&mut self, ctx: &GpuContext, steps: u32, dt: f64) {
        self.params.dt = dt as f32;
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
        let (gx, gy) = groups(self.grid.len());
        let mut current = self.current;
        ctx.submit_pass("reverse", |pass| {
            pass.set_pipeline(&self.step);
            for _ in 0..steps {
                pass.set_bind_group(0, &self.bind_groups[current], &[]);
                pass.dispatch_workgroups(gx, gy, 1);
                current = 1 - current;
            }
        });
        self.current = current;
    }

    pub fn read_g(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        context::read_buffer(ctx, &self.g[self.current], &self.staging, bytemuck::cast_slice_mut(out))
    }

    /// The velocities along rows (rows × (N + 1)), for checks against the CPU twin.
    pub fn read_velocities_along(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        context::read_buffer(ctx, &self.along, &self.staging, bytemuck::cast_slice_mut(out))
    }
}
