//! wgpu device setup: adapter chosen by wgpu's environment conventions (WGPU_BACKEND,
//! WGPU_ADAPTER_NAME, WGPU_POWER_PREF), limits raised to what a grid needs and never
//! beyond the adapter's.

use serde::Serialize;

pub use super::device::DeviceNeeds;
pub use crate::error::GpuError;

/// What `fpgen info` prints per adapter.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub f64_shaders: bool,
    pub timestamp_queries: bool,
    pub subgroups: bool,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_invocations_per_workgroup: u32,
}

fn summary(adapter: &wgpu::Adapter) -> AdapterSummary {
    let info = adapter.get_info();
    let features = adapter.features();
    let limits = adapter.limits();
    AdapterSummary {
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver,
        driver_info: info.driver_info,
        f64_shaders: features.contains(wgpu::Features::SHADER_F64),
        timestamp_queries: features.contains(wgpu::Features::TIMESTAMP_QUERY),
        subgroups: features.contains(wgpu::Features::SUBGROUP),
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroup_size_x: limits.max_compute_workgroup_size_x,
        max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
    }
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu can see with the current environment.
/// The adapters, hardware first: the order `FPGEN_ADAPTER_INDEX` counts in.
pub fn list_adapters() -> Vec<AdapterSummary> {
    ranked_adapters().iter().map(summary).collect()
}

/// Every adapter, sorted by device type (hardware first; stable within a type).
fn ranked_adapters() -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
    adapters
}

/// Preference among device types: hardware first, software renderers last.
fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// The adapter to open. wgpu's own helper panics when WGPU_ADAPTER_NAME matches no
/// adapter; here that is an error naming the adapters there are.
fn choose_adapter() -> Result<wgpu::Adapter, GpuError> {
    let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    let no_adapter = || GpuError::NoAdapter { backend: std::env::var("WGPU_BACKEND").ok() };
    if let Some(wanted) = std::env::var("WGPU_ADAPTER_NAME").ok().filter(|n| !n.is_empty()) {
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted.to_lowercase()))
            .ok_or(GpuError::NoNamedAdapter { wanted, available: names.join(", ") });
    }
    // FPGEN_ADAPTER_INDEX: the k-th adapter, hardware first (a sweep spreads its points
    // over several GPUs with `--gpus`)
    if let Some(index) = std::env::var("FPGEN_ADAPTER_INDEX").ok().filter(|v| !v.is_empty()) {
        let ranked = ranked_adapters();
        let names: Vec<String> = ranked.iter().map(|a| a.get_info().name).collect();
        return index
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|k| ranked.into_iter().nth(k))
            .ok_or(GpuError::NoIndexedAdapter { index, available: names.join(", ") });
    }
    adapters.into_iter().min_by_key(|a| type_rank(a.get_info().device_type)).ok_or_else(no_adapter)
}

/// The largest N whose N^dim f32 field fits in `bytes`.
fn largest_cells(bytes: u64, dim: usize) -> usize {
    let cells = (bytes / 4) as f64;
    let n = cells.powf(1.0 / dim as f64).floor() as usize;
    if n % 2 == 0 {
        n.saturating_sub(1)
    } else {
        n
    }
}

/// Check that buffers of `bytes` fit the adapter's limits; the error names the limit.
pub fn check_limits(limits: &wgpu::Limits, bytes: u64, dim: usize) -> Result<(), GpuError> {
    let binding = limits.max_storage_buffer_binding_size;
    if bytes > binding {
        return Err(GpuError::Limit {
            limit: "max_storage_buffer_binding_size",
            needed: bytes,
            available: binding,
            largest_cells: largest_cells(binding.min(limits.max_buffer_size), dim),
        });
    }
    if bytes > limits.max_buffer_size {
        return Err(GpuError::Limit {
            limit: "max_buffer_size",
            needed: bytes,
            available: limits.max_buffer_size,
            largest_cells: largest_cells(limits.max_buffer_size.min(binding), dim),
        });
    }
    Ok(())
}

/// A device and queue, built once and shared by every run in a process.
pub struct GpuContext {
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub summary: AdapterSummary,
    /// Timestamp queries enabled (when the adapter has them): benches time passes on the
    /// device.
    pub timestamps: bool,
}

