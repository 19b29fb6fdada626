//! `fpgen study blowup CONFIG --cells N1 N2 N3`: the config at several resolutions, each
//! a run directory `<out>/<name>_blowup/n<N>`, and the threshold-free condensation
//! measures each run's summary holds (`model::condensation`: the blow-up time, when the
//! origin cell first holds more than the critical profile's part r_h; the condensate mass
//! at the end, the origin-cell mass less r_h), with their Richardson extrapolation and
//! observed order.
//! Writes study.csv and study.json into `<out>/<name>_blowup`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::error::{ConfigError, Error, Result};
use crate::gpu::{Device, DeviceChoice};
use crate::io::{self, RunDir};
use crate::model::condensation::richardson;

#[derive(Clone, Debug, Serialize)]
pub struct StudyRun {
    pub cells: usize,
    pub h: f64,
    pub status: String,
    pub steps: u64,
    pub t_final: f64,
    /// r_h: the critical profile's origin-cell mass on this grid.
    pub regular_origin_mass: f64,
    /// First time the origin cell holds more than r_h (None: not within the run).
    pub blowup_time: Option<f64>,
    /// Origin-cell mass less r_h at the end of the run.
    pub condensate_mass: f64,
    pub origin_cell_mass: f64,
    pub wall_seconds: f64,
}

/// A quantity at the resolutions, its observed order and extrapolated value.
#[derive(Clone, Debug, Serialize)]
pub struct Extrapolated {
    pub quantity: String,
    pub values: Vec<Option<f64>>,
    pub observed_order: Option<f64>,
    pub extrapolated: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BlowupStudy {
    pub name: String,
    pub critical_mass_box: f64,
    pub mass: f64,
    pub runs: Vec<StudyRun>,
    pub extrapolations: Vec<Extrapolated>,
    pub dir: PathBuf,
}

/// Run `config` at each of `cells` (ascending) into `<out>/<name>_blowup`.
pub fn blowup_study(config: &Config, cells: &[usize], out: &Path, quiet: bool) -> Result<BlowupStudy> {
    if cells.len() < 2 || cells.windows(2).any(|w| w[1] <= w[0]) {
        return Err(ConfigError::new(
            "--cells",
            format!("needs two or more increasing sizes (got {cells:?})"),
        )
        .into());
    }
    let p = config.model_params();
    let critical =
        crate::model::equilibrium::critical_mass(&p, config.model.dim, Some(config.grid.half_width))
            .ok_or_else(|| {
                ConfigError::new(
                    "model.gamma",
                    "has no finite critical mass here: nothing condenses to study",
                )
            })?;
    let name = format!("{}_blowup", config.name);
    crate::io::run_dir::check_run_name(&name)?;
    let dir = out.join(&name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut runs = Vec::new();
    for &n in cells {
        let mut cfg = config.clone();
        cfg.grid.cells = n;
        cfg.name = format!("n{n}");
        cfg.output.frames = false;
        cfg.resolve_and_validate()?;
        let grid = cfg.grid()?;
        let mut run_dir = RunDir::create(&dir, &cfg.name, true)?;
        let options = super::RunOptions { quiet, on_output: None };
        let result = super::run_config(&cfg, DeviceChoice::Cpu, &mut run_dir, &options, &Device::Cpu, false);
        run_dir.finish()?;
        let report = result?;
        let summary = report.grid.ok_or_else(|| Error::Numerics("the study needs the grid run".into()))?;
        let (Some(regular), Some(condensate_mass)) = (summary.regular_origin_mass, summary.condensate_mass)
        else {
            return Err(Error::Numerics("no discrete critical profile".into()));
        };
        runs.push(StudyRun {
            cells: n,
            h: grid.h(),
            status: summary.status.clone(),
            steps: summary.steps,
            t_final: summary.t_final,
            regular_origin_mass: regular,
            blowup_time: summary.condensation_time,
            condensate_mass,
            origin_cell_mass: summary.origin_cell_mass,
            wall_seconds: summary.wall_seconds,
        });
    }
    let extrapolate = |quantity: &str, values: Vec<Option<f64>>| {
        let last: Vec<(f64, f64)> =
            runs.iter().zip(&values).rev().take(3).filter_map(|(r, v)| v.map(|v| (r.h, v))).collect();
        let fit = match last.as_slice() {
            [(h3, q3), (h2, q2), (h1, q1)] => richardson([*h1, *h2, *h3], [*q1, *q2, *q3]),
            _ => None,
        };
        Extrapolated {
            quantity: quantity.into(),
            values,
            observed_order: fit.map(|f| f.0),
            extrapolated: fit.map(|f| f.1),
        }
    };
    let extrapolations = vec![
        extrapolate("blowup_time", runs.iter().map(|r| r.blowup_time).collect()),
        extrapolate("condensate_mass", runs.iter().map(|r| Some(r.condensate_mass)).collect()),
    ];
    let study = BlowupStudy {
        name: config.name.clone(),
        critical_mass_box: critical,
        mass: config.initial.mass,
        runs,
        extrapolations,
        dir: dir.clone(),
    };
    let mut csv = String::from(
        "cells,h,status,steps,t_final,regular_origin_mass,blowup_time,condensate_mass,origin_cell_mass,wall_seconds\n",
    );
    for r in &study.runs {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.cells,
            r.h,
            r.status,
            r.steps,
            r.t_final,
            r.regular_origin_mass,
            r.blowup_time.map_or(String::new(), |t| t.to_string()),
            r.condensate_mass,
            r.origin_cell_mass,
            r.wall_seconds
        ));
    }
    io::write_text(&dir.join("study.csv"), &csv)?;
    io::write_json(&dir.join("study.json"), &study)?;
    Ok(study)
}
