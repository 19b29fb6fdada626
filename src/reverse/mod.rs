//! Reverse time (MATH.md §3): generation from the asymptotic state and density filtering.
//! So far: the forward snapshot store and the reverse PDE step (CPU).

pub mod pde;
pub mod store;
