//! GPU infrastructure, nothing feature-specific: the device context (adapter, limits,
//! buffers, pass timing), the registry of WGSL modules, the check kernel of the shared
//! random numbers and the copy kernel that measures the device's bandwidth.

pub mod context;
pub mod copy;
pub mod device;
pub mod registry;
pub mod rng_check;

pub use crate::error::GpuError;
pub use context::GpuContext;
pub use device::{Device, DeviceChoice, DeviceNeeds};
