//! The run directory `<out>/<name>`: created for one run, holding only what the run
//! writes (folders appear with their first file), and owning summary.json, to which each
//! part of a pipeline adds its fields or its section through one API.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ConfigError, Error, Result};

pub struct RunDir {
    /// Where the run writes: the run directory itself, or (with `--force` over an
    /// existing run) a temporary sibling that replaces it when the run is done.
    path: PathBuf,
    /// `<out>/<name>`.
    target: PathBuf,
    /// This run created `path` (so an unstarted run removes it).
    created: bool,
    /// The run got under way: its outputs are kept whatever happens next.
    started: bool,
    finished: bool,
    summary: serde_json::Map<String, serde_json::Value>,
    /// Written into summary.json (`provenance`) with the end time of each write.
    provenance: super::provenance::Provenance,
}

/// A run name is one path component: not empty, not `.` or `..`, no separators.
pub fn check_run_name(name: &str) -> Result<(), ConfigError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || Path::new(name).is_absolute()
        || Path::new(name).components().count() != 1;
    if bad {
        return Err(ConfigError::new(
            "name",
            format!("{name:?} is not a run name: use one folder name (letters, digits, '-', '_', '.'), not '.' or '..'"),
        ));
    }
    Ok(())
}

impl RunDir {
    /// `<out>/<name>`, created. An existing non-empty directory is refused unless
    /// `force`; then the run writes into a temporary sibling, and the old directory is
    /// replaced only when the new run has started and finishes (`finish`): a run that
    /// fails before it starts leaves the old results as they were, and nothing else.
    pub fn create(out: &Path, name: &str, force: bool) -> Result<Self> {
        check_run_name(name)?;
        let target = out.join(name);
        let non_empty = target.exists()
            && std::fs::read_dir(&target).map_err(|e| Error::io(&target, e))?.next().is_some();
        let path = if non_empty {
            if !force {
                return Err(Error::RunDirExists(target));
            }
            let sibling = out.join(format!(".{name}.new"));
            if sibling.exists() {
                std::fs::remove_dir_all(&sibling).map_err(|e| Error::io(&sibling, e))?;
            }
            sibling
        } else {
            target.clone()
        };
        let created = !path.exists();
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Self {
            path,
            target,
            created,
            started: false,
            finished: false,
            summary: serde_json::Map::new(),
            provenance: super::provenance::Provenance::start(),
        })
    }

    /// An existing run directory, continued in place (`fpgen resume`).
    pub fn open_existing(path: &Path) -> Result<Self> {
        if !path.join("config.toml").is_file() {
            return Err(Error::Data {
                path: path.to_path_buf(),
                message: "not a run directory (no config.toml)".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            target: path.to_path_buf(),
            created: false,
            started: true,
            finished: false,
            summary: serde_json::Map::new(),
            provenance: super::provenance::Provenance::start(),
        })
    }

    /// Start from the summary.json the directory has (a resumed run adding to it).
    pub fn load_summary(&mut self) -> Result<()> {
        let path = self.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        match serde_json::from_str(&text) {
            Ok(serde_json::Value::Object(fields)) => {
                self.summary = fields;
                Ok(())
            }
            Ok(_) => Err(Error::Data { path, message: "not a JSON object".into() }),
            Err(e) => Err(Error::Data { path, message: e.to_string() }),
        }
    }

    /// The run is under way (set up and validated): from here on its outputs are kept.
    pub fn mark_started(&mut self) {
        self.started = true;
    }

    /// Put the run in its place: a started run replaces the old directory (when there
    /// was one); an unstarted one removes what it created. Returns `<out>/<name>`.
    pub fn finish(&mut self) -> Result<PathBuf> {
        if self.finished {
            return Ok(self.target.clone());
        }
        self.finished = true;
        if !self.started {
            if self.created {
                std::fs::remove_dir_all(&self.path).map_err(|e| Error::io(&self.path, e))?;
            }
            return Ok(self.target.clone());
        }
        if self.path != self.target {
            let name = self.target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let old = self.target.with_file_name(format!(".{name}.old"));
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
            }
            std::fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
            std::fs::rename(&self.path, &self.target).map_err(|e| Error::io(&self.path, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
            self.path = self.target.clone();
        }
        Ok(self.target.clone())
    }

    /// `<out>/<name>`, where the run ends up.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where the run writes now (see `create`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file or folder inside the run directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }

    /// Add to summary.json: with `section`, `value` goes under that key; without, the
    /// fields of `value` (an object) go to the top level.
    pub fn add_summary<T: Serialize>(&mut self, section: Option<&str>, value: &T) -> Result<()> {
        let json = serde_json::to_value(value)
            .map_err(|e| Error::Data { path: self.join("summary.json"), message: e.to_string() })?;
        match (section, json) {
            (Some(key), json) => {
                self.summary.insert(key.to_string(), json);
            }
            (None, serde_json::Value::Object(fields)) => self.summary.extend(fields),
            (None, other) => {
                return Err(Error::Data {
                    path: self.join("summary.json"),
                    message: format!("a summary without a section must be an object, got {other}"),
                })
            }
        }
        Ok(())
    }

    /// Write summary.json with everything added so far (atomically); the run has started.
    pub fn write_summary(&mut self) -> Result<()> {
        self.started = true;
        let provenance = serde_json::to_value(self.provenance.ended())
            .map_err(|e| Error::Data { path: self.join("summary.json"), message: e.to_string() })?;
        self.summary.insert("provenance".into(), provenance);
        super::write_json(&self.join("summary.json"), &self.summary)
    }
}

impl Drop for RunDir {
    /// A run directory left without `finish` (an early return) is finished here.
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            log::error!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_out_folder_are_refused() {
        for bad in ["", ".", "..", "a/b", "/tmp/x", "..\\x"] {
            let err = check_run_name(bad).unwrap_err();
            assert_eq!(err.key, "name", "{bad:?}");
        }
        for good in ["run", "a.b", "..x", "run-1_b"] {
            assert!(check_run_name(good).is_ok(), "{good:?}");
        }
    }

    /// Only what is written appears; sections and top-level fields merge in one file.
    #[test]
    fn run_dir_holds_what_is_written_and_one_summary() {
        let out = tempfile::tempdir().unwrap();
        let mut dir = RunDir::create(out.path(), "r", false).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        dir.add_summary(None, &serde_json::json!({ "status": "completed", "steps": 3 })).unwrap();
        dir.add_summary(Some("particles"), &serde_json::json!({ "count": 10 })).unwrap();
        dir.write_summary().unwrap();
        let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((v["status"].as_str(), v["particles"]["count"].as_u64()), (Some("completed"), Some(10)));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("summary.json")], "no temporary file is left");
        assert!(matches!(RunDir::create(out.path(), "r", false), Err(Error::RunDirExists(_))));
        assert!(RunDir::create(out.path(), "..", true).is_err());
        assert!(out.path().exists(), "--force with a bad name removes nothing");
    }

    /// --force keeps the old run until the new one has started and finished; a run that
    /// fails before it starts leaves the old results, and a fresh one leaves nothing.
    #[test]
    fn force_replaces_only_a_started_run() {
        let out = tempfile::tempdir().unwrap();
        let mut first = RunDir::create(out.path(), "r", false).unwrap();
        std::fs::write(first.join("f.txt"), "old").unwrap();
        first.write_summary().unwrap();
        first.finish().unwrap();
        // a replacement that fails before it starts: the old run stays
        let mut failed = RunDir::create(out.path(), "r", true).unwrap();
        std::fs::write(failed.join("f.txt"), "half").unwrap();
        drop(failed.finish());
        assert_eq!(std::fs::read_to_string(out.path().join("r/f.txt")).unwrap(), "old");
        // one that starts replaces it
        let mut second = RunDir::create(out.path(), "r", true).unwrap();
        assert_ne!(second.path(), second.target());
        std::fs::write(second.join("f.txt"), "new").unwrap();
        second.mark_started();
        assert_eq!(second.finish().unwrap(), out.path().join("r"));
        assert_eq!(std::fs::read_to_string(out.path().join("r/f.txt")).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("r")], "no sibling is left");
        // a fresh run that fails before it starts leaves nothing
        drop(RunDir::create(out.path(), "fresh", false).unwrap());
        assert!(!out.path().join("fresh").exists());
    }
}
