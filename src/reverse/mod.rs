//! Reverse time (docs/MATH.md §3): generation from the asymptotic state and density filtering.

pub mod consistent;
pub mod gpu_particles;
pub mod gpu_pde;
pub mod metrics;
pub mod particles;
pub mod pde;
pub mod store;
