//! The run directory `<out>/<name>`: created for one run, holding only what the run
//! writes (folders appear with their first file), and owning summary.json, to which each
//! part of a pipeline adds its fields or its section through one API.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ConfigError, Error, Result};

pub struct RunDir {
    path: PathBuf,
    summary: serde_json::Map<String, serde_json::Value>,
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
    /// `force`, in which case it is emptied first.
    pub fn create(out: &Path, name: &str, force: bool) -> Result<Self> {
        check_run_name(name)?;
        let path = out.join(name);
        if path.exists() {
            let non_empty = std::fs::read_dir(&path).map_err(|e| Error::io(&path, e))?.next().is_some();
            if non_empty {
                if !force {
                    return Err(Error::RunDirExists(path));
                }
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Self { path, summary: serde_json::Map::new() })
    }

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

    /// Write summary.json with everything added so far (atomically).
    pub fn write_summary(&self) -> Result<()> {
        super::write_json(&self.join("summary.json"), &self.summary)
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
}
