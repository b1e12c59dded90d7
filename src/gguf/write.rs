//! The GGUF writer: metadata and tensors in, one version-3 file out (through a
//! temporary name, so a failed write leaves nothing behind).

use super::{DEFAULT_ALIGNMENT, GgufError, MAGIC, VERSION, Value};
use crate::quant::GgmlType;
use std::io::Write;
use std::path::Path;

struct Tensor {
    name: String,
    dims: Vec<u64>,
    ty: GgmlType,
    data: Vec<u8>,
}

/// Collects metadata and tensors, then writes them in the order given.
#[derive(Default)]
pub struct GgufWriter {
    metadata: Vec<(String, Value)>,
    tensors: Vec<Tensor>,
}

impl GgufWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a metadata entry.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value,
            None => self.metadata.push((key.to_string(), value)),
        }
    }

    fn alignment(&self) -> u64 {
        match self.metadata.iter().find(|(k, _)| k == "general.alignment") {
            Some((_, Value::U32(a))) => u64::from(*a),
            _ => DEFAULT_ALIGNMENT,
        }
    }

    /// Adds a tensor: `shape` row-major (as numpy), `data` already in format `ty`.
    pub fn add_tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        ty: GgmlType,
        data: Vec<u8>,
    ) -> Result<(), GgufError> {
        let dims: Vec<u64> = shape.iter().rev().map(|&d| d as u64).collect();
        let n: u64 = dims.iter().product();
        let ok_rows = dims
            .first()
            .is_some_and(|d| d.is_multiple_of(ty.block_len() as u64));
        if !ok_rows || ty.bytes_for(n) != Some(data.len() as u64) || dims.len() > super::MAX_DIMS {
            return Err(GgufError::Input(format!(
                "tensor {name}: {} bytes of {ty} do not fit shape {shape:?}",
                data.len()
            )));
        }
        if self.tensors.iter().any(|t| t.name == name) {
            return Err(GgufError::Input(format!("tensor {name} added twice")));
        }
        self.tensors.push(Tensor {
            name: name.to_string(),
            dims,
            ty,
            data,
        });
        Ok(())
    }

    /// The whole file as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, GgufError> {
        let align = self.alignment();
        if align == 0 || !align.is_power_of_two() {
            return Err(GgufError::Input(format!(
                "general.alignment {align} is not a power of two"
            )));
        }
        for (k, v) in &self.metadata {
            if !homogeneous(v) {
                return Err(GgufError::Input(format!(
                    "metadata {k}: a GGUF array holds elements of its one type only"
                )));
            }
        }
        let mut out = Vec::new();
        out.extend(MAGIC);
        out.extend(VERSION.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.metadata.len() as u64).to_le_bytes());
        for (k, v) in &self.metadata {
            put_str(&mut out, k);
            out.extend((v.value_type() as u32).to_le_bytes());
            put_value(&mut out, v);
        }
        let mut offset = 0u64;
        let mut offsets = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            put_str(&mut out, &t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            t.dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
            out.extend(t.ty.id().to_le_bytes());
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + t.data.len() as u64).div_ceil(align) * align;
        }
        pad(&mut out, align);
        for t in &self.tensors {
            out.extend(&t.data);
            pad(&mut out, align);
        }
        Ok(out)
    }

    /// Writes the file to `path` (via `path.tmp`, renamed when complete).
    pub fn write(&self, path: &Path) -> Result<(), GgufError> {
        let bytes = self.to_bytes()?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let err = |err| GgufError::Write {
            path: path.to_path_buf(),
            err,
        };
        let result = std::fs::File::create(&tmp)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(e));
        }
        Ok(())
    }
}

fn homogeneous(v: &Value) -> bool {
    match v {
        Value::Array(ty, items) => items
            .iter()
            .all(|i| i.value_type() == *ty && homogeneous(i)),
        _ => true,
    }
}

fn pad(out: &mut Vec<u8>, align: u64) {
    let len = out.len() as u64;
    out.resize((len.div_ceil(align) * align) as usize, 0);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::U8(x) => out.push(*x),
        Value::I8(x) => out.push(*x as u8),
        Value::U16(x) => out.extend(x.to_le_bytes()),
        Value::I16(x) => out.extend(x.to_le_bytes()),
        Value::U32(x) => out.extend(x.to_le_bytes()),
        Value::I32(x) => out.extend(x.to_le_bytes()),
        Value::F32(x) => out.extend(x.to_le_bytes()),
        Value::Bool(x) => out.push(u8::from(*x)),
        Value::String(s) => put_str(out, s),
        Value::Array(ty, items) => {
            out.extend((*ty as u32).to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            items.iter().for_each(|i| put_value(out, i));
        }
        Value::U64(x) => out.extend(x.to_le_bytes()),
        Value::I64(x) => out.extend(x.to_le_bytes()),
        Value::F64(x) => out.extend(x.to_le_bytes()),
    }
}
