//! Classical score-based diffusion as PDEs (docs/MATH.md §4): data given as a weighted point
//! cloud, the exact scores of the heat flow and linear OU (`model::score`), reverse SDE/ODE
//! samplers on both backends (`sampler`).

pub mod analysis;
pub mod backward;
pub mod gpu;
pub mod sampler;
pub mod theory;
