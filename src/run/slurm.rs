//! The sbatch script of a sweep: a job array with one point per task
//! (`--array=0-(n-1)%K`), a log per task, the CPUs and GPUs of each task; every task runs
//! `fpgen sweep SPEC --index $SLURM_ARRAY_TASK_ID`, so a resubmitted array runs only the
//! points that have not finished (the others exit at once).

use std::path::Path;

/// What the array asks of the cluster.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    /// Wall time per task, in SLURM's format (e.g. 01:00:00).
    pub time: Option<String>,
    pub cpus: usize,
    pub gpus_per_task: Option<usize>,
    /// Tasks running at once (the `%K` of `--array`).
    pub max_parallel: Option<usize>,
    pub backend: String,
}

/// Quote for the shell (single quotes).
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script for `points` tasks running `exe` on `spec`, writing into `out`, logs in
/// `sweep_dir/logs`. Paths should be absolute (the job starts in another folder).
pub fn script(
    name: &str,
    points: usize,
    exe: &Path,
    spec: &Path,
    out: &Path,
    sweep_dir: &Path,
    options: &SlurmOptions,
) -> String {
    let throttle = options.max_parallel.map_or(String::new(), |k| format!("%{k}"));
    let logs = sweep_dir.join("logs");
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        format!("#SBATCH --job-name=fpgen-{name}"),
        format!("#SBATCH --array=0-{}{throttle}", points.saturating_sub(1)),
        format!("#SBATCH --output={}/slurm-%A_%a.out", logs.display()),
        "#SBATCH --ntasks=1".to_string(),
        format!("#SBATCH --cpus-per-task={}", options.cpus.max(1)),
    ];
    if let Some(p) = &options.partition {
        lines.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(t) = &options.time {
        lines.push(format!("#SBATCH --time={t}"));
    }
    if let Some(g) = options.gpus_per_task {
        // SLURM binds each task to its GPUs (cgroups): the task sees only those
        lines.push(format!("#SBATCH --gpus-per-task={g}"));
    }
    lines.extend([
        String::new(),
        format!("# fpgen sweep `{name}`: {points} points, one per array task."),
        "# Resubmitting this script runs only the points that have not finished.".to_string(),
        "set -euo pipefail".to_string(),
        "export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"".to_string(),
        format!(
            "exec {} sweep {} --out {} --index \"$SLURM_ARRAY_TASK_ID\" --backend {} --quiet",
            quoted(&exe.display().to_string()),
            quoted(&spec.display().to_string()),
            quoted(&out.display().to_string()),
            quoted(&options.backend)
        ),
        String::new(),
    ]);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_an_array_with_one_point_per_task() {
        let options = SlurmOptions {
            partition: Some("gpu".into()),
            time: Some("00:10:00".into()),
            cpus: 4,
            gpus_per_task: Some(1),
            max_parallel: Some(3),
            backend: "gpu".into(),
        };
        let text = script(
            "s",
            12,
            Path::new("/opt/fpgen"),
            Path::new("/w/spec's.toml"),
            Path::new("/w/out"),
            Path::new("/w/out/s"),
            &options,
        );
        for line in [
            "#SBATCH --array=0-11%3",
            "#SBATCH --output=/w/out/s/logs/slurm-%A_%a.out",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=00:10:00",
            "#SBATCH --gpus-per-task=1",
            "exec '/opt/fpgen' sweep '/w/spec'\\''s.toml' --out '/w/out' --index \"$SLURM_ARRAY_TASK_ID\" --backend 'gpu' --quiet",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
