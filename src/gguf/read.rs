//! The GGUF reader: parse the header, metadata and tensor infos, check every
//! size against the file, keep the data memory-mapped.

use super::{DEFAULT_ALIGNMENT, GgufError, MAGIC, MAX_DIMS, TensorInfo, Value, ValueType};
use crate::quant::{self, GgmlType};
use std::path::{Path, PathBuf};

/// Arrays inside arrays deeper than this are refused (a hostile file could
/// otherwise recurse the reader into a stack overflow).
const MAX_NESTING: usize = 4;

enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// An open GGUF file: its metadata and tensor infos parsed and checked, its
/// tensor data mapped.
pub struct GgufFile {
    path: PathBuf,
    bytes: Bytes,
    version: u32,
    metadata: Vec<(String, Value)>,
    tensors: Vec<TensorInfo>,
    alignment: u64,
    data_offset: u64,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("metadata", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        let left = (self.b.len() - self.pos) as u64;
        if n > left {
            return Err(GgufError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                at: self.pos as u64,
                need: n,
                len: self.b.len() as u64,
            });
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn left(&self) -> u64 {
        (self.b.len() - self.pos) as u64
    }

    /// Refuses `n` items of at least `each` bytes when the rest of the file
    /// cannot hold them: checked before any Vec of that length exists.
    fn room(&self, n: u64, each: u64, what: &dyn Fn() -> String) -> Result<(), GgufError> {
        let need = n.checked_mul(each);
        if need.is_none_or(|need| need > self.left()) {
            return Err(GgufError::Truncated {
                path: self.path.to_path_buf(),
                what: what(),
                at: self.pos as u64,
                need: need.unwrap_or(u64::MAX),
                len: self.b.len() as u64,
            });
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N], GgufError> {
        Ok(self.take(N as u64, what)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, GgufError> {
        let n = self.u64(what)?;
        // take() checks n against the bytes left before anything is allocated.
        let raw = self.take(n, what)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| self.corrupt(format!("{} is not UTF-8", what())))
    }

    fn corrupt(&self, why: String) -> GgufError {
        GgufError::Corrupt {
            path: self.path.to_path_buf(),
            why,
        }
    }

    fn value_type(&mut self, what: &dyn Fn() -> String) -> Result<ValueType, GgufError> {
        let id = self.u32(what)?;
        ValueType::from_id(id).ok_or_else(|| {
            self.corrupt(format!(
                "{} has value type {id}, which GGUF does not define (0–12)",
                what()
            ))
        })
    }

    fn value(
        &mut self,
        ty: ValueType,
        what: &dyn Fn() -> String,
        depth: usize,
    ) -> Result<Value, GgufError> {
        Ok(match ty {
            ValueType::U8 => Value::U8(self.array::<1>(what)?[0]),
            ValueType::I8 => Value::I8(self.array::<1>(what)?[0] as i8),
            ValueType::U16 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            ValueType::I16 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            ValueType::U32 => Value::U32(self.u32(what)?),
            ValueType::I32 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            ValueType::F32 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            ValueType::Bool => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(
                        self.corrupt(format!("{} is a bool stored as {b} (not 0 or 1)", what()))
                    );
                }
            },
            ValueType::String => Value::String(self.string(what)?),
            ValueType::U64 => Value::U64(self.u64(what)?),
            ValueType::I64 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            ValueType::F64 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            ValueType::Array => {
                if depth >= MAX_NESTING {
                    return Err(
                        self.corrupt(format!("{} nests arrays deeper than {MAX_NESTING}", what()))
                    );
                }
                let ety = self.value_type(what)?;
                let n = self.u64(what)?;
                // Each element takes at least min_size bytes: a count the rest
                // of the file cannot hold is refused before the Vec exists.
                self.room(n, ety.min_size(), &|| format!("{} ({n} elements)", what()))?;
                let mut v = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let w = || format!("{} element {i}", what());
                    v.push(self.value(ety, &w, depth + 1)?);
                }
                Value::Array(ety, v)
            }
        })
    }
}

impl GgufFile {
    /// Opens and checks `path`; the tensor data stays mapped.
    pub fn open(path: &Path) -> Result<Self, GgufError> {
        let io = |err| GgufError::Io {
            path: path.to_path_buf(),
            err,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let bytes = if len < 1 << 16 {
            Bytes::Owned(std::fs::read(path).map_err(io)?)
        } else {
            // SAFETY: the map is read-only; as for every mapped model file, a
            // file changed underneath a running program is outside what it
            // can guard against.
            Bytes::Map(unsafe { memmap2::Mmap::map(&file) }.map_err(io)?)
        };
        Self::parse(path.to_path_buf(), bytes)
    }

    /// Parses a GGUF file held in memory (`path` names it in messages).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, GgufError> {
        Self::parse(path.to_path_buf(), Bytes::Owned(bytes))
    }

