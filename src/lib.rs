//! fpgen: PDE-based generative models — the nonlinear Ornstein–Uhlenbeck /
//! Kaniadakis–Quarati Fokker–Planck equation on grids, with a CPU reference backend.
//! See MATH.md (shared) for the equations and schemes.

pub mod config;
pub mod diffusion;
pub mod error;
pub mod forward;
pub mod gpu;
pub mod grid;
pub mod kinds;
pub mod model;
pub mod particles;
pub mod real;
pub mod reverse;
pub mod rng;

pub use error::{ConfigError, Error, Result};
pub mod io;
pub mod run;
