//! Model files: the manifest (names, bytes, sha256), integrity checks, and safetensors reading.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFiles {
    pub config: String,
    pub weights: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
}

/// www/models/manifest.json
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The teacher: many steps, classifier-free guidance.
    pub denoiser: ModelFiles,
    /// The distilled student (<= 4 steps, guidance baked in); shares the teacher's config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<ModelFiles>,
    pub text_encoder: ModelFiles,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::Weights(format!("manifest.json: {e}")))
    }

    pub fn entry(&self, name: &str) -> Result<&FileEntry> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::Weights(format!("manifest.json does not list {name}")))
    }

    /// Every file the page has to download, in a fixed order.
    pub fn all_names(&self) -> Vec<String> {
        self.files.iter().map(|f| f.name.clone()).collect()
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a downloaded file against its manifest entry: size first (a truncated download says so),
/// then the sha256 (a tampered or wrong file says so).
pub fn verify(entry: &FileEntry, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 != entry.bytes {
        return Err(Error::Weights(format!(
            "{} has {} bytes but the manifest expects {} (truncated or wrong file)",
            entry.name,
            bytes.len(),
            entry.bytes
        )));
    }
    let got = sha256_hex(bytes);
    if got != entry.sha256 {
        return Err(Error::Weights(format!(
            "{} does not match its sha256 in the manifest (file changed or corrupted)",
            entry.name
        )));
    }
    Ok(())
}

/// One tensor as f32 on the host, in row-major order.
#[derive(Debug, Clone)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

pub type WeightMap = HashMap<String, HostTensor>;

/// Reads every tensor of a safetensors file (f16, bf16 or f32) into f32 host memory.
pub fn read_safetensors(name: &str, bytes: &[u8]) -> Result<WeightMap> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::Weights(format!("{name} is not a valid safetensors file: {e}")))?;
    let mut out = HashMap::new();
    for (key, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            safetensors::Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            safetensors::Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::Weights(format!("{name}: tensor {key} has unsupported dtype {other:?}")))
            }
        };
        out.insert(key, HostTensor { shape: view.shape().to_vec(), data });
    }
    Ok(out)
}

/// The tensor `key` with exactly `shape`, or an error naming the file, the key and both shapes.
pub fn expect<'a>(w: &'a WeightMap, file: &str, key: &str, shape: &[usize]) -> Result<&'a HostTensor> {
    let t = w
        .get(key)
        .ok_or_else(|| Error::Weights(format!("{file} lacks tensor {key}")))?;
    if t.shape != shape {
        return Err(Error::Weights(format!(
            "{file}: tensor {key} has shape {:?}, the config expects {:?}",
            t.shape, shape
        )));
    }
    Ok(t)
}
