//! GPU host of the forward solver (wgpu): the step kernels' host (`stepper`), the
//! `ForwardStepper` implementation on the device (`backend`: batches, reductions, frames,
//! the undo of a non-finite batch), reductions (`reduce`), frames (`render`) and the model
//! functions' check kernel (`model_check`).

pub mod backend;
pub mod model_check;
pub mod reduce;
pub mod render;
pub mod stepper;

pub use crate::gpu::{GpuContext, GpuError};
pub use stepper::{GpuStepper, StepState, MODEL_LAYOUT, STEP_PARAMS_LAYOUT, STEP_STATE_LAYOUT};
