//! Diagnostics reductions on the device (shaders/reduce.wgsl): a few floats come back.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::grid::Grid;
use crate::model::{EntropyFunction, ModelParams, ShaderModel};

/// Uniform block of reduce.wgsl (same order, 128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ReduceParams {
    model: ShaderModel,
    len: u32,
    n: u32,
    dim: u32,
    records: u32,
    origin: [u32; 4],
    origin_count: u32,
    table_len: u32,
    beta_is_zero: u32,
    lambda: f32,
    diffusion: f32,
    half_width: f32,
    h: f32,
    k_scale: f32,
    table_u0: f32,
    table_du: f32,
    _pad: [f32; 2],
}

/// The layout of `ReduceParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const REDUCE_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout = crate::uniform_layout!(ReduceParams {
    model,
    len,
    n,
    dim,
    records,
    origin,
    origin_count,
    table_len,
    beta_is_zero,
    lambda,
    diffusion,
    half_width,
    h,
    k_scale,
    table_u0,
    table_du
});

/// Sums over the cells (multiply by h^d for integrals).
#[derive(Clone, Copy, Debug, Default)]
pub struct FieldSums {
    pub sum: f64,
    pub sum_squares: f64,
    pub moment: f64,
    pub entropy: f64,
    pub min: f64,
    pub max: f64,
    pub origin: f64,
}

/// Reduces either of two field buffers (the stepper's ping-pong pair).
pub struct GpuReducer {
    records: u32,
    result: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_groups: [wgpu::BindGroup; 2],
    partials: wgpu::ComputePipeline,
    finish: wgpu::ComputePipeline,
}

const WG: u32 = 256;
const MAX_GROUPS: u32 = 65535;

impl GpuReducer {
    pub fn new(
        ctx: &GpuContext,
        grid: &Grid,
        model: &ModelParams,
        fields: &[wgpu::Buffer; 2],
    ) -> Result<Self, GpuError> {
        let device = &ctx.device;
        let len = grid.len() as u32;
        let records = len.div_ceil(WG);
        let entropy = EntropyFunction::new(model);
        let (table, u0, du, scale): (Vec<f32>, f64, f64, f64) = match entropy.table() {
            Some((t, u0, du, scale)) => (t.iter().map(|&v| v as f32).collect(), u0, du, scale),
            None => (vec![0.0, 0.0], 0.0, 1.0, 1.0),
        };
        let origin_cells = grid.origin_cells();
        let mut origin = [0u32; 4];
        for (o, &c) in origin.iter_mut().zip(&origin_cells) {
            *o = c as u32;
        }
        let params = ReduceParams {
            model: ShaderModel::new(model),
            len,
            n: grid.cells as u32,
            dim: grid.dim as u32,
            records,
            origin,
            origin_count: origin_cells.len() as u32,
            table_len: table.len() as u32,
            beta_is_zero: u32::from(model.beta == 0.0),
            lambda: model.lambda as f32,
            diffusion: model.diffusion as f32,
            half_width: grid.half_width as f32,
            h: grid.h() as f32,
            k_scale: scale as f32,
            table_u0: u0 as f32,
            table_du: du as f32,
            _pad: [0.0; 2],
        };
        let init = |label, contents: &[u8], usage| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            })
        };
        let uniform = init("reduce params", bytemuck::bytes_of(&params), wgpu::BufferUsages::UNIFORM);
        let k_table = init("entropy table", bytemuck::cast_slice(&table), wgpu::BufferUsages::STORAGE);
        let buffer = |label, size, usage| ctx.buffer(label, size, usage);
        let record_buffer = buffer("reduce records", records as u64 * 32, wgpu::BufferUsages::STORAGE);
        let result = buffer("reduce result", 32, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let staging =
            buffer("reduce read-back", 32, wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        let kernels = Kernels::new(
            ctx,
            registry::REDUCE.name,
            registry::REDUCE.source,
            &[UNIFORM, READ, READ, READ_WRITE, READ_WRITE],
            &["partials", "finish"],
        );
        let bind = |f| kernels.bind_group(ctx, "reduce", &[&uniform, f, &k_table, &record_buffer, &result]);
        let bind_groups = [bind(&fields[0]), bind(&fields[1])];
        let mut pipelines = kernels.pipelines.into_iter();
        let (partials, finish) = match (pipelines.next(), pipelines.next()) {
            (Some(p), Some(f)) => (p, f),
            _ => return Err(GpuError::Other("reduce.wgsl: missing pipelines".into())),
        };
        Ok(Self { records, result, staging, bind_groups, partials, finish })
    }

    /// Reduce field buffer `which` (0 or 1) and read back its sums.
    pub fn sums(&self, ctx: &GpuContext, which: usize) -> Result<FieldSums, GpuError> {
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("reduce") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("reduce"),
                timestamp_writes: None,
            });
            pass.set_bind_group(0, &self.bind_groups[which], &[]);
            pass.set_pipeline(&self.partials);
            // at most 65535 workgroups per dimension
            let gx = self.records.min(MAX_GROUPS);
            pass.dispatch_workgroups(gx, self.records.div_ceil(gx), 1);
            pass.set_pipeline(&self.finish);
            pass.dispatch_workgroups(1, 1, 1);
        }
        ctx.queue.submit(Some(encoder.finish()));
        let mut r = [0f32; 8];
        context::read_buffer(ctx, &self.result, &self.staging, bytemuck::cast_slice_mut(&mut r))?;
        Ok(FieldSums {
            sum: r[0] as f64,
            sum_squares: r[1] as f64,
            moment: r[2] as f64,
            entropy: r[3] as f64,
            min: r[4] as f64,
            max: r[5] as f64,
            origin: r[6] as f64,
        })
    }
}
