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
    /// The teacher: many steps, classifier-free guidance (`denoiser` in the file, which the
    /// training writes and the page reads).
    #[serde(rename = "denoiser")]
    pub teacher: ModelFiles,
    /// The distilled student (<= 4 steps, guidance baked in); shares the teacher's config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<ModelFiles>,
    pub text_encoder: ModelFiles,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Self> {
        let m: Self = serde_json::from_str(text).map_err(|e| Error::Weights(format!("manifest.json: {e}")))?;
        // one entry per file (a second would silently win), and sizes that add up without overflow
        // plain names in the manifest's own folder: no URL, no path, no query (the page fetches
        // them next to the manifest, the CLI reads them from its --models folder)
        let plain =
            |n: &str| !n.is_empty() && !n.starts_with('.') && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if let Some(bad) = m.files.iter().find(|f| !plain(&f.name)) {
            return Err(Error::Weights(format!("manifest.json: {:?} is not a plain file name (letters, digits, '.', '_', '-')", bad.name)));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = m.files.iter().find(|f| !seen.insert(f.name.as_str())) {
            return Err(Error::Weights(format!("manifest.json lists {} twice", dup.name)));
        }
        if m.files.iter().try_fold(0u64, |sum, f| sum.checked_add(f.bytes)).is_none() {
            return Err(Error::Weights("manifest.json: the file sizes add up to more than 2^64 bytes".into()));
        }
        Ok(m)
    }

    pub fn entry(&self, name: &str) -> Result<&FileEntry> {
        self.files.iter().find(|f| f.name == name).ok_or_else(|| Error::Weights(format!("manifest.json does not list {name}")))
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
        return Err(Error::Weights(format!("{} does not match its sha256 in the manifest (file changed or corrupted)", entry.name)));
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

/// Reads every tensor of a safetensors file (f16, bf16, f32, int8 + row scales or NF4 + group
/// scales) into f32 host memory.
pub fn read_safetensors(name: &str, bytes: &[u8]) -> Result<WeightMap> {
    let st =
        safetensors::SafeTensors::deserialize(bytes).map_err(|e| Error::Weights(format!("{name} is not a valid safetensors file: {e}")))?;
    let mut out = HashMap::new();
    for (key, view) in st.tensors() {
        if key.ends_with(SCALE_SUFFIX) || key.ends_with(NF4_SCALE_SUFFIX) {
            continue; // read with its int8 / NF4 tensor
        }
        let raw = view.data();
        // NF4 stores two codes per byte, so its logical shape differs from the stored one
        let mut shape = view.shape().to_vec();
        let data: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            safetensors::Dtype::F16 => raw.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            safetensors::Dtype::BF16 => raw.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            safetensors::Dtype::I8 => dequantize(name, &st, &key, view.shape(), raw)?,
            safetensors::Dtype::U8 => {
                let (logical, data) = dequantize_nf4(name, &st, &key, view.shape(), raw)?;
                shape = logical;
                data
            }
            other => return Err(Error::Weights(format!("{name}: tensor {key} has unsupported dtype {other:?}"))),
        };
        out.insert(key, HostTensor { shape, data });
    }
    Ok(out)
}

/// int8 tensors carry one f16 scale per row (first dimension) in `NAME.qscale`:
/// value = q * scale, as scripts/train/diffusion_lab/quantize.py writes them.
pub const SCALE_SUFFIX: &str = ".qscale";

fn dequantize(name: &str, st: &safetensors::SafeTensors, key: &str, shape: &[usize], raw: &[u8]) -> Result<Vec<f32>> {
    let scale_key = format!("{key}{SCALE_SUFFIX}");
    let scale = st.tensor(&scale_key).map_err(|_| Error::Weights(format!("{name}: int8 tensor {key} has no {scale_key}")))?;
    let rows = shape.first().copied().unwrap_or(1).max(1);
    if scale.dtype() != safetensors::Dtype::F16 || scale.shape() != [rows] {
        return Err(Error::Weights(format!("{name}: {scale_key} must be f16 with {rows} values")));
    }
    let scales = finite_scales(name, &scale_key, scale.data())?;
    let per_row = raw.len() / rows;
    Ok(raw.iter().enumerate().map(|(i, &q)| q as i8 as f32 * scales[i / per_row]).collect())
}

/// f16 scales as f32, refused when one is not finite (a NaN scale would turn the picture black).
fn finite_scales(name: &str, key: &str, raw: &[u8]) -> Result<Vec<f32>> {
    let scales: Vec<f32> = raw.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect();
    match scales.iter().position(|s| !s.is_finite()) {
        Some(i) => Err(Error::Weights(format!("{name}: {key} has a non-finite scale ({} at {i})", scales[i]))),
        None => Ok(scales),
    }
}

/// NF4 matrices: uint8 [rows, cols / 2] codes (the even column in the low nibble) and
/// `NAME.nf4scale`, f16 [rows, groups], one scale per cols / groups values of a row:
/// value = NF4_LEVELS[code] * scale, as quantize.py writes them.
pub const NF4_SCALE_SUFFIX: &str = ".nf4scale";
/// The 16 NF4 levels (QLoRA's normal quantiles in [-1, 1]), the same table as quantize.py.
const NF4_LEVELS: [f32; 16] = [
    -1.0,
    -0.696_192_8,
    -0.525_073_05,
    -0.394_917_5,
    -0.284_441_38,
    -0.184_773_43,
    -0.091_050_036,
    0.0,
    0.079_580_3,
    0.160_930_2,
    0.246_112_3,
    0.337_915_24,
    0.440_709_83,
    0.562_617,
    0.722_956_84,
    1.0,
];

fn dequantize_nf4(name: &str, st: &safetensors::SafeTensors, key: &str, shape: &[usize], raw: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    let scale_key = format!("{key}{NF4_SCALE_SUFFIX}");
    let scale = st.tensor(&scale_key).map_err(|_| Error::Weights(format!("{name}: NF4 tensor {key} has no {scale_key}")))?;
    let &[rows, half_cols] = shape else {
        return Err(Error::Weights(format!("{name}: NF4 tensor {key} must be 2-D, has shape {shape:?}")));
    };
    let cols = 2 * half_cols;
    let groups = scale.shape().get(1).copied().unwrap_or(0);
    if scale.dtype() != safetensors::Dtype::F16 || scale.shape().len() != 2 || scale.shape()[0] != rows || groups == 0 || cols % groups != 0
    {
        return Err(Error::Weights(format!("{name}: {scale_key} must be f16 [{rows}, groups] with groups dividing {cols}")));
    }
    let scales = finite_scales(name, &scale_key, scale.data())?;
    let group = cols / groups;
    let mut data = Vec::with_capacity(rows * cols);
    for (i, byte) in raw.iter().enumerate() {
        let (row, col) = (i / half_cols, 2 * (i % half_cols));
        let s = |c: usize| scales[row * groups + c / group];
        data.push(NF4_LEVELS[(byte & 15) as usize] * s(col));
        data.push(NF4_LEVELS[(byte >> 4) as usize] * s(col + 1));
    }
    Ok((vec![rows, cols], data))
}

/// A candle VarBuilder over the f32 tensors of a safetensors file (any format `read_safetensors` reads).
pub fn var_builder(name: &str, bytes: &[u8]) -> Result<candle_nn::VarBuilder<'static>> {
    let dev = candle_core::Device::Cpu;
    let tensors = read_safetensors(name, bytes)?
        .into_iter()
        .map(|(k, t)| Ok((k, candle_core::Tensor::from_vec(t.data, t.shape, &dev)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    Ok(candle_nn::VarBuilder::from_tensors(tensors, candle_core::DType::F32, &dev))
}

/// The tensor `key` with exactly `shape`, or an error naming the file, the key and both shapes.
pub fn expect<'a>(w: &'a WeightMap, file: &str, key: &str, shape: &[usize]) -> Result<&'a HostTensor> {
    let t = w.get(key).ok_or_else(|| Error::Weights(format!("{file} lacks tensor {key}")))?;
    if t.shape != shape {
        return Err(Error::Weights(format!("{file}: tensor {key} has shape {:?}, the config expects {:?}", t.shape, shape)));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;

    fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
        let views: Vec<(String, TensorView)> =
            tensors.iter().map(|(k, d, s, b)| (k.to_string(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
        safetensors::serialize(views, None).unwrap()
    }

    fn f16_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect()
    }

    #[test]
    fn int8_tensors_are_scaled_per_row() {
        let q: Vec<u8> = [1i8, -2, 127, 0, 3, -127].iter().map(|&v| v as u8).collect();
        let bytes = file(&[
            ("w", Dtype::I8, vec![2, 3], q),
            ("w.qscale", Dtype::F16, vec![2], f16_bytes(&[0.5, 0.25])),
            ("b", Dtype::F16, vec![2], f16_bytes(&[1.5, -2.0])),
        ]);
        let map = read_safetensors("x", &bytes).unwrap();
        assert_eq!(map["w"].data, vec![0.5, -1.0, 63.5, 0.0, 0.75, -31.75]);
        assert_eq!(map["b"].data, vec![1.5, -2.0]);
        assert!(!map.contains_key("w.qscale"));
        let no_scale = file(&[("w", Dtype::I8, vec![2, 3], vec![0; 6])]);
        assert!(read_safetensors("x", &no_scale).unwrap_err().to_string().contains("has no w.qscale"));
    }

    #[test]
    fn non_finite_scales_are_refused() {
        for bad in [f32::NAN, f32::INFINITY] {
            let int8 = file(&[("w", Dtype::I8, vec![2, 1], vec![1, 2]), ("w.qscale", Dtype::F16, vec![2], f16_bytes(&[0.5, bad]))]);
            let e = read_safetensors("x", &int8).unwrap_err().to_string();
            assert!(e.contains("w.qscale has a non-finite scale"), "{e}");
            let nf4 = file(&[("w", Dtype::U8, vec![1, 1], vec![0x10]), ("w.nf4scale", Dtype::F16, vec![1, 1], f16_bytes(&[bad]))]);
            let e = read_safetensors("x", &nf4).unwrap_err().to_string();
            assert!(e.contains("w.nf4scale has a non-finite scale"), "{e}");
        }
    }

    #[test]
    fn a_manifest_with_a_file_twice_or_sizes_past_u64_is_refused() {
        let entry = |name: &str, bytes: u64| format!(r#"{{"name": "{name}", "bytes": {bytes}, "sha256": "00"}}"#);
        let manifest = |files: &[String]| {
            format!(
                r#"{{"denoiser": {{"config": "c", "weights": "a"}}, "text_encoder": {{"config": "c", "weights": "b"}}, "files": [{}]}}"#,
                files.join(",")
            )
        };
        let real = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/manifest.json")).unwrap();
        assert!(Manifest::from_json(&real).is_ok());
        let twice = Manifest::from_json(&manifest(&[entry("a", 1), entry("a", 2)])).err().map(|e| e.to_string());
        assert!(twice.as_deref().is_some_and(|e| e.contains("lists a twice")), "{twice:?}");
        let huge = Manifest::from_json(&manifest(&[entry("a", u64::MAX), entry("b", 1)])).err().map(|e| e.to_string());
        assert!(huge.as_deref().is_some_and(|e| e.contains("more than 2^64")), "{huge:?}");
        for name in ["../a", "/dev/zero", "https://x.org/a", "a?b=1", "sub/a", ".hidden", "", "a b"] {
            let e = Manifest::from_json(&manifest(&[entry(name, 1)])).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.contains("is not a plain file name")), "{name:?}: {e:?}");
        }
    }

    /// What a damaged manifest or weights file says (the page shows it as the detail).
    #[test]
    fn damaged_manifests_and_safetensors_are_refused_with_words() {
        let manifest = |files: &str| {
            format!(r#"{{"denoiser": {{"config": "c", "weights": "a"}}, "text_encoder": {{"config": "c", "weights": "b"}}{files}}}"#)
        };
        for (files, says) in [
            ("", "missing field `files`"),
            (r#", "files": [{"name": "a", "bytes": -1, "sha256": "00"}]"#, "invalid value: integer `-1`"),
            (r#", "files": [{"name": "a", "bytes": 1.5, "sha256": "00"}]"#, "invalid type: floating point `1.5`"),
            (r#", "files": [{"name": "a", "bytes": 1e30, "sha256": "00"}]"#, "invalid type: floating point"),
        ] {
            let e = Manifest::from_json(&manifest(files)).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with("model files: manifest.json") && e.contains(says), "{files}: {e}");
        }
        // a file the manifest lists beside the model's own is kept, not an error
        let extra = manifest(
            r#", "files": [{"name": "a", "bytes": 1, "sha256": "00"}, {"name": "b", "bytes": 1, "sha256": "00"}, {"name": "notes.txt", "bytes": 1, "sha256": "00"}]"#,
        );
        assert_eq!(Manifest::from_json(&extra).unwrap().files.len(), 3);

        let header = |json: &str, data: usize| {
            let mut b = (json.len() as u64).to_le_bytes().to_vec();
            b.extend_from_slice(json.as_bytes());
            b.extend(std::iter::repeat_n(0u8, data));
            b
        };
        let ok = header(r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, 8);
        assert!(read_safetensors("w.safetensors", &ok).is_ok());
        let mut longer = ok.clone();
        longer[..8].copy_from_slice(&(10_000u64).to_le_bytes()); // a header longer than the file
        let mut cut = ok.clone();
        cut.truncate(20); // the header itself cut off
        let wrong_shape = header(r#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, 8);
        for (bytes, what) in [
            (longer, "header longer than the file"),
            (cut, "truncated header"),
            (wrong_shape, "shape and bytes disagree"),
            (vec![1, 2, 3], "shorter than its length field"),
        ] {
            let e = read_safetensors("w.safetensors", &bytes).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.contains("w.safetensors")), "{what}: {e:?}");
        }
    }

    #[test]
    fn nf4_tensors_unpack_two_codes_per_byte_with_group_scales() {
        // one row of 4 values in 2 groups: codes 0, 15 (scale 2) and 7, 14 (scale 0.5)
        let bytes = file(&[("w", Dtype::U8, vec![1, 2], vec![0xF0, 0xE7]), ("w.nf4scale", Dtype::F16, vec![1, 2], f16_bytes(&[2.0, 0.5]))]);
        let map = read_safetensors("x", &bytes).unwrap();
        assert_eq!(map["w"].shape, vec![1, 4]);
        assert_eq!(map["w"].data, vec![-2.0, 2.0, 0.0, NF4_LEVELS[14] * 0.5]);
        assert!(!map.contains_key("w.nf4scale"));
        let bad_groups =
            file(&[("w", Dtype::U8, vec![1, 2], vec![0, 0]), ("w.nf4scale", Dtype::F16, vec![1, 3], f16_bytes(&[1.0, 1.0, 1.0]))]);
        assert!(read_safetensors("x", &bad_groups).unwrap_err().to_string().contains("groups dividing 4"));
    }
}
