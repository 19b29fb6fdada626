//! Pipelines: what turns a validated config into a run directory. The forward run
//! (`forward`), the particle run (`particles`), generation and filtering (`reverse`),
//! the score-based samplers and their checks (`sample`, `check_theory`), the GPU/CPU
//! comparison (`verify`), many configs on one device (`batch`), the throughput
//! measurements (`bench`), and the progress display they share.

pub mod batch;
pub mod bench;
pub mod bench_device;
pub mod bench_suite;
pub mod check_theory;
pub mod checkpoint;
pub mod collect;
pub mod dataset;
pub mod diffusion_steps;
pub mod forward;
pub mod generate_filter;
pub mod generation;
pub mod inputs;
pub mod interrupt;
mod observers;
pub mod particles;
pub mod progress;
mod recorder;
pub mod reverse_steps;
pub mod sample;
pub mod score_dataset;
pub mod simulation;
pub mod slurm;
pub mod study;
pub mod sweep;
pub mod sweep_point;
pub mod verdict;
pub mod verify;

pub use forward::{run_config, RunOptions, RunReport, Summary};
