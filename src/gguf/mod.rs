//! GGUF, the file format of llama.cpp and the local-LLM tools: read and write.
//!
//! A GGUF file (version 3, little-endian) is a header, a list of typed
//! key/value metadata, a list of tensor infos (name, shape, ggml type, offset)
//! and then the tensor data, each tensor starting at a multiple of the file's
//! alignment (`general.alignment`, default 32). Shapes are ggml's: `dims[0]`
//! is the fastest-moving (the row length), so a matrix with `rows` rows of
//! `cols` values has dims `[cols, rows]`.
//!
//! The reader checks every count, size and offset against the file length
//! before it allocates anything in proportion to it, and keeps the tensor data
//! memory-mapped.

pub mod gpt2;
mod read;
mod write;

pub use read::GgufFile;
pub use write::GgufWriter;

use crate::quant::GgmlType;
use std::path::PathBuf;

/// "GGUF" as the file's first four bytes.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// The version this writer writes (the reader also reads version 2, same layout).
pub const VERSION: u32 = 3;
/// Alignment when the file does not set `general.alignment`.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml's limit on tensor dimensions.
pub const MAX_DIMS: usize = 4;

/// A metadata value, in one of GGUF's thirteen value types.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    /// Elements all of one type (GGUF arrays are homogeneous; they may nest).
    Array(ValueType, Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// The type tag of a metadata value as the file stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    pub fn from_id(id: u32) -> Option<Self> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// Bytes one value of this type takes at least (a string: its length).
    fn min_size(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(..) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// An unsigned or non-negative signed integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// A float of either width (or an integer, as a float).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_u64().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(_, v) => Some(v),
            _ => None,
        }
    }

    /// A string array as `&str`s (None if any element is not a string).
    pub fn as_strings(&self) -> Option<Vec<&str>> {
        self.as_array()?.iter().map(Value::as_str).collect()
    }
}

/// One tensor as the file describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the row length.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// From the start of the data section (a multiple of the alignment).
    pub offset: u64,
    /// Bytes of data (checked: a whole number of blocks).
    pub size: u64,
}

impl TensorInfo {
    /// Number of values.
    pub fn len(&self) -> u64 {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape in row-major (numpy / safetensors) order: dims reversed.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
}

/// What can be wrong with a GGUF file. Each message names the file and says
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("cannot write {path}: {err}")]
    Write { path: PathBuf, err: std::io::Error },
    #[error(
        "{path} is not a GGUF file (it starts with {found:?}, not \"GGUF\"); give a .gguf file, or a model folder"
    )]
    NotGguf { path: PathBuf, found: String },
    #[error(
        "{path} is GGUF version {version}; gptlens reads versions 2 and 3 (convert it again with a current llama.cpp)"
    )]
    Version { path: PathBuf, version: u32 },
    #[error(
        "{path} is truncated or corrupt: {what} needs {need} bytes at offset {at}, but the file has {len}; the download or copy may be incomplete: fetch it again"
    )]
    Truncated {
        path: PathBuf,
        what: String,
        at: u64,
        need: u64,
        len: u64,
    },
    #[error("{path} is not a valid GGUF file: {why}")]
    Corrupt { path: PathBuf, why: String },
    #[error(
        "tensor {tensor} in {path} has type id {id}, which is no ggml type gptlens knows; gptlens runs F32, F16, Q8_0, Q4_1 and Q4_0 (requantize with `gptlens quantize` or llama.cpp's llama-quantize)"
    )]
    UnknownTensorType {
        path: PathBuf,
        tensor: String,
        id: u32,
    },
    #[error(
        "tensor {tensor} in {path} is {ty}; gptlens runs F32, F16, Q8_0, Q4_1 and Q4_0 tensors (requantize with `gptlens quantize --type q8_0`, or llama.cpp's llama-quantize to one of these)"
    )]
    UnsupportedTensorType {
        path: PathBuf,
        tensor: String,
        ty: GgmlType,
    },
    #[error("{path}: {why}")]
    Metadata { path: PathBuf, why: String },
    #[error("{0}")]
    Input(String),
}
