//! The device step of either finite-volume scheme (shaders/fv_*.wgsl with
//! shaders/shared/fv_step.wgsl): forward Euler or SSP-RK2 with its time step kept on the
//! device (adaptive or fixed), one pass per step or per `steps_per_pass` steps (temporal
//! blocking), ping-pong buffers with their bind groups made once.
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::gpu::context::{self, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::gpu::{GpuContext, GpuError};

use crate::config::{Integrator, SchemeKind};
use crate::forward::cpu::Discretisation;
use crate::forward::DtPolicy;
use crate::grid::Grid;
use crate::model::ShaderModel;

/// Uniform block of shaders/fv_step.wgsl (same field order, 112 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct StepParams {
    model: ShaderModel,
    n: u32,
    dim: u32,
    adaptive: u32,
    diffusion_over_h: f32,
    lambda: f32,
    half_width: f32,
    h: f32,
    safety: f32,
    diffusive_rate: f32,
    fixed_dt: f32,
    rate_scale: f32,
    diffusion: f32,
    log_floor: f32,
    inv_h: f32,
    _pad: [f32; 2],
}

/// The layout of `ShaderModel` (shaders/shared/model.wgsl `Model`), checked against the
/// shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const MODEL_LAYOUT: crate::gpu::registry::UniformLayout = {
    use crate::model::ShaderModel as Model;
    crate::uniform_layout!(Model {
        power_kind,
        statistics,
        beta,
        gamma,
        inv_gamma,
        lipschitz_factor,
        peak,
        peak_mobility,
        inflow_factor
    })
};

/// The layout of `StepParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const STEP_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout = crate::uniform_layout!(StepParams {
    model,
    n,
    dim,
    adaptive,
    diffusion_over_h,
    lambda,
    half_width,
    h,
    safety,
    diffusive_rate,
    fixed_dt,
    rate_scale,
    diffusion,
    log_floor,
    inv_h
});

/// The device-side time-stepping state (shaders/fv_step.wgsl `StepState`, 64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct StepState {
    /// Δt of the next step (0 once t_stop is reached).
    pub dt: f32,
    pub t_hi: f32,
    pub t_lo: f32,
    pub t_stop: f32,
    /// Steps taken with Δt > 0 since the upload.
    pub steps: u32,
    /// Step bound of the current field.
    pub bound: f32,
    rate_bits: u32,
    max_bits: u32,
    /// Max density of the current field.
    pub max_density: f32,
    /// Non-zero when a step wrote NaN or Inf.
    pub nonfinite: u32,
    /// Δt of the last step taken.
    pub dt_last: f32,
    done: u32,
    /// Non-zero when a blocked pass's frozen Δt exceeded the bound of one of its fields.
    pub overstep: u32,
    _pad: [u32; 3],
}

/// The layout of `StepState`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const STEP_STATE_LAYOUT: crate::gpu::registry::UniformLayout = crate::uniform_layout!(StepState {
    dt,
    t_hi,
    t_lo,
    t_stop,
    steps,
    bound,
    rate_bits,
    max_bits,
    max_density,
    nonfinite,
    dt_last,
    done,
    overstep
});

impl StepState {
    /// t as the compensated f32 sum of the steps.
    pub fn t(&self) -> f64 {
        self.t_hi as f64 + self.t_lo as f64
    }
}

/// Own cells of a workgroup's tile (shaders/shared/fv_step.wgsl `TILE`, `ROW_TILE`).
const TILE: u32 = 32;
const ROW_TILE: u32 = 1024;
const STATE_BYTES: u64 = std::mem::size_of::<StepState>() as u64;

struct Pipelines {
    /// `step` with LEVELS = 0: the bound and Δt of the field as it is.
    measure: wgpu::ComputePipeline,
    /// One step per pass.
    single: wgpu::ComputePipeline,
    /// `steps_per_pass` steps per pass (None when that is 1).
    blocked: Option<wgpu::ComputePipeline>,
    clip_dt: wgpu::ComputePipeline,
}