    fn parse(path: PathBuf, bytes: Bytes) -> Result<Self, GgufError> {
        let b = bytes.as_slice();
        let mut c = Cursor {
            b,
            pos: 0,
            path: &path,
        };
        let head = &b[..b.len().min(4)];
        if head != MAGIC {
            if head.len() < 4 && MAGIC.starts_with(head) {
                return Err(GgufError::Truncated {
                    path: path.clone(),
                    what: "the magic number".into(),
                    at: 0,
                    need: 4,
                    len: b.len() as u64,
                });
            }
            return Err(GgufError::NotGguf {
                found: String::from_utf8_lossy(head).escape_debug().to_string(),
                path: path.clone(),
            });
        }
        c.pos = 4;
        let version = c.u32(&|| "the version".into())?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::Version {
                path: path.clone(),
                version,
            });
        }
        let n_tensors = c.u64(&|| "the tensor count".into())?;
        let n_kv = c.u64(&|| "the metadata count".into())?;

        // A key/value pair takes at least 8 (key length) + 4 (type) + 1 bytes.
        c.room(n_kv, 13, &|| {
            format!("{n_kv} metadata entries (at least 13 bytes each)")
        })?;
        let mut metadata: Vec<(String, Value)> = Vec::with_capacity(n_kv as usize);
        for i in 0..n_kv {
            let key = c.string(&|| format!("the key of metadata entry {i}"))?;
            let what = || format!("metadata value {key}");
            let ty = c.value_type(&what)?;
            let v = c.value(ty, &what, 0)?;
            if metadata.iter().any(|(k, _)| *k == key) {
                return Err(c.corrupt(format!("metadata key {key} appears twice")));
            }
            metadata.push((key, v));
        }

        let alignment = match metadata.iter().find(|(k, _)| k == "general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some((_, Value::U32(a))) if *a != 0 && a.is_power_of_two() => u64::from(*a),
            Some((_, v)) => {
                return Err(c.corrupt(format!(
                    "general.alignment is {v:?}; it must be a uint32 power of two"
                )));
            }
        };

        // A tensor info takes at least 8 (name length) + 4 + 8 + 4 + 8 bytes.
        c.room(n_tensors, 32, &|| {
            format!("{n_tensors} tensors (at least 32 bytes of info each)")
        })?;
        let mut raw = Vec::with_capacity(n_tensors as usize);
        for i in 0..n_tensors {
            let name = c.string(&|| format!("the name of tensor {i}"))?;
            let what = || format!("the info of tensor {name}");
            let n_dims = c.u32(&what)? as usize;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(c.corrupt(format!(
                    "tensor {name} has {n_dims} dimensions; ggml tensors have 1 to {MAX_DIMS}"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                dims.push(c.u64(&what)?);
            }
            let id = c.u32(&what)?;
            let offset = c.u64(&what)?;
            raw.push((name, dims, id, offset));
        }
        let data_offset = (c.pos as u64).div_ceil(alignment) * alignment;
        let file_len = b.len() as u64;

        let mut tensors: Vec<TensorInfo> = Vec::with_capacity(raw.len());
        for (name, dims, id, offset) in raw {
            let Some(ty) = GgmlType::from_id(id) else {
                return Err(GgufError::UnknownTensorType {
                    path,
                    tensor: name,
                    id,
                });
            };
            let n = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            let size = n.and_then(|n| {
                dims[0]
                    .is_multiple_of(ty.block_len() as u64)
                    .then(|| ty.bytes_for(n))
                    .flatten()
            });
            let Some(size) = size else {
                return Err(c.corrupt(format!(
                    "tensor {name} ({ty}, dims {dims:?}) is not a whole number of {ty} blocks of {} per row",
                    ty.block_len()
                )));
            };
            if !offset.is_multiple_of(alignment) {
                return Err(c.corrupt(format!(
                    "tensor {name} starts at data offset {offset}, not a multiple of the alignment {alignment}"
                )));
            }
            let end = data_offset
                .checked_add(offset)
                .and_then(|s| s.checked_add(size));
            if end.is_none_or(|e| e > file_len) {
                return Err(GgufError::Truncated {
                    path,
                    what: format!("the data of tensor {name} ({ty}, dims {dims:?})"),
                    at: data_offset.saturating_add(offset),
                    need: size,
                    len: file_len,
                });
            }
            if tensors.iter().any(|t| t.name == name) {
                return Err(c.corrupt(format!("tensor {name} appears twice")));
            }
            tensors.push(TensorInfo {
                name,
                dims,
                ty,
                offset,
                size,
            });
        }
        // No two tensors may share bytes.
        let mut spans: Vec<(u64, u64, &str)> = tensors
            .iter()
            .map(|t| (t.offset, t.offset + t.size, t.name.as_str()))
            .collect();
        spans.sort_unstable();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(c.corrupt(format!(
                    "the data of tensors {} and {} overlap",
                    w[0].2, w[1].2
                )));
            }
        }

        Ok(GgufFile {
            path,
            bytes,
            version,
            metadata,
            tensors,
            alignment,
            data_offset,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// The metadata in file order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.metadata
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Where the data section starts in the file.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// The raw bytes of a tensor (bounds checked when the file was opened).
    pub fn data(&self, t: &TensorInfo) -> &[u8] {
        let start = (self.data_offset + t.offset) as usize;
        &self.bytes.as_slice()[start..start + t.size as usize]
    }

    /// A tensor's values as f32, in row-major order.
    pub fn dequantize(&self, t: &TensorInfo) -> Result<Vec<f32>, GgufError> {
        if !t.ty.runnable() {
            return Err(GgufError::UnsupportedTensorType {
                path: self.path.clone(),
                tensor: t.name.clone(),
                ty: t.ty,
            });
        }
        quant::dequantize(t.ty, self.data(t), t.len() as usize).map_err(|e| GgufError::Corrupt {
            path: self.path.clone(),
            why: format!("tensor {}: {e}", t.name),
        })
    }
}
