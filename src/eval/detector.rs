//! The scene evaluation's detector in candle: the small CNN of
//! scripts/train/diffusion_lab/detector.py, which names the everyday object and the scene of a
//! 32 px picture (trained on pictures the scene painter draws). `lab eval --scenes` runs it on
//! generated pictures; `scene_eval.py --write-eval-set` writes its weights and classes.
//!
//! The layers come from the weight file: pairs of 3×3 convolutions (`convs.{2i}`, `convs.{2i+1}`),
//! each followed by a group norm (`norms.{j}`) and SiLU, a 2×2 max-pool after every pair but the
//! last, then the mean and the max over the picture side by side into two linear heads
//! (`objects`, `scenes`).

use candle_core::{Device, Module, Tensor, D};
use candle_nn::{GroupNorm, Linear};

use crate::model::conv::Conv;
use crate::weights::{read_safetensors, WeightMap};
use crate::{Error, Result};

const GN_EPS: f64 = 1e-5;

pub struct Detector {
    /// (convolution, its norm), in order
    layers: Vec<(Conv, GroupNorm)>,
    objects: Linear,
    scenes: Linear,
}

/// The detector's logits for a batch: objects (n, objects) and scenes (n, scenes).
pub struct Logits {
    pub objects: Tensor,
    pub scenes: Tensor,
}

impl Detector {
    /// Reads `bytes` (safetensors, any float type) with `groups` groups per norm; `name` names the
    /// file in errors.
    pub fn load(name: &str, bytes: &[u8], groups: usize) -> Result<Detector> {
        let weights = read_safetensors(name, bytes)?;
        let dev = Device::Cpu;
        let tensor = |key: &str| -> Result<Tensor> {
            let t = weights.get(key).ok_or_else(|| Error::Weights(format!("{name}: no tensor {key}")))?;
            Ok(Tensor::from_vec(t.data.clone(), t.shape.as_slice(), &dev)?)
        };
        let count = |prefix: &str, weights: &WeightMap| (0..).take_while(|i| weights.contains_key(&format!("{prefix}.{i}.weight"))).count();
        let convs = count("convs", &weights);
        if convs == 0 || convs % 2 != 0 || count("norms", &weights) != convs {
            return Err(Error::Weights(format!("{name}: expected pairs of convolutions, each with a norm; found {convs} convolutions")));
        }
        let mut layers = Vec::with_capacity(convs);
        for i in 0..convs {
            let conv = Conv::new(&tensor(&format!("convs.{i}.weight"))?, &tensor(&format!("convs.{i}.bias"))?, 1, 1)?;
            let (gamma, beta) = (tensor(&format!("norms.{i}.weight"))?, tensor(&format!("norms.{i}.bias"))?);
            let channels = gamma.dim(0)?;
            layers.push((conv, GroupNorm::new(gamma, beta, channels, groups, GN_EPS)?));
        }
        let linear =
            |key: &str| -> Result<Linear> { Ok(Linear::new(tensor(&format!("{key}.weight"))?, Some(tensor(&format!("{key}.bias"))?))) };
        Ok(Detector { layers, objects: linear("objects")?, scenes: linear("scenes")? })
    }

    /// Pictures (n, 3, 32, 32) in [-1, 1] → logits.
    pub fn forward(&self, x: &Tensor) -> Result<Logits> {
        let mut x = x.clone();
        let last = self.layers.len() - 1;
        for (i, (conv, norm)) in self.layers.iter().enumerate() {
            x = norm.forward(&conv.forward(&x)?)?.silu()?;
            if i % 2 == 1 && i < last {
                x = x.max_pool2d(2)?;
            }
        }
        let flat = x.flatten_from(2)?;
        let pooled = Tensor::cat(&[flat.mean(D::Minus1)?, flat.max(D::Minus1)?], 1)?;
        Ok(Logits { objects: self.objects.forward(&pooled)?, scenes: self.scenes.forward(&pooled)? })
    }
}

/// The indices of the `k` largest values of `row`, largest first.
pub fn top_k(row: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::top_k;

    #[test]
    fn top_k_orders_by_value() {
        assert_eq!(top_k(&[0.1, 3.0, -1.0, 2.0], 2), vec![1, 3]);
        assert_eq!(top_k(&[1.0], 5), vec![0]);
    }
}