/// The step of either scheme on the device, f32.
pub struct GpuStepper {
    grid: Grid,
    fields: [wgpu::Buffer; 2],
    state: wgpu::Buffer,
    staging: wgpu::Buffer,
    state_staging: wgpu::Buffer,
    bind_groups: [wgpu::BindGroup; 2],
    pipelines: Pipelines,
    /// Which of `fields` holds the current state.
    current: usize,
    /// A copy of the field and stepping state (and which buffer was current) taken before
    /// a batch, so that a batch ending in NaN/Inf can be undone.
    kept: (wgpu::Buffer, wgpu::Buffer, usize),
    /// Steps per pass of the blocked pipeline.
    steps_per_pass: u32,
}

impl GpuStepper {
    pub fn new(ctx: &GpuContext, disc: &Discretisation) -> Result<Self, GpuError> {
        let (grid, model) = (&disc.grid, &disc.params);
        let bytes = (grid.len() * 4) as u64;
        context::check_limits(&ctx.device.limits(), bytes, grid.dim)?;
        crate::kinds::check_steps_per_pass(disc.scheme, disc.integrator, disc.steps_per_pass)
            .map_err(|why| GpuError::Other(format!("steps_per_pass {why}")))?;
        let device = &ctx.device;
        let h = grid.h();
        let (adaptive, safety, fixed_dt) = match disc.dt {
            DtPolicy::Adaptive { safety } => (1, safety, 0.0),
            DtPolicy::Fixed(dt) => (0, 1.0, dt),
        };
        let gradient_flow = disc.scheme == SchemeKind::GradientFlow;
        let params = StepParams {
            model: ShaderModel::new(model),
            n: grid.cells as u32,
            dim: grid.dim as u32,
            adaptive,
            diffusion_over_h: (model.diffusion / h) as f32,
            lambda: model.lambda as f32,
            half_width: grid.half_width as f32,
            h: h as f32,
            safety: safety as f32,
            diffusive_rate: (2.0 * grid.dim as f64 * model.diffusion / (h * h)) as f32,
            fixed_dt: fixed_dt as f32,
            // upwind folds the bound's weight Σ (|x| − h/2)⁺ (…); gradient flow its rate
            rate_scale: if gradient_flow { 1.0 } else { (model.lambda / h) as f32 },
            diffusion: model.diffusion as f32,
            log_floor: disc.log_floor as f32,
            inv_h: (1.0 / h) as f32,
            _pad: [0.0; 2],
        };
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("step params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let half_lambda_x2: Vec<f32> =
            grid.centres().iter().map(|x| (0.5 * model.lambda * x * x) as f32).collect();
        let potential = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("lambda x^2 / 2"),
            contents: bytemuck::cast_slice(&half_lambda_x2),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let buffer = |label, size, usage| ctx.buffer(label, size, usage);
        let storage =
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        let read_back = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let fields = [buffer("field a", bytes, storage), buffer("field b", bytes, storage)];
        let state = buffer("step state", STATE_BYTES, storage);
        let staging = buffer("field read-back", bytes, read_back);
        let kept = (buffer("kept field", bytes, storage), buffer("kept state", STATE_BYTES, storage), 0);
        let state_staging = buffer("state read-back", STATE_BYTES, read_back);
        let rk2 = f64::from(u8::from(disc.integrator == Integrator::SspRk2));
        let step = |levels: u32| ("step", vec![("LEVELS", f64::from(levels)), ("RK2", rk2)]);
        let mut entries = vec![step(0), step(1), ("clip_dt", Vec::new())];
        if disc.steps_per_pass > 1 {
            entries.push(step(disc.steps_per_pass));
        }
        let module = if gradient_flow { registry::FV_GRADIENT_FLOW } else { registry::FV_UPWIND };
        // binding 4 (λx²/2) is read by the gradient-flow part only
        let kernels = Kernels::specialised(
            ctx,
            module.name,
            module.source,
            &[UNIFORM, READ, READ_WRITE, READ_WRITE, READ],
            &entries,
        );
        let bind =
            |src, dst| kernels.bind_group(ctx, "step ping-pong", &[&uniform, src, dst, &state, &potential]);
        let bind_groups = [bind(&fields[0], &fields[1]), bind(&fields[1], &fields[0])];
        let mut it = kernels.pipelines.into_iter();
        let mut next = || it.next().expect("one pipeline per entry point");
        let pipelines = Pipelines {
            measure: next(),
            single: next(),
            clip_dt: next(),
            blocked: (disc.steps_per_pass > 1).then(&mut next),
        };
        Ok(Self {
            grid: grid.clone(),
            fields,
            state,
            staging,
            state_staging,
            bind_groups,
            pipelines,
            current: 0,
            kept,
            steps_per_pass: disc.steps_per_pass,
        })
    }

    /// One workgroup per tile.
    fn workgroups(&self) -> (u32, u32) {
        let n = self.grid.cells as u32;
        if self.grid.dim == 2 {
            (n.div_ceil(TILE), n.div_ceil(TILE))
        } else {
            (n.div_ceil(ROW_TILE), 1)
        }
    }

    /// Steps per pass of the blocked pipeline (1: none).
    pub fn steps_per_pass(&self) -> u32 {
        self.steps_per_pass
    }

    /// Load a field at time t (no stop time yet) and compute its step bound and Δt.
    pub fn upload(&mut self, ctx: &GpuContext, field: &[f32], t: f64) {
        self.current = 0;
        ctx.queue.write_buffer(&self.fields[0], 0, bytemuck::cast_slice(field));
        let state = StepState {
            t_hi: t as f32,
            t_lo: (t - t as f32 as f64) as f32,
            t_stop: f32::MAX,
            ..Default::default()
        };
        ctx.queue.write_buffer(&self.state, 0, bytemuck::bytes_of(&state));
        let (gx, gy) = self.workgroups();
        self.submit(ctx, None, |pass, groups| {
            pass.set_bind_group(0, &groups[0], &[]);
            pass.set_pipeline(&self.pipelines.measure);
            pass.dispatch_workgroups(gx, gy, 1);
        });
    }

    /// Steps will not pass `t_stop`: the last one is shortened to land on it.
    pub fn set_t_stop(&mut self, ctx: &GpuContext, t_stop: f64) {
        ctx.queue.write_buffer(&self.state, 12, bytemuck::bytes_of(&(t_stop as f32)));
        self.submit(ctx, None, |pass, groups| {
            pass.set_bind_group(0, &groups[0], &[]);
            pass.set_pipeline(&self.pipelines.clip_dt);
            pass.dispatch_workgroups(1, 1, 1);
        });
    }

    fn submit(
        &self,
        ctx: &GpuContext,
        timer: Option<&context::PassTimer>,
        record: impl FnOnce(&mut wgpu::ComputePass<'_>, &[wgpu::BindGroup; 2]),
    ) {
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("fpgen") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("fpgen step"),
                timestamp_writes: timer.map(|t| t.writes()),
            });
            record(&mut pass, &self.bind_groups);
        }
        if let Some(t) = timer {
            t.resolve(&mut encoder);
        }
        ctx.queue.submit(Some(encoder.finish()));
    }

    /// Record `steps` steps into one submission, `steps_per_pass` per pass where they
    /// fit (`blocked`) and one per pass otherwise: no read-back. Every pass ping-pongs.
    pub fn step_n(&mut self, ctx: &GpuContext, steps: u32, blocked: bool) {
        self.step_n_timed(ctx, steps, blocked, None);
    }

    /// `step_n` in one compute pass timed by `timer` (when given).
    pub fn step_n_timed(
        &mut self,
        ctx: &GpuContext,
        steps: u32,
        blocked: bool,
        timer: Option<&context::PassTimer>,
    ) {
        let (gx, gy) = self.workgroups();
        let mut current = self.current;
        let per_pass = if blocked { self.steps_per_pass } else { 1 };
        let blocked_passes = if per_pass > 1 { steps / per_pass } else { 0 };
        let single_passes = steps - blocked_passes * per_pass;
        self.submit(ctx, timer, |pass, groups| {
            let passes = std::iter::repeat_n(&self.pipelines.blocked, blocked_passes as usize)
                .map(|p| p.as_ref().expect("a blocked pipeline when steps_per_pass > 1"))
                .chain(std::iter::repeat_n(&self.pipelines.single, single_passes as usize));
            for pipeline in passes {
                pass.set_bind_group(0, &groups[current], &[]);
                pass.set_pipeline(pipeline);
                pass.dispatch_workgroups(gx, gy, 1);
                current = 1 - current;
            }
        });
        self.current = current;
    }

    /// Copy the current field and stepping state aside on the device (one field copy).
    pub fn keep(&mut self, ctx: &GpuContext) {
        self.copy(ctx, true);
        self.kept.2 = self.current;
    }

    /// Go back to the field and stepping state of the last `keep`.
    pub fn restore_kept(&mut self, ctx: &GpuContext) {
        self.current = self.kept.2;
        self.copy(ctx, false);
    }

    fn copy(&self, ctx: &GpuContext, to_kept: bool) {
        let (field, state) = (&self.fields[self.current], &self.state);
        let (kept_field, kept_state) = (&self.kept.0, &self.kept.1);
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("keep") });
        for (live, kept, size) in [(field, kept_field, field.size()), (state, kept_state, STATE_BYTES)] {
            let (from, to) = if to_kept { (live, kept) } else { (kept, live) };
            encoder.copy_buffer_to_buffer(from, 0, to, 0, size);
        }
        ctx.queue.submit(Some(encoder.finish()));
    }

    /// The few numbers of the stepping state (t, Δt, bound, steps, max density).
    pub fn read_state(&self, ctx: &GpuContext) -> Result<StepState, GpuError> {
        let mut s = StepState::default();
        context::read_buffer(ctx, &self.state, &self.state_staging, bytemuck::bytes_of_mut(&mut s))?;
        Ok(s)
    }

    /// Put back the time pair and the step bound of a checkpoint (after `upload`, which
    /// splits t afresh and measures the bound), and re-choose Δt from them.
    pub fn restore_time_and_bound(
        &mut self,
        ctx: &GpuContext,
        t_hi: f32,
        t_lo: f32,
        bound: f32,
    ) -> Result<(), GpuError> {
        let mut state = self.read_state(ctx)?;
        state.t_hi = t_hi;
        state.t_lo = t_lo;
        state.bound = bound;
        ctx.queue.write_buffer(&self.state, 0, bytemuck::bytes_of(&state));
        self.submit(ctx, None, |pass, groups| {
            pass.set_bind_group(0, &groups[0], &[]);
            pass.set_pipeline(&self.pipelines.clip_dt);
            pass.dispatch_workgroups(1, 1, 1);
        });
        Ok(())
    }

    /// The two field buffers (for the reducer's bind groups) and which one is current.
    pub fn fields(&self) -> (&[wgpu::Buffer; 2], usize) {
        (&self.fields, self.current)
    }

    /// Copy the current field to the host.
    pub fn read_back(&self, ctx: &GpuContext, out: &mut [f32]) -> Result<(), GpuError> {
        context::read_buffer(ctx, &self.fields[self.current], &self.staging, bytemuck::cast_slice_mut(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host's tile sizes and the halo budget of `kinds` are the shader's constants.
    #[test]
    fn tile_constants_match_the_shader() {
        let source = registry::FV_UPWIND.source;
        let constant = |name: &str| -> u32 {
            let line = source
                .lines()
                .find(|l| l.starts_with(&format!("const {name}: u32 = ")))
                .unwrap_or_else(|| panic!("no const {name} in fv_step.wgsl"));
            let value = line.split('=').nth(1).and_then(|v| v.split(';').next()).expect("a value");
            value.trim().trim_end_matches('u').parse().expect("a number")
        };
        assert_eq!(constant("TILE"), TILE);
        assert_eq!(constant("ROW_TILE"), ROW_TILE);
        assert_eq!(constant("MAX_HALO"), crate::kinds::MAX_TILE_HALO);
        let side = TILE + 2 * crate::kinds::MAX_TILE_HALO;
        assert_eq!(constant("TILE_CELLS"), side * side);
        assert!(constant("TILE_CELLS") >= ROW_TILE + 2 * crate::kinds::MAX_TILE_HALO);
    }
}
