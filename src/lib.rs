//! fpgen: PDE-based generative models. The nonlinear Ornstein–Uhlenbeck /
//! Kaniadakis–Quarati Fokker–Planck equation on grids and as particles, its stabilised
//! reverse time, and classical score-based diffusion, on the CPU and on GPUs through wgpu.
//! docs/MATH.md states the equations, schemes and checks the code implements;
//! ARCHITECTURE.md the layers below: each module uses only the groups listed before it.

// Plain types.
pub mod error;
pub mod grid;
pub mod kinds;
pub mod real;
pub mod resources;
pub mod rng;
// Physics as pure functions.
pub mod model;
// The configuration: schema by section, validation, overrides.
pub mod config;
// GPU infrastructure: context, device choice, kernel registry.
pub mod gpu;
// Run directories, .npy, figures, CSV.
pub mod io;
// Features, each with its CPU code, GPU host and twin; in the order forward, particles,
// reverse, diffusion, each uses only the earlier ones.
pub mod diffusion;
pub mod forward;
pub mod particles;
pub mod reverse;
// Pipelines on the one Simulation loop.
pub mod run;

pub use error::{ConfigError, Error, Result};
