//! A Zarr v3 store written as a run goes: one group (`run.zarr/zarr.json`) with its
//! attributes and the consolidated metadata of its arrays, and arrays of float64 or int64
//! with named dimensions, so that `xarray.open_zarr(path)` gives labelled data at once.
//!
//! Arrays are either written whole (one chunk: coordinates, diagnostics) or grown along
//! their first axis one chunk at a time (a snapshot per chunk). Chunks are little-endian
//! bytes compressed with gzip. Every file is written atomically, and an array's metadata
//! (its shape) is rewritten only after its new chunk is in place, so a store read at any
//! moment is consistent. The format is the Zarr v3 core specification (no extensions);
//! zarr-python ≥ 3 and xarray read it (tested in CI).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F64,
    I64,
}

impl DType {
    fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::I64 => "int64",
        }
    }

    fn fill_value(self) -> Value {
        match self {
            DType::F64 => json!("NaN"),
            DType::I64 => json!(0),
        }
    }
}

/// Values of an array, in C order.
pub enum Values<'a> {
    F64(&'a [f64]),
    I64(&'a [i64]),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    fn dtype(&self) -> DType {
        match self {
            Values::F64(_) => DType::F64,
            Values::I64(_) => DType::I64,
        }
    }

    fn le_bytes(&self) -> Vec<u8> {
        match self {
            Values::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// The description of one array.
#[derive(Clone, Debug)]
struct ArrayMeta {
    dims: Vec<String>,
    shape: Vec<u64>,
    chunk: Vec<u64>,
    dtype: DType,
    attributes: Map<String, Value>,
}

impl ArrayMeta {
    fn to_json(&self) -> Value {
        json!({
            "zarr_format": 3,
            "node_type": "array",
            "shape": self.shape,
            "data_type": self.dtype.name(),
            "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": self.chunk } },
            "chunk_key_encoding": { "name": "default", "configuration": { "separator": "/" } },
            "fill_value": self.dtype.fill_value(),
            "codecs": [
                { "name": "bytes", "configuration": { "endian": "little" } },
                { "name": "gzip", "configuration": { "level": 1 } }
            ],
            "attributes": self.attributes,
            "dimension_names": self.dims,
        })
    }
}

/// What `arrays` says of one array.
#[derive(Clone, Debug)]
pub struct ArrayInfo {
    pub name: String,
    pub dims: Vec<String>,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub attributes: Map<String, Value>,
}

/// A Zarr v3 group on disk, with its arrays.
pub struct ZarrStore {
    root: PathBuf,
    attributes: Map<String, Value>,
    arrays: BTreeMap<String, ArrayMeta>,
}

impl ZarrStore {
    /// A new, empty store at `root` (an existing one there is replaced).
    pub fn create(root: &Path) -> Result<Self> {
        if root.exists() {
            std::fs::remove_dir_all(root).map_err(|e| Error::io(root, e))?;
        }
        let store = Self { root: root.to_path_buf(), attributes: Map::new(), arrays: BTreeMap::new() };
        store.write_group()?;
        Ok(store)
    }

    /// The store at `root` as written before (a resumed run goes on with it).
    pub fn open(root: &Path) -> Result<Self> {
        let group = read_json(&root.join("zarr.json"))?;
        let attributes = group["attributes"].as_object().cloned().unwrap_or_default();
        let mut arrays = BTreeMap::new();
        if let Some(meta) = group["consolidated_metadata"]["metadata"].as_object() {
            for (name, m) in meta {
                let bad = || Error::Data { path: root.join(name), message: "not a fpgen array".into() };
                let numbers = |key: &str| -> Option<Vec<u64>> {
                    m[key].as_array()?.iter().map(Value::as_u64).collect()
                };
                let dtype = match m["data_type"].as_str() {
                    Some("float64") => DType::F64,
                    Some("int64") => DType::I64,
                    _ => return Err(bad()),
                };
                let dims = m["dimension_names"]
                    .as_array()
                    .and_then(|d| {
                        d.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(bad)?;
                let chunk = m["chunk_grid"]["configuration"]["chunk_shape"]
                    .as_array()
                    .and_then(|c| c.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
                    .ok_or_else(bad)?;
                arrays.insert(
                    name.clone(),
                    ArrayMeta {
                        dims,
                        shape: numbers("shape").ok_or_else(bad)?,
                        chunk,
                        dtype,
                        attributes: m["attributes"].as_object().cloned().unwrap_or_default(),
                    },
                );
            }
        }
        Ok(Self { root: root.to_path_buf(), attributes, arrays })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Add or replace attributes of the group.
    pub fn set_attributes(&mut self, attributes: Map<String, Value>) -> Result<()> {
        self.attributes.extend(attributes);
        self.write_group()
    }

    /// Write `values` as the whole array `name` with dimensions `dims` of sizes `shape`
    /// (one chunk).
    pub fn write_array(
        &mut self,
        name: &str,
        dims: &[&str],
        shape: &[usize],
        values: Values<'_>,
        attributes: Map<String, Value>,
    ) -> Result<()> {
        let count: usize = shape.iter().product();
        if values.len() != count || dims.len() != shape.len() {
            return Err(self.shape_error(name, values.len(), shape));
        }
        let meta = ArrayMeta {
            dims: dims.iter().map(|d| d.to_string()).collect(),
            shape: shape.iter().map(|&n| n as u64).collect(),
            // a zero-length axis still needs a chunk edge of at least 1
            chunk: shape.iter().map(|&n| n.max(1) as u64).collect(),
            dtype: values.dtype(),
            attributes,
        };
        if count > 0 {
            self.write_chunk(name, &vec![0; shape.len()], &values)?;
        }
        self.put_meta(name, meta)
    }

    /// Start an array grown along its first dimension `dims[0]`, one slab of shape
    /// `slab` at a time (`append`); it starts empty.
    pub fn start_growing(
        &mut self,
        name: &str,
        dims: &[&str],
        slab: &[usize],
        dtype: DType,
        attributes: Map<String, Value>,
    ) -> Result<()> {
        if dims.len() != slab.len() + 1 {
            return Err(self.shape_error(name, 0, slab));
        }
        let meta = ArrayMeta {
            dims: dims.iter().map(|d| d.to_string()).collect(),
            shape: std::iter::once(0).chain(slab.iter().map(|&n| n as u64)).collect(),
            chunk: std::iter::once(1).chain(slab.iter().map(|&n| n.max(1) as u64)).collect(),
            dtype,
            attributes,
        };
        self.put_meta(name, meta)
    }

    /// Append one slab to a growing array; returns its index along the first axis.
    pub fn append(&mut self, name: &str, values: Values<'_>) -> Result<usize> {
        let meta = self
            .arrays
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Data { path: self.root.join(name), message: "no such array".into() })?;
        let slab: Vec<usize> = meta.shape[1..].iter().map(|&n| n as usize).collect();
        if values.len() != slab.iter().product::<usize>() || values.dtype() != meta.dtype {
            return Err(self.shape_error(name, values.len(), &slab));
        }
        let index = meta.shape[0] as usize;
        let mut key = vec![0; meta.shape.len()];
        key[0] = index;
        self.write_chunk(name, &key, &values)?;
        let mut meta = meta;
        meta.shape[0] += 1;
        self.put_meta(name, meta)?;
        Ok(index)
    }

    /// Cut a growing array back to its first `len` slabs (a resumed run rewrites the rest).
    pub fn truncate(&mut self, name: &str, len: usize) -> Result<()> {
        if let Some(mut meta) = self.arrays.get(name).cloned() {
            if (len as u64) < meta.shape[0] {
                meta.shape[0] = len as u64;
                self.put_meta(name, meta)?;
            }
        }
        Ok(())
    }

    /// The values of an array written whole (`write_array`), as f64 (int64 converted).
    pub fn read_whole(&self, name: &str) -> Result<Vec<f64>> {
        let meta = self.meta(name)?;
        if meta.shape.iter().product::<u64>() == 0 {
            return Ok(Vec::new());
        }
        self.read_chunk(name, meta, 0)
    }

    /// Slab `index` of a growing array (`start_growing`, `append`).
    pub fn read_slab(&self, name: &str, index: usize) -> Result<Vec<f64>> {
        let meta = self.meta(name)?;
        if index as u64 >= meta.shape[0] {
            return Err(Error::Data {
                path: self.root.join(name),
                message: format!("slab {index} of {}", meta.shape[0]),
            });
        }
        self.read_chunk(name, meta, index)
    }

    /// The group's attributes.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// Every array of the store, by name.
    pub fn arrays(&self) -> Vec<ArrayInfo> {
        self.arrays
            .iter()
            .map(|(name, m)| ArrayInfo {
                name: name.clone(),
                dims: m.dims.clone(),
                shape: m.shape.iter().map(|&n| n as usize).collect(),
                dtype: m.dtype,
                attributes: m.attributes.clone(),
            })
            .collect()
    }

    /// All values of an array, whole or grown (its slabs in order), as f64 in C order.
    pub fn read_all(&self, name: &str) -> Result<Vec<f64>> {
        let meta = self.meta(name)?;
        // a whole array is one chunk; a grown one has a chunk per slab along its first axis
        if meta.shape.is_empty() || meta.chunk[0] >= meta.shape[0] {
            return self.read_whole(name);
        }
        let mut out = Vec::new();
        for index in 0..meta.shape[0] as usize {
            out.extend(self.read_chunk(name, meta, index)?);
        }
        Ok(out)
    }

    fn meta(&self, name: &str) -> Result<&ArrayMeta> {
        self.arrays
            .get(name)
            .ok_or_else(|| Error::Data { path: self.root.join(name), message: "no such array".into() })
    }

    /// The chunk whose first key is `first` (the others 0), decoded.
    fn read_chunk(&self, name: &str, meta: &ArrayMeta, first: usize) -> Result<Vec<f64>> {
        let mut path = self.root.join(name).join("c").join(first.to_string());
        for _ in 1..meta.shape.len() {
            path.push("0");
        }
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut bytes)
            .map_err(|e| Error::io(&path, e))?;
        let words = bytes.chunks_exact(8).map(|b| <[u8; 8]>::try_from(b).unwrap_or_default());
        Ok(match meta.dtype {
            DType::F64 => words.map(f64::from_le_bytes).collect(),
            DType::I64 => words.map(|w| i64::from_le_bytes(w) as f64).collect(),
        })
    }

    /// Slabs in a growing array.
    pub fn len(&self, name: &str) -> usize {
        self.arrays.get(name).map_or(0, |m| m.shape[0] as usize)
    }

    fn shape_error(&self, name: &str, got: usize, shape: &[usize]) -> Error {
        Error::Data {
            path: self.root.join(name),
            message: format!("{got} values do not fill an array of shape {shape:?}"),
        }
    }

    fn write_chunk(&self, name: &str, key: &[usize], values: &Values<'_>) -> Result<()> {
        let mut path = self.root.join(name).join("c");
        for k in key {
            path.push(k.to_string());
        }
        let bytes = values.le_bytes();
        super::write_atomic(&path, |file| {
            let mut gz =
                flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
            gz.write_all(&bytes)?;
            gz.finish()?.flush()
        })
    }

    fn put_meta(&mut self, name: &str, meta: ArrayMeta) -> Result<()> {
        super::write_json(&self.root.join(name).join("zarr.json"), &meta.to_json())?;
        self.arrays.insert(name.to_string(), meta);
        self.write_group()
    }

    /// The group's zarr.json: its attributes and the consolidated metadata of every
    /// array (what xarray reads first), kept in step with the arrays' own files.
    fn write_group(&self) -> Result<()> {
        let metadata: Map<String, Value> =
            self.arrays.iter().map(|(name, meta)| (name.clone(), meta.to_json())).collect();
        let group = json!({
            "zarr_format": 3,
            "node_type": "group",
            "attributes": self.attributes,
            "consolidated_metadata": { "kind": "inline", "must_understand": false, "metadata": metadata },
        });
        super::write_json(&self.root.join("zarr.json"), &group)
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Data { path: path.to_path_buf(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn chunk(path: &Path) -> Vec<f64> {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut bytes).unwrap();
        bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
    }

    /// Chunks hold the values (gzip of little-endian bytes) under the default key
    /// encoding; the shapes in the array and group metadata follow the appends, and a
    /// reopened store goes on where it was.
    #[test]
    fn arrays_are_written_and_grown_in_zarr_v3_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run.zarr");
        let mut store = ZarrStore::create(&root).unwrap();
        store.write_array("x", &["x"], &[3], Values::F64(&[-1.0, 0.0, 1.0]), Map::new()).unwrap();
        store.start_growing("f", &["t", "x"], &[3], DType::F64, Map::new()).unwrap();
        store.append("f", Values::F64(&[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(store.append("f", Values::F64(&[4.0, 5.0, 6.0])).unwrap(), 1);
        assert!(store.append("f", Values::F64(&[1.0])).is_err());
        assert_eq!(chunk(&root.join("x/c/0")), vec![-1.0, 0.0, 1.0]);
        assert_eq!(chunk(&root.join("f/c/1/0")), vec![4.0, 5.0, 6.0]);
        let meta = read_json(&root.join("f/zarr.json")).unwrap();
        assert_eq!(meta["shape"], json!([2, 3]));
        assert_eq!(meta["dimension_names"], json!(["t", "x"]));
        let group = read_json(&root.join("zarr.json")).unwrap();
        assert_eq!(group["node_type"], "group");
        assert_eq!(group["consolidated_metadata"]["metadata"]["f"]["shape"], json!([2, 3]));
        let mut again = ZarrStore::open(&root).unwrap();
        assert_eq!(again.len("f"), 2);
        again.truncate("f", 1).unwrap();
        assert_eq!(again.append("f", Values::F64(&[7.0, 8.0, 9.0])).unwrap(), 1);
        assert_eq!(chunk(&root.join("f/c/1/0")), vec![7.0, 8.0, 9.0]);
        assert_eq!(again.read_slab("f", 1).unwrap(), vec![7.0, 8.0, 9.0]);
        assert_eq!(again.read_whole("x").unwrap(), vec![-1.0, 0.0, 1.0]);
        assert!(again.read_slab("f", 2).is_err());
    }
}
