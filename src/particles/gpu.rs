//! The particle system on the device (shaders/particles.wgsl): positions, the fixed-point
//! density grid and the step counter stay on the GPU; many steps per submission. Twin:
//! `particles::ParticleSystem`.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::grid::Grid;
use crate::model::{ModelParams, ShaderModel};
use crate::particles::{deposit, ParticleMethod, ParticleSettings};

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ParticleParams {
    model: ShaderModel,
    count: u32,
    dim: u32,
    cells: u32,
    implicit: u32,
    key: [u32; 2],
    interacting: u32,
    half_width: f32,
    inv_h: f32,
    dt: f32,
    noise: f32,
    lambda: f32,
    unit_density: f32,
    _pad0: u32,
}

/// The layout of `ParticleParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const PARTICLE_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(ParticleParams {
        model,
        count,
        dim,
        cells,
        key,
        implicit,
        interacting,
        half_width,
        inv_h,
        dt,
        noise,
        lambda,
        unit_density
    });

const WG: u32 = 256;

struct Pipelines {
    clear: wgpu::ComputePipeline,
    deposit: wgpu::ComputePipeline,
    to_density: wgpu::ComputePipeline,
    copy: wgpu::ComputePipeline,
    smooth_along: wgpu::ComputePipeline,
    smooth_across: wgpu::ComputePipeline,
    step: wgpu::ComputePipeline,
    next: wgpu::ComputePipeline,
}

pub struct GpuParticles {
    params: ParticleParams,
    diffusion: f64,
    uniform: wgpu::Buffer,
    count: u32,
    dim: usize,
    cells: usize,
    smoothing_sweeps: u32,
    interacting: bool,
    positions: wgpu::Buffer,
    units: wgpu::Buffer,
    density: wgpu::Buffer,
    counter: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    pipelines: Pipelines,
}

/// Workgroups for `items` invocations of 256, folded into two dimensions.
fn groups(items: u32) -> (u32, u32) {
    context::folded_groups(items, WG)
}

