//! Reverse time (MATH.md §3): generation from the asymptotic state and density filtering.
//! So far (CPU, f64): the forward snapshot store, the reverse PDE step and a generation
//! pipeline (`generate`) that is not yet wired to the CLI.

pub mod generate;
pub mod pde;
pub mod store;
