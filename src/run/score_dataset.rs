//! The datasets of the score-based diffusion commands, `run.zarr` beside their other
//! outputs:
//! - `sample`: `data(point, axis)` and `weight(point)`; per stopping time `t_min`,
//!   `samples(t_min, sample, axis)` and, with traced samples, `trajectories(t_min, step,
//!   trajectory, axis)` at the times `trajectory_t(t_min, step)`, appended as each
//!   stopping time finishes; the support measures on `t_min` at the end;
//! - `check-theory`: the grid checks on their times `t_check` (`kl`, `kl_floor`,
//!   `norm2_ratio`, `norm_inf_ratio`), the concentration on `t_min_concentration`, and the
//!   table as `measured(check)` and `passed(check)` (1 or 0) with the names and criteria
//!   as attributes `check_names`, `check_criteria`;
//! - both: the exact profiles at the check times, `log_u(t_check, x…)` and
//!   `score(t_check, x…, axis)` on the cell centres.

use std::path::Path;

use rayon::prelude::*;
use serde_json::{json, Map};

use super::dataset::{axes, described, device_attribute, new_store, write_axis_coordinate};
use crate::diffusion::analysis::StopReport;
use crate::diffusion::theory::TheoryReport;
use crate::error::Result;
use crate::grid::Grid;
use crate::io::zarr::{DType, Values, ZarrStore};
use crate::model::score::{self, LinearProcess, PointCloud};

/// A store with the config, provenance and device as attributes, the grid's coordinates
/// and the `axis` coordinate.
fn store_for(dir: &Path, config_toml: &str, grid: &Grid, device: &str, title: &str) -> Result<ZarrStore> {
    let mut store = new_store(dir, config_toml, grid, title, device_attribute(device))?;
    write_axis_coordinate(&mut store, grid.dim)?;
    Ok(store)
}

/// log u(t, x) and s(t, x) of the exact process on the cell centres at `times`.
fn write_profiles(
    store: &mut ZarrStore,
    process: &LinearProcess,
    cloud: &PointCloud,
    grid: &Grid,
    times: &[f64],
) -> Result<()> {
    let (cells, d) = (grid.len(), grid.dim);
    let mut log_u = Vec::with_capacity(times.len() * cells);
    let mut scores = vec![0.0; times.len() * cells * d];
    for (k, &t) in times.iter().enumerate() {
        log_u.extend(
            (0..cells)
                .into_par_iter()
                .map(|i| score::log_density(process, cloud, t, &grid.cell_point(i)))
                .collect::<Vec<_>>(),
        );
        scores[k * cells * d..(k + 1) * cells * d].par_chunks_mut(d).enumerate().for_each(|(i, out)| {
            let mut s = [0.0; score::MAX_DIM];
            score::score(process, cloud, t, &grid.cell_point(i), &mut s);
            out.copy_from_slice(&s[..d]);
        });
    }
    let long = described("check time t");
    store.write_array("t_check", &["t_check"], &[times.len()], Values::F64(times), long)?;
    let mut dims = vec!["t_check"];
    dims.extend(axes(grid));
    let mut shape = vec![times.len()];
    shape.extend(vec![grid.cells; d]);
    store.write_array("log_u", &dims, &shape, Values::F64(&log_u), described("log u (exact)"))?;
    dims.push("axis");
    shape.push(d);
    store.write_array("score", &dims, &shape, Values::F64(&scores), described("score (exact)"))
}

/// One measure of a stopping time.
type StopColumn = fn(&StopReport) -> f64;

/// The dataset of `sample`, written as its stopping times finish.
pub struct SampleDataset {
    store: ZarrStore,
    t_mins: Vec<f64>,
}

