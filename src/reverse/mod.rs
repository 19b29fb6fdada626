//! Reverse time (MATH.md §3): generation from the asymptotic state and density filtering.
//! So far: the forward snapshot store.

pub mod store;
