//! Default values of optional keys (serde `default = ...`).

pub(super) fn one() -> f64 {
    1.0
}

pub(super) fn yes() -> bool {
    true
}

pub(super) fn default_safety() -> f64 {
    0.9
}

pub(super) fn default_log_floor() -> f64 {
    1e-30
}

pub(super) fn default_diagnostics_every() -> u64 {
    10
}

pub(super) fn default_max_steps() -> u64 {
    100_000_000
}

pub(super) fn default_dt_collapse_fraction() -> f64 {
    1e-4
}

pub(super) fn default_max_density() -> f64 {
    1e12
}

pub(super) fn default_log_decades() -> f64 {
    6.0
}

pub(super) fn default_min_pixels() -> u32 {
    512
}

pub(super) fn default_start() -> crate::kinds::Start {
    crate::kinds::Start::Equilibrium
}

pub(super) fn default_reverse_mode() -> crate::kinds::ReverseMode {
    crate::kinds::ReverseMode::Scheme
}

pub(super) fn default_store_every() -> u64 {
    2
}

pub(super) fn default_memory_budget_mib() -> f64 {
    1024.0
}

pub(super) fn default_reverse_safety() -> f64 {
    0.9
}

pub(super) fn default_sliced_directions() -> usize {
    64
}

pub(super) fn default_stall_steps() -> u64 {
    100_000
}

pub(super) fn default_stall_fraction() -> f64 {
    1e-6
}

pub(super) fn default_disk_budget_mib() -> f64 {
    10240.0
}

pub(super) fn default_steps_per_pass() -> u32 {
    1
}

pub(super) fn default_time_tolerance() -> f64 {
    1e-3
}