impl SampleDataset {
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        dir: &Path,
        config_toml: &str,
        name: &str,
        grid: &Grid,
        device: &str,
        process: &LinearProcess,
        cloud: &PointCloud,
        check_times: &[f64],
        samples: usize,
        traced: usize,
        steps: usize,
    ) -> Result<Self> {
        let d = cloud.dim;
        let mut store = store_for(dir, config_toml, grid, device, &format!("fpgen sample `{name}`"))?;
        let points = cloud.points.len() / d;
        store.write_array(
            "data",
            &["point", "axis"],
            &[points, d],
            Values::F64(&cloud.points),
            described("data point"),
        )?;
        let weights: Vec<f64> = cloud.log_weights.iter().map(|w| w.exp()).collect();
        store.write_array(
            "weight",
            &["point"],
            &[points],
            Values::F64(&weights),
            described("data weight"),
        )?;
        write_profiles(&mut store, process, cloud, grid, check_times)?;
        store.start_growing(
            "samples",
            &["t_min", "sample", "axis"],
            &[samples, d],
            DType::F64,
            described("sample"),
        )?;
        if traced > 0 {
            let dims = ["t_min", "step", "trajectory", "axis"];
            store.start_growing(
                "trajectories",
                &dims,
                &[steps + 1, traced, d],
                DType::F64,
                described("sample path"),
            )?;
            let long = described("time t along the sample paths");
            store.start_growing("trajectory_t", &["t_min", "step"], &[steps + 1], DType::F64, long)?;
        }
        Ok(Self { store, t_mins: Vec::new() })
    }

    /// The samples (and traced paths with their times) of the stopping time `t_min`.
    pub fn stop(&mut self, t_min: f64, samples: &[f64], times: &[f64], trajectories: &[f64]) -> Result<()> {
        self.store.append("samples", Values::F64(samples))?;
        if !trajectories.is_empty() {
            self.store.append("trajectories", Values::F64(trajectories))?;
            self.store.append("trajectory_t", Values::F64(times))?;
        }
        self.t_mins.push(t_min);
        let n = self.t_mins.len();
        self.store.write_array(
            "t_min",
            &["t_min"],
            &[n],
            Values::F64(&self.t_mins),
            described("stopping time"),
        )
    }

    /// The support measures of every stopping time.
    pub fn finish(&mut self, stops: &[StopReport]) -> Result<()> {
        let n = stops.len();
        let columns: [(&str, &str, StopColumn); 4] = [
            ("tube_half_width", "1.96 sigma(t_min)", |s| s.tube_half_width),
            ("tube_fraction", "share of samples in the tube around the support", |s| s.tube_fraction),
            ("memorised_fraction", "share of samples on one data point", |s| s.memorised_fraction),
            ("rms_distance_to_support", "RMS distance to the support", |s| s.rms_distance_to_support),
        ];
        for (name, long, f) in columns {
            let values: Vec<f64> = stops.iter().map(f).collect();
            self.store.write_array(name, &["t_min"], &[n], Values::F64(&values), described(long))?;
        }
        Ok(())
    }
}

/// The dataset of `check-theory`.
#[allow(clippy::too_many_arguments)]
pub fn write_check(
    dir: &Path,
    config_toml: &str,
    grid: &Grid,
    device: &str,
    process: &LinearProcess,
    cloud: &PointCloud,
    report: &TheoryReport,
) -> Result<()> {
    let mut store =
        store_for(dir, config_toml, grid, device, &format!("fpgen check-theory `{}`", report.name))?;
    write_profiles(&mut store, process, cloud, grid, &report.times)?;
    let n = report.times.len();
    for (name, long, values) in [
        ("kl", "KL(rho(t) || u(t))", &report.kl),
        ("kl_floor", "the grid's KL error e(t)", &report.kl_floor),
        ("norm2_ratio", "||rho(t)||_2 / ||rho(T)||_2", &report.norm2_ratio),
        ("norm_inf_ratio", "||rho(t)||_inf / ||rho(T)||_inf", &report.norm_inf_ratio),
    ] {
        if values.len() == n {
            store.write_array(name, &["t_check"], &[n], Values::F64(values), described(long))?;
        }
    }
    let m = report.concentration_t_mins.len();
    let dims = ["t_min_concentration"];
    let long = described("stopping time (concentration check)");
    store.write_array(dims[0], &dims, &[m], Values::F64(&report.concentration_t_mins), long)?;
    if report.concentration_rms.len() == m {
        let long = described("RMS distance to the support");
        store.write_array("concentration_rms", &dims, &[m], Values::F64(&report.concentration_rms), long)?;
    }
    let c = report.checks.len();
    let measured: Vec<f64> = report.checks.iter().map(|k| k.measured).collect();
    let passed: Vec<i64> = report.checks.iter().map(|k| i64::from(k.pass)).collect();
    let check_index: Vec<i64> = (0..c as i64).collect();
    store.write_array("check", &["check"], &[c], Values::I64(&check_index), described("check"))?;
    store.write_array("measured", &["check"], &[c], Values::F64(&measured), described("measured value"))?;
    store.write_array(
        "passed",
        &["check"],
        &[c],
        Values::I64(&passed),
        described("passed (1) or failed (0)"),
    )?;
    let mut attrs = Map::new();
    attrs.insert(
        "check_names".into(),
        json!(report.checks.iter().map(|k| k.name.clone()).collect::<Vec<_>>()),
    );
    attrs.insert(
        "check_criteria".into(),
        json!(report.checks.iter().map(|k| k.criterion.clone()).collect::<Vec<_>>()),
    );
    store.set_attributes(attrs)
}