impl GpuContext {
    /// Open the adapter chosen by the environment, with limits raised to hold buffers of
    /// `buffer_bytes` (checked against the adapter's first).
    pub fn new(buffer_bytes: u64, dim: usize) -> Result<Self, GpuError> {
        Self::open(DeviceNeeds { buffer_bytes, grid_dim: Some(dim) })
    }

    /// As `new` for callers that split their arrays into buffers the device can bind:
    /// limits are raised towards `buffer_bytes` but never checked against it.
    pub fn new_for_chunks(buffer_bytes: u64) -> Result<Self, GpuError> {
        Self::open(DeviceNeeds { buffer_bytes, grid_dim: None })
    }

    /// A software renderer (lavapipe, llvmpipe: device type `Cpu`).
    pub fn is_software(&self) -> bool {
        self.summary.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }

    /// Open the adapter WGPU_ADAPTER_NAME names (a case-insensitive substring), else the
    /// first of the most capable device type (discrete, integrated, virtual, other, CPU);
    /// `needs.grid_dim`: check that a grid's buffers fit (None: the caller splits them).
    pub fn open(needs: DeviceNeeds) -> Result<Self, GpuError> {
        let DeviceNeeds { buffer_bytes, grid_dim } = needs;
        let adapter = choose_adapter()?;
        let available = adapter.limits();
        if let Some(dim) = grid_dim {
            check_limits(&available, buffer_bytes, dim)?;
        }
        let mut required = wgpu::Limits::downlevel_defaults().using_resolution(available.clone());
        required.max_storage_buffer_binding_size =
            available.max_storage_buffer_binding_size.min(buffer_bytes.max(1 << 27));
        required.max_buffer_size = available.max_buffer_size.min(buffer_bytes.max(1 << 28));
        required.max_storage_buffers_per_shader_stage = available.max_storage_buffers_per_shader_stage.min(8);
        required.max_compute_workgroup_size_x = available.max_compute_workgroup_size_x.min(256);
        required.max_compute_workgroup_size_y = available.max_compute_workgroup_size_y.min(256);
        required.max_compute_invocations_per_workgroup =
            available.max_compute_invocations_per_workgroup.min(256);
        let summary = summary(&adapter);
        let timestamps = summary.timestamp_queries;
        let features = if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("fpgen"),
            required_features: features,
            required_limits: required,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::Device { adapter: summary.name.clone(), message: e.to_string() })?;
        Ok(Self { adapter, device, queue, summary, timestamps })
    }
}

impl GpuContext {
    /// Record one compute pass (`record` sets its bind groups and pipelines) and submit it.
    pub fn submit_pass(&self, label: &str, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) {
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            record(&mut pass);
        }
        self.queue.submit(Some(encoder.finish()));
    }

    /// An unmapped buffer.
    pub fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    }
}

/// Device time of compute passes from timestamp queries written at their beginning and
/// end (needs `GpuContext::timestamps`).
pub struct PassTimer {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    staging: wgpu::Buffer,
}

impl PassTimer {
    pub fn new(ctx: &GpuContext) -> Option<Self> {
        if !ctx.timestamps {
            return None;
        }
        let queries = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("pass timer"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let buffer = |label, usage| ctx.buffer(label, 16, usage);
        let resolved = buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
        let staging =
            buffer("timestamps read-back", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        Some(Self { queries, resolved, staging })
    }

    /// For the descriptor of the pass to time.
    pub fn writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    /// After the timed pass, in the same encoder.
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.queries, 0..2, &self.resolved, 0);
    }

    /// Seconds between the two timestamps of the last timed pass.
    pub fn seconds(&self, ctx: &GpuContext) -> Result<f64, GpuError> {
        let mut ticks = [0u64; 2];
        read_buffer(ctx, &self.resolved, &self.staging, bytemuck::cast_slice_mut(&mut ticks))?;
        Ok(ticks[1].saturating_sub(ticks[0]) as f64 * ctx.queue.get_timestamp_period() as f64 * 1e-9)
    }
}

/// Copy the first `out.len()` bytes of `src` to the host through `staging` (MAP_READ).
pub fn read_buffer(
    ctx: &GpuContext,
    src: &wgpu::Buffer,
    staging: &wgpu::Buffer,
    out: &mut [u8],
) -> Result<(), GpuError> {
    let mut encoder =
        ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("read-back") });
    encoder.copy_buffer_to_buffer(src, 0, staging, 0, out.len() as u64);
    ctx.queue.submit(Some(encoder.finish()));
    let slice = staging.slice(..out.len() as u64);
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
        out.copy_from_slice(&view);
    }
    staging.unmap();
    Ok(())
}