impl GpuParticles {
    /// Particles of total mass `mass` at `positions` (interleaved, f64 rounded to f32).
    pub fn new(
        ctx: &GpuContext,
        grid: &Grid,
        model: &ModelParams,
        settings: &ParticleSettings,
        mass: f64,
        positions: &[f64],
    ) -> Result<Self, GpuError> {
        let device = &ctx.device;
        let dim = grid.dim;
        let count = (positions.len() / dim) as u32;
        let bytes = positions.len() as u64 * 4;
        context::check_limits(&device.limits(), bytes.max(grid.len() as u64 * 8), 1)?;
        let unit_mass = mass / (count as f64 * deposit::particle_units(dim) as f64);
        let params = ParticleParams {
            model: ShaderModel::new(model),
            count,
            dim: dim as u32,
            cells: grid.cells as u32,
            key: crate::rng::key(settings.seed),
            implicit: u32::from(settings.stepper == ParticleMethod::DriftImplicit),
            interacting: u32::from(model.beta != 0.0),
            half_width: grid.half_width as f32,
            inv_h: (1.0 / grid.h()) as f32,
            dt: settings.dt as f32,
            noise: (2.0 * model.diffusion * settings.dt).sqrt() as f32,
            lambda: model.lambda as f32,
            unit_density: (unit_mass / grid.cell_volume()) as f32,
            _pad0: 0,
        };
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("particle params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let storage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let x32: Vec<f32> = positions.iter().map(|&x| x as f32).collect();
        let init = |label, contents: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: storage,
            })
        };
        let positions = init("positions", bytemuck::cast_slice(&x32));
        let units = init("density units", bytemuck::cast_slice(&vec![0u32; 2 * grid.len()]));
        let density = init("density", bytemuck::cast_slice(&vec![0f32; grid.len()]));
        let scratch = init("density scratch", bytemuck::cast_slice(&vec![0f32; grid.len()]));
        let counter = init("step counter", bytemuck::cast_slice(&[0u32; 4]));
        let staging = ctx.buffer(
            "particles read-back",
            bytes.max(grid.len() as u64 * 8),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let m = registry::PARTICLES;
        let entries = [
            "clear_units",
            "deposit",
            "to_density",
            "copy_to_scratch",
            "smooth_along",
            "smooth_across",
            "move_particles",
            "next_step",
        ];
        let kernels = Kernels::new(
            ctx,
            m.name,
            m.source,
            &[UNIFORM, READ_WRITE, READ_WRITE, READ_WRITE, READ_WRITE, READ_WRITE],
            &entries,
        );
        let bind_group = kernels.bind_group(
            ctx,
            "particles",
            &[&uniform, &positions, &units, &density, &scratch, &counter],
        );
        let mut it = kernels.pipelines.into_iter();
        let mut next = || it.next().ok_or_else(|| GpuError::Other("particles.wgsl: missing pipeline".into()));
        let pipelines = Pipelines {
            clear: next()?,
            deposit: next()?,
            to_density: next()?,
            copy: next()?,
            smooth_along: next()?,
            smooth_across: next()?,
            step: next()?,
            next: next()?,
        };
        Ok(Self {
            params,
            diffusion: model.diffusion,
            uniform,
            count,
            dim,
            cells: grid.cells,
            smoothing_sweeps: settings.smoothing_sweeps,
            interacting: model.beta != 0.0,
            positions,
            units,
            density,
            counter,
            staging,
            bind_group,
            pipelines,
        })
    }

    /// Change Δt (and the noise amplitude √(2DΔt)) for the following steps.
    pub fn set_dt(&mut self, ctx: &GpuContext, dt: f64) {
        self.params.dt = dt as f32;
        self.params.noise = (2.0 * self.diffusion * dt).sqrt() as f32;
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&self.params));
    }

    fn cells_total(&self) -> u32 {
        self.cells.pow(self.dim as u32) as u32
    }

    fn record_density(&self, pass: &mut wgpu::ComputePass<'_>) {
        let (cx, cy) = groups(2 * self.cells_total());
        pass.set_pipeline(&self.pipelines.clear);
        pass.dispatch_workgroups(cx, cy, 1);
        let (px, py) = groups(self.count);
        pass.set_pipeline(&self.pipelines.deposit);
        pass.dispatch_workgroups(px, py, 1);
        let (gx, gy) = groups(self.cells_total());
        pass.set_pipeline(&self.pipelines.to_density);
        pass.dispatch_workgroups(gx, gy, 1);
        for _ in 0..self.smoothing_sweeps {
            let axes: &[&wgpu::ComputePipeline] = if self.dim == 2 {
                &[&self.pipelines.smooth_across, &self.pipelines.smooth_along]
            } else {
                &[&self.pipelines.smooth_along]
            };
            for sweep in axes {
                pass.set_pipeline(&self.pipelines.copy);
                pass.dispatch_workgroups(gx, gy, 1);
                pass.set_pipeline(sweep);
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
    }

    fn submit(&self, ctx: &GpuContext, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) {
        ctx.submit_pass("particles", |pass| {
            pass.set_bind_group(0, &self.bind_group, &[]);
            record(pass);
        });
    }

    /// `steps` steps in one submission: (density,) move, count.
    pub fn step_n(&self, ctx: &GpuContext, steps: u32) {
        let (px, py) = groups(self.count);
        self.submit(ctx, |pass| {
            for _ in 0..steps {
                if self.interacting {
                    self.record_density(pass);
                }
                pass.set_pipeline(&self.pipelines.step);
                pass.dispatch_workgroups(px, py, 1);
                pass.set_pipeline(&self.pipelines.next);
                pass.dispatch_workgroups(1, 1, 1);
            }
        });
    }

    /// Deposit the current positions (integer grid and density) without stepping.
    pub fn estimate_density(&self, ctx: &GpuContext) {
        self.submit(ctx, |pass| self.record_density(pass));
    }

    pub fn read_positions(&self, ctx: &GpuContext) -> Result<Vec<f32>, GpuError> {
        let mut out = vec![0f32; self.count as usize * self.dim];
        context::read_buffer(ctx, &self.positions, &self.staging, bytemuck::cast_slice_mut(&mut out))?;
        Ok(out)
    }

    /// The integer grid of the last deposition (64-bit units per cell).
    pub fn read_units(&self, ctx: &GpuContext) -> Result<Vec<u64>, GpuError> {
        let mut words = vec![0u32; 2 * self.cells_total() as usize];
        context::read_buffer(ctx, &self.units, &self.staging, bytemuck::cast_slice_mut(&mut words))?;
        Ok(words.chunks_exact(2).map(|w| w[0] as u64 | ((w[1] as u64) << 32)).collect())
    }

    pub fn read_density(&self, ctx: &GpuContext) -> Result<Vec<f32>, GpuError> {
        let mut out = vec![0f32; self.cells_total() as usize];
        context::read_buffer(ctx, &self.density, &self.staging, bytemuck::cast_slice_mut(&mut out))?;
        Ok(out)
    }

    /// Load positions and the generator's step counter (a checkpoint).
    pub fn restore(&self, ctx: &GpuContext, positions: &[f32], steps: u32) -> Result<(), GpuError> {
        if positions.len() != self.count as usize * self.dim {
            return Err(GpuError::Other(format!(
                "a checkpoint of {} coordinates for {} particles",
                positions.len(),
                self.count
            )));
        }
        ctx.queue.write_buffer(&self.positions, 0, bytemuck::cast_slice(positions));
        ctx.queue.write_buffer(&self.counter, 0, bytemuck::cast_slice(&[steps, 0, 0, 0]));
        Ok(())
    }

    pub fn steps(&self, ctx: &GpuContext) -> Result<u32, GpuError> {
        let mut c = [0u32; 4];
        context::read_buffer(ctx, &self.counter, &self.staging, bytemuck::cast_slice_mut(&mut c))?;
        Ok(c[0])
    }
}

/// The particles on a device, with the context that runs them.
pub struct OnDevice {
    ctx: std::sync::Arc<GpuContext>,
    particles: GpuParticles,
}

impl OnDevice {
    pub fn new(ctx: std::sync::Arc<GpuContext>, particles: GpuParticles) -> Self {
        Self { ctx, particles }
    }
}

impl super::ParticleStepper for OnDevice {
    fn step_n(&mut self, steps: u32) -> crate::error::Result<()> {
        // bounded submissions, so that a long run does not build one huge command buffer
        let mut left = steps;
        while left > 0 {
            let batch = left.min(64);
            self.particles.step_n(&self.ctx, batch);
            left -= batch;
        }
        Ok(())
    }
    fn set_dt(&mut self, dt: f64) {
        self.particles.set_dt(&self.ctx, dt);
    }
    fn positions(&mut self) -> crate::error::Result<Vec<f64>> {
        Ok(self.particles.read_positions(&self.ctx)?.iter().map(|&x| x as f64).collect())
    }
    fn density(&mut self) -> crate::error::Result<Vec<f64>> {
        self.particles.estimate_density(&self.ctx);
        Ok(self.particles.read_density(&self.ctx)?.iter().map(|&x| x as f64).collect())
    }
    fn restore(&mut self, positions: &[f64], steps: u32) -> crate::error::Result<()> {
        let x: Vec<f32> = positions.iter().map(|&v| v as f32).collect();
        Ok(self.particles.restore(&self.ctx, &x, steps)?)
    }
}
