//! Where a command computes, resolved once from `--backend cpu|gpu|auto` and passed down
//! to every run of the command.

use std::sync::Arc;

use super::context::{check_limits, GpuContext};
use crate::error::GpuError;

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// The CPU reference path (rayon; f32 or f64 as the config says).
    #[default]
    Cpu,
    /// The GPU (f32); an error when no adapter can be opened.
    Gpu,
    /// A hardware GPU when one exists and the command runs there, else the CPU (said once).
    /// A software adapter (lavapipe, llvmpipe, any adapter of device type `Cpu`) is used
    /// only when WGPU_ADAPTER_NAME names it.
    Auto,
}

impl DeviceChoice {
    /// The auto rule, decided here only: `Auto` becomes `Cpu` (said once) when the command
    /// cannot run on the GPU for `reason` (an f64 config, a CPU-only reverse mode); an
    /// explicit choice is kept (the command reports its own error). The CLI, the Python
    /// package, sweeps and batches reach it through `Device::resolve_for` / `for_run`.
    pub fn unless_unsupported(self, reason: Option<String>) -> Self {
        match (self, reason) {
            (DeviceChoice::Auto, Some(why)) => {
                log::info!("backend auto: computing on the CPU ({why})");
                DeviceChoice::Cpu
            }
            (choice, _) => choice,
        }
    }
}

/// How large the device's buffers must be.
#[derive(Clone, Copy, Debug)]
pub struct DeviceNeeds {
    /// The largest buffer, in bytes.
    pub buffer_bytes: u64,
    /// A grid's dimension when its fields must fit one binding (checked, the error names
    /// the limit); None when the caller splits its arrays into chunks the device binds.
    pub grid_dim: Option<usize>,
}

impl DeviceNeeds {
    /// A grid's f32 fields, each in one binding.
    pub fn for_grid(grid: &crate::grid::Grid) -> Self {
        Self { buffer_bytes: (grid.len() * 4) as u64, grid_dim: Some(grid.dim) }
    }

    /// Points of the samplers (a vec4 of f32 each), split into chunks the device binds.
    pub fn for_points(count: usize) -> Self {
        Self { buffer_bytes: 16 * count as u64, grid_dim: None }
    }
}

/// The resolved device: the CPU, or an open GPU context shared by every run.
#[derive(Clone)]
pub enum Device {
    Cpu,
    Gpu(Arc<GpuContext>),
}

impl Device {
    /// Resolve `choice` once. `Auto` never fails: without a usable hardware adapter it
    /// says why and returns the CPU.
    pub fn resolve(choice: DeviceChoice, needs: DeviceNeeds) -> Result<Device, GpuError> {
        match choice {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Gpu => Ok(Device::Gpu(Arc::new(GpuContext::open(needs)?))),
            DeviceChoice::Auto => match GpuContext::open(needs) {
                Ok(ctx) if ctx.is_software() && !adapter_named_by_user() => {
                    log::info!(
                        "backend auto: the adapter found, {}, is a software renderer; computing on the CPU (set WGPU_ADAPTER_NAME to use it)",
                        ctx.summary.name
                    );
                    Ok(Device::Cpu)
                }
                Ok(ctx) => Ok(Device::Gpu(Arc::new(ctx))),
                Err(e) => {
                    log::info!("backend auto: computing on the CPU ({e})");
                    Ok(Device::Cpu)
                }
            },
        }
    }

    /// `resolve` after the auto rule: `why_cpu` is why this run cannot use the GPU, if it
    /// cannot.
    pub fn resolve_for(
        choice: DeviceChoice,
        needs: DeviceNeeds,
        why_cpu: Option<String>,
    ) -> Result<Device, GpuError> {
        Device::resolve(choice.unless_unsupported(why_cpu), needs)
    }

    /// This already resolved device for one run (a batch opens it once): the CPU when the
    /// auto rule sends the run there.
    pub fn for_run(&self, choice: DeviceChoice, why_cpu: Option<String>) -> Device {
        match choice.unless_unsupported(why_cpu) {
            DeviceChoice::Cpu => Device::Cpu,
            _ => self.clone(),
        }
    }

    /// The GPU context, if this is the GPU.
    pub fn gpu(&self) -> Option<&Arc<GpuContext>> {
        match self {
            Device::Cpu => None,
            Device::Gpu(ctx) => Some(ctx),
        }
    }

    /// The GPU context, checked to hold a grid's f32 fields of `bytes` per buffer.
    pub fn gpu_for_grid(&self, bytes: u64, dim: usize) -> Result<Option<&Arc<GpuContext>>, GpuError> {
        match self {
            Device::Cpu => Ok(None),
            Device::Gpu(ctx) => {
                check_limits(&ctx.device.limits(), bytes, dim)?;
                Ok(Some(ctx))
            }
        }
    }

    /// "cpu", or the adapter's name.
    pub fn name(&self) -> String {
        match self {
            Device::Cpu => "cpu".to_string(),
            Device::Gpu(ctx) => ctx.summary.name.clone(),
        }
    }
}

/// WGPU_ADAPTER_NAME is set (the user picked an adapter by name).
pub fn adapter_named_by_user() -> bool {
    std::env::var_os("WGPU_ADAPTER_NAME").is_some_and(|v| !v.is_empty())
}