/// An entry point and the values of its override constants.
pub type Specialised<'a> = (&'a str, Vec<(&'a str, f64)>);

/// A shader's bind group layout (bindings 0, 1, … of the given types, all in group 0)
/// and one compute pipeline per entry point, in the order given.
pub struct Kernels {
    pub layout: wgpu::BindGroupLayout,
    pub pipelines: Vec<wgpu::ComputePipeline>,
}

impl Kernels {
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        source: &str,
        bindings: &[wgpu::BufferBindingType],
        entries: &[&str],
    ) -> Self {
        let plain: Vec<Specialised> = entries.iter().map(|&e| (e, Vec::new())).collect();
        Self::build(ctx, name, source, bindings, &plain, true)
    }

    /// As `new`, with override constants per pipeline. Workgroup memory is not
    /// zero-filled: these kernels write every workgroup cell they read.
    pub fn specialised(
        ctx: &GpuContext,
        name: &str,
        source: &str,
        bindings: &[wgpu::BufferBindingType],
        entries: &[Specialised],
    ) -> Self {
        Self::build(ctx, name, source, bindings, entries, false)
    }

    fn build(
        ctx: &GpuContext,
        name: &str,
        source: &str,
        bindings: &[wgpu::BufferBindingType],
        entries: &[Specialised],
        zero_workgroup_memory: bool,
    ) -> Self {
        let device = &ctx.device;
        let layout_entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .enumerate()
            .map(|(i, &ty)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
                count: None,
            })
            .collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(name),
            entries: &layout_entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(name),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipelines = entries
            .iter()
            .map(|(entry, constants)| {
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants,
                        zero_initialize_workgroup_memory: zero_workgroup_memory,
                    },
                    cache: None,
                })
            })
            .collect();
        Self { layout, pipelines }
    }

    /// A bind group with `buffers[i]` at binding i.
    pub fn bind_group(&self, ctx: &GpuContext, label: &str, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// Workgroups of `size` invocations covering `items`, folded into (x, y) so that x stays
/// within the 65535 limit; kernels rebuild the index as gid.x + gid.y · 65535 · size.
pub fn folded_groups(items: u32, size: u32) -> (u32, u32) {
    let groups = items.div_ceil(size).max(1);
    let gx = groups.min(65535);
    (gx, groups.div_ceil(gx))
}

pub const UNIFORM: wgpu::BufferBindingType = wgpu::BufferBindingType::Uniform;
pub const READ: wgpu::BufferBindingType = wgpu::BufferBindingType::Storage { read_only: true };
pub const READ_WRITE: wgpu::BufferBindingType = wgpu::BufferBindingType::Storage { read_only: false };

/// For GPU tests: a context, or None with a loud note when no adapter exists and
/// FPGEN_REQUIRE_GPU is unset. With FPGEN_REQUIRE_GPU set, a missing adapter panics.
pub fn context_for_tests(buffer_bytes: u64, dim: usize) -> Option<GpuContext> {
    match GpuContext::new(buffer_bytes, dim) {
        Ok(c) => Some(c),
        Err(e) => {
            if std::env::var_os("FPGEN_REQUIRE_GPU").is_some() {
                panic!("FPGEN_REQUIRE_GPU is set but no GPU device could be opened: {e}");
            }
            eprintln!("\n!!! SKIPPING GPU TEST: {e} (set FPGEN_REQUIRE_GPU=1 to make this a failure) !!!\n");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_refusal_names_the_limit_and_the_largest_grid() {
        let limits = wgpu::Limits { max_storage_buffer_binding_size: 1 << 20, ..wgpu::Limits::default() };
        let err = check_limits(&limits, 4 * 1025 * 1025, 2).unwrap_err().to_string();
        assert!(err.contains("max_storage_buffer_binding_size"), "{err}");
        // 2^20 bytes hold 2^18 f32 = 512² cells: the largest odd N is 511
        assert!(err.contains("largest N that fits is 511"), "{err}");
        assert!(check_limits(&limits, 4 * 511 * 511, 2).is_ok());
    }
}
