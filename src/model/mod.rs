//! The physics as pure functions, no buffers.

pub mod clouds;
pub mod condensation;
pub mod equilibrium;
pub mod initial_density;
pub mod nonlinear_ou;
pub mod physics;
pub mod quadrature;
pub mod score;

pub use nonlinear_ou::{EntropyFunction, ModelParams, Power, PowerBody};
pub use physics::{Physics, ShaderModel, Statistics};
