//! Validation of a parsed config: every error names its key.

use super::*;
use crate::error::ConfigError;

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.name.is_empty() && !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigError::new(
                "name",
                format!("`{}` may only hold letters, digits, '-', '_' and '.'", self.name),
            ));
        }
        self.model_params().validate()?;
        let grid = self.grid()?;
        // the CPU's fields (three for SSP-RK2), the f64 initial field, read-back and geometry per cell
        crate::resources::check_memory(
            "grid.cells",
            &format!("a grid of {} cells", grid.len()),
            grid.len() as f64 * 64.0,
        )?;
        self.check_initial()?;
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::new(key, format!("must be a positive number (got {v})")))
            }
        };
        positive("initial.mass", self.initial.mass)?;
        positive("run.t_final", self.run.t_final)?;
        if let Some(dt) = self.scheme.dt {
            positive("scheme.dt", dt)?;
        }
        if !(self.scheme.safety > 0.0 && self.scheme.safety <= 1.0) {
            return Err(ConfigError::new(
                "scheme.safety",
                format!("must be in (0, 1] (got {})", self.scheme.safety),
            ));
        }
        positive("scheme.log_floor", self.scheme.log_floor)?;
        if !(self.scheme.time_tolerance > 0.0 && self.scheme.time_tolerance < 1.0) {
            return Err(ConfigError::new(
                "scheme.time_tolerance",
                format!("must be in (0, 1) (got {})", self.scheme.time_tolerance),
            ));
        }
        let (kind, integrator) = (self.scheme.kind, self.scheme.integrator);
        crate::kinds::check_steps_per_pass(kind, integrator, self.scheme.steps_per_pass)
            .map_err(|why| ConfigError::new("scheme.steps_per_pass", why))?;
        if self.scheme.integrator.is_implicit() {
            let needs = [
                (self.scheme.kind != super::SchemeKind::GradientFlow, "scheme.kind = \"gradient-flow\""),
                (self.run.precision != Precision::F64, "run.precision = \"f64\""),
            ];
            if let Some((_, what)) = needs.iter().find(|(missing, _)| *missing) {
                return Err(ConfigError::new(
                    "scheme.integrator",
                    format!("\"{}\" needs {what}", self.scheme.integrator.name()),
                ));
            }
        }
        if self.run.precision == Precision::F32 && self.scheme.log_floor < f32::MIN_POSITIVE as f64 {
            return Err(ConfigError::new(
                "scheme.log_floor",
                format!("must be >= {:e} in f32 (got {})", f32::MIN_POSITIVE, self.scheme.log_floor),
            ));
        }
        for (i, &t) in self.run.output_times.iter().enumerate() {
            if !(t.is_finite() && t > 0.0 && t <= self.run.t_final) {
                return Err(ConfigError::new(
                    format!("run.output_times[{i}]"),
                    format!("must be in (0, run.t_final = {}] (got {t})", self.run.t_final),
                ));
            }
        }
        if let Some(every) = self.run.output_every {
            positive("run.output_every", every)?;
            let count = self.run.t_final / every;
            if count > MAX_OUTPUTS as f64 {
                return Err(ConfigError::new(
                    "run.output_every",
                    format!("{every:e} gives {count:.3e} snapshots up to run.t_final; at most {MAX_OUTPUTS}"),
                ));
            }
        }
        if self.run.output_times.len() > MAX_OUTPUTS {
            return Err(ConfigError::new(
                "run.output_times",
                format!("{} times; at most {MAX_OUTPUTS}", self.run.output_times.len()),
            ));
        }
        check_output(&self.output)?;
        if self.run.diagnostics_every == 0 {
            return Err(ConfigError::new("run.diagnostics_every", "must be at least 1"));
        }
        if let Some(limit) = self.run.wall_time_limit {
            if !(limit.is_finite() && limit > 0.0) {
                return Err(ConfigError::new(
                    "run.wall_time_limit",
                    format!("must be > 0 seconds (got {limit})"),
                ));
            }
        }
        let f = self.run.stall_fraction;
        if !(f.is_finite() && (0.0..1.0).contains(&f)) {
            return Err(ConfigError::new("run.stall_fraction", format!("must be in [0, 1) (got {f})")));
        }
        if let Some(every) = self.run.checkpoint_every {
            let k = self.run.diagnostics_every.max(1);
            if every == 0 || every % k != 0 {
                return Err(ConfigError::new(
                    "run.checkpoint_every",
                    format!("must be a positive multiple of run.diagnostics_every = {k} (got {every})"),
                ));
            }
        }
        if let Some(seconds) = self.run.checkpoint_seconds {
            positive("run.checkpoint_seconds", seconds)?;
        }
        if self.run.max_steps == 0 {
            return Err(ConfigError::new("run.max_steps", "must be at least 1"));
        }
        check_threads(self.run.threads)?;
        let f = self.stop.dt_collapse_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(ConfigError::new(
                "stop.dt_collapse_fraction",
                format!("must be in (0, 1) (got {f})"),
            ));
        }
        positive("stop.max_density", self.stop.max_density)?;
        positive("output.log_decades", self.output.log_decades)?;
        if let Some([lo, hi]) = self.output.color_range {
            if !(lo.is_finite() && hi.is_finite() && hi > lo) {
                return Err(ConfigError::new(
                    "output.color_range",
                    format!("needs min < max (got [{lo}, {hi}])"),
                ));
            }
            if self.output.log_scale && lo <= 0.0 {
                return Err(ConfigError::new("output.color_range", "min must be > 0 with output.log_scale"));
            }
        }
        let r = &self.reverse;
        if !(r.eta.is_finite() && r.eta >= 0.0) {
            return Err(ConfigError::new("reverse.eta", format!("must be >= 0 (got {})", r.eta)));
        }
        if r.store_every == 0 {
            return Err(ConfigError::new("reverse.store_every", "must be at least 1"));
        }
        if !(r.disk_budget_mib.is_finite() && r.disk_budget_mib >= 0.0) {
            return Err(ConfigError::new(
                "reverse.disk_budget_mib",
                format!("must be >= 0 (got {})", r.disk_budget_mib),
            ));
        }
        if !(r.memory_budget_mib.is_finite() && r.memory_budget_mib >= 0.0) {
            return Err(ConfigError::new(
                "reverse.memory_budget_mib",
                format!("must be >= 0 (got {})", r.memory_budget_mib),
            ));
        }
        if !(r.safety > 0.0 && r.safety <= 1.0) {
            return Err(ConfigError::new("reverse.safety", format!("must be in (0, 1] (got {})", r.safety)));
        }
        if r.sliced_w1_directions == 0 {
            return Err(ConfigError::new("reverse.sliced_w1_directions", "must be at least 1"));
        }
        if r.particles > u32::MAX as usize {
            return Err(ConfigError::new(
                "reverse.particles",
                format!("must be < 2^32 (got {})", r.particles),
            ));
        }
        if let Some(dt) = r.particle_dt {
            positive("reverse.particle_dt", dt)?;
        }
        if let Some(p) = &self.particles {
            if p.count == 0 || p.count > u32::MAX as usize {
                return Err(ConfigError::new(
                    "particles.count",
                    format!("must be in [1, 2^32) (got {})", p.count),
                ));
            }
            // positions, their deposit weights and density reads, f64 on the host
            crate::resources::check_memory(
                "particles.count",
                &format!("{} particles", p.count),
                p.count as f64 * (self.model.dim as f64 * 8.0 * 3.0 + 16.0),
            )?;
            positive("particles.dt", p.dt)?;
            if p.dt > self.run.t_final {
                return Err(ConfigError::new(
                    "particles.dt",
                    format!("{} exceeds run.t_final = {}", p.dt, self.run.t_final),
                ));
            }
        }
        Ok(())
    }
}

/// The most snapshots (and frames) a run may ask for.
pub const MAX_OUTPUTS: usize = 100_000;
/// The largest side of a frame, in pixels.
pub const MAX_PIXELS: u32 = 16_384;
/// The most CPU worker threads a run may ask for.
pub const MAX_THREADS: usize = 1024;

/// The output section's sizes (shared by the forward and diffusion configs).
pub(super) fn check_output(o: &OutputSection) -> Result<(), ConfigError> {
    if o.min_pixels == 0 || o.min_pixels > MAX_PIXELS {
        return Err(ConfigError::new(
            "output.min_pixels",
            format!("must be in [1, {MAX_PIXELS}] (got {})", o.min_pixels),
        ));
    }
    o.check_movie()
}

pub(super) fn check_threads(threads: Option<usize>) -> Result<(), ConfigError> {
    match threads {
        Some(t) if t == 0 || t > MAX_THREADS => {
            Err(ConfigError::new("run.threads", format!("must be in [1, {MAX_THREADS}] (got {t})")))
        }
        _ => Ok(()),
    }
}
