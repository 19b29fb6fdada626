//! GPU infrastructure, nothing feature-specific: the device context (adapter, limits,
//! buffers, pass timing), the registry of WGSL modules, and the check kernel of the
//! shared random numbers.

pub mod context;
pub mod device;
pub mod registry;
pub mod rng_check;

pub use crate::error::GpuError;
pub use context::GpuContext;
pub use device::{Device, DeviceChoice, DeviceNeeds};
