//! The forward snapshot store of the reverse-time solver (docs/MATH.md §3): f at checkpoint
//! times, kept in host memory up to a byte budget and spilled to disk (one raw
//! little-endian f64 file per snapshot) beyond it, with linear interpolation in time.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

enum Stored {
    Memory(Vec<f64>),
    Disk(PathBuf),
}

pub struct SnapshotStore {
    len: usize,
    budget_bytes: u64,
    spill_dir: PathBuf,
    times: Vec<f64>,
    stored: Vec<Stored>,
    memory_bytes: u64,
    disk_bytes: u64,
    disk_budget_bytes: u64,
    /// The store made `spill_dir` (and so removes it).
    made_spill_dir: bool,
}

impl SnapshotStore {
    /// A store for fields of `len` values, holding up to `budget_bytes` in memory and the
    /// rest in files under `spill_dir` (created when first needed).
    pub fn new(len: usize, budget_bytes: u64, spill_dir: &Path) -> Self {
        Self {
            len,
            budget_bytes,
            spill_dir: spill_dir.to_path_buf(),
            times: Vec::new(),
            stored: Vec::new(),
            memory_bytes: 0,
            disk_bytes: 0,
            disk_budget_bytes: u64::MAX,
            made_spill_dir: false,
        }
    }

    /// Refuse to spill more than `bytes` to disk (`reverse.disk_budget_mib`).
    pub fn with_disk_budget(mut self, bytes: u64) -> Self {
        self.disk_budget_bytes = bytes;
        self
    }

    /// Add f(t); times must increase strictly.
    pub fn push(&mut self, t: f64, field: &[f64]) -> Result<()> {
        if field.len() != self.len {
            return Err(Error::Numerics(format!(
                "snapshot of {} values into a store of {}",
                field.len(),
                self.len
            )));
        }
        if let Some(&last) = self.times.last() {
            if t.is_nan() || t <= last {
                return Err(Error::Numerics(format!("snapshot times must increase: {t} after {last}")));
            }
        }
        let bytes = 8 * self.len as u64;
        if self.memory_bytes + bytes <= self.budget_bytes {
            self.stored.push(Stored::Memory(field.to_vec()));
            self.memory_bytes += bytes;
        } else {
            if self.disk_bytes + bytes > self.disk_budget_bytes {
                return Err(crate::error::ConfigError::new(
                    "reverse.disk_budget_mib",
                    format!(
                        "the forward snapshots need more than {:.1} MiB on disk beyond reverse.memory_budget_mib; raise either budget or reverse.store_every",
                        self.disk_budget_bytes as f64 / 1048576.0
                    ),
                )
                .into());
            }
            if !self.spill_dir.exists() {
                std::fs::create_dir_all(&self.spill_dir).map_err(|e| Error::io(&self.spill_dir, e))?;
                self.made_spill_dir = true;
            }
            let path = self.spill_dir.join(format!("snapshot_{:08}.f64", self.stored.len()));
            let raw: Vec<u8> = field.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(&path, raw).map_err(|e| Error::io(&path, e))?;
            self.stored.push(Stored::Disk(path));
            self.disk_bytes += bytes;
        }
        self.times.push(t);
        Ok(())
    }

    pub fn times(&self) -> &[f64] {
        &self.times
    }

    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// Snapshot `i` (read from disk when it was spilled).
    pub fn get(&self, i: usize) -> Result<Cow<'_, [f64]>> {
        match &self.stored[i] {
            Stored::Memory(v) => Ok(Cow::Borrowed(v)),
            Stored::Disk(path) => {
                let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
                if raw.len() != 8 * self.len {
                    return Err(Error::Data {
                        path: path.clone(),
                        message: "truncated snapshot file".into(),
                    });
                }
                Ok(Cow::Owned(
                    raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect(),
                ))
            }
        }
    }

    /// f(t) by linear interpolation between the two snapshots around t (t within the
    /// stored range).
    pub fn interpolate(&self, t: f64, out: &mut [f64]) -> Result<()> {
        let (first, last) = match (self.times.first(), self.times.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => return Err(Error::Numerics("the snapshot store is empty".into())),
        };
        if !(t >= first && t <= last) {
            return Err(Error::Numerics(format!("t = {t} is outside the stored range [{first}, {last}]")));
        }
        let k = self.times.partition_point(|&s| s <= t).clamp(1, self.times.len().max(2) - 1);
        if self.times.len() == 1 {
            out.copy_from_slice(&self.get(0)?);
            return Ok(());
        }
        let (t0, t1) = (self.times[k - 1], self.times[k]);
        let w = (t - t0) / (t1 - t0);
        let (a, b) = (self.get(k - 1)?, self.get(k)?);
        for ((o, &x), &y) in out.iter_mut().zip(a.iter()).zip(b.iter()) {
            *o = (1.0 - w) * x + w * y;
        }
        Ok(())
    }
}

impl Drop for SnapshotStore {
    /// The spill files and their folder go with the store, on every exit path.
    fn drop(&mut self) {
        for s in &self.stored {
            if let Stored::Disk(path) = s {
                let _ = std::fs::remove_file(path);
            }
        }
        if self.made_spill_dir {
            let _ = std::fs::remove_dir(&self.spill_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: f64) -> Vec<f64> {
        (0..5).map(|i| 1.0 + i as f64 * t).collect()
    }

    /// Spilling past the disk budget is refused naming the key; dropping the store removes
    /// its files and its folder.
    #[test]
    fn disk_budget_is_kept_and_the_spill_folder_removed() {
        let dir = tempfile::tempdir().unwrap();
        let spill = dir.path().join("spill");
        let mut s = SnapshotStore::new(5, 40, &spill).with_disk_budget(80);
        for k in 0..3 {
            s.push(k as f64, &field(k as f64)).unwrap();
        }
        assert_eq!(s.disk_bytes(), 80);
        match s.push(3.0, &field(3.0)) {
            Err(Error::Config(e)) => assert_eq!(e.key, "reverse.disk_budget_mib"),
            other => panic!("expected the disk budget error, got {:?}", other.err()),
        }
        assert!(spill.exists());
        drop(s);
        assert!(!spill.exists(), "the spill folder goes with the store");
    }

    /// Fields linear in t are interpolated exactly, from memory and from spilled files; the
    /// store reports what it holds where.
    #[test]
    fn interpolates_and_spills_beyond_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        // room for two fields of 5 f64 in memory
        let mut s = SnapshotStore::new(5, 80, dir.path());
        for k in 0..5 {
            s.push(0.5 * k as f64, &field(0.5 * k as f64)).unwrap();
        }
        assert_eq!((s.memory_bytes(), s.disk_bytes()), (80, 120));
        let mut out = vec![0.0; 5];
        for t in [0.0, 0.3, 0.5, 1.2, 1.75, 2.0] {
            s.interpolate(t, &mut out).unwrap();
            for (o, e) in out.iter().zip(field(t)) {
                assert!((o - e).abs() < 1e-14, "t = {t}: {o} vs {e}");
            }
        }
        assert_eq!(s.get(4).unwrap().as_ref(), field(2.0).as_slice());
        assert!(s.interpolate(2.5, &mut out).is_err());
        assert!(s.push(1.0, &field(1.0)).is_err(), "times must increase");
        let spilled = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(spilled, 3);
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "spill files are removed");
    }
}
