//! The one denoiser config, read by training (scripts/train), the candle reference and the GPU plan.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UNetConfig {
    pub image_size: usize,
    pub in_channels: usize,
    /// Channels per resolution level; level i works at image_size / 2^i.
    pub channels: Vec<usize>,
    pub groups: usize,
    pub time_freq_dim: usize,
    pub cond_dim: usize,
    pub text_dim: usize,
    pub attn_heads: usize,
    /// "v" (v-prediction) or "eps".
    pub prediction: String,
    pub train_timesteps: usize,
}

impl UNetConfig {
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: UNetConfig = serde_json::from_str(text).map_err(|e| Error::Weights(format!("denoiser.json: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Weights(format!("denoiser.json: {m}")));
        if self.channels.is_empty() || self.image_size == 0 || self.in_channels == 0 {
            return bad("channels, image_size and in_channels must be non-empty");
        }
        if !self.image_size.is_multiple_of(1 << (self.channels.len() - 1)) {
            return bad("image_size must be divisible by 2^(levels-1)");
        }
        if self.groups == 0 || self.train_timesteps == 0 || self.time_freq_dim == 0 {
            return bad("groups, train_timesteps and time_freq_dim must be at least 1");
        }
        if self.channels.iter().any(|c| c % self.groups != 0) {
            return bad("every channel count must be divisible by groups");
        }
        let top = *self.channels.last().unwrap();
        if self.attn_heads == 0 || !top.is_multiple_of(self.attn_heads) {
            return bad("the lowest level's channels must be divisible by attn_heads");
        }
        if !self.time_freq_dim.is_multiple_of(2) {
            return bad("time_freq_dim must be even");
        }
        if self.prediction != "v" && self.prediction != "eps" {
            return bad("prediction must be \"v\" or \"eps\"");
        }
        Ok(())
    }

    /// Number of values in one image: channels × size × size.
    pub fn image_len(&self) -> usize {
        self.in_channels * self.image_size * self.image_size
    }

    /// Floating-point operations (2 per multiply-add) of one denoiser pass for one image,
    /// counted from the layers of `UNet::forward`: convolutions, linear layers and attention;
    /// norms and activations (a few per value) are left out. For GFLOP/s in `lab bench`.
    pub fn flops_per_image(&self) -> u64 {
        let ch = &self.channels;
        let res = |level: usize| (self.image_size >> level) as u64;
        let conv3 = |cin: usize, cout: usize, r: u64| 2 * 9 * (cin * cout) as u64 * r * r;
        let cond = self.cond_dim;
        let res_block = |cin: usize, cout: usize, r: u64| {
            let skip = if cin != cout { 2 * (cin * cout) as u64 * r * r } else { 0 };
            conv3(cin, cout, r) + conv3(cout, cout, r) + skip + 2 * (cond * 2 * cout) as u64
        };
        let mut flops = 2 * (self.time_freq_dim * cond + cond * cond + self.text_dim * cond) as u64;
        flops += conv3(self.in_channels, ch[0], res(0)) + conv3(ch[0], self.in_channels, res(0));
        let mut cin = ch[0];
        for (i, &c) in ch.iter().enumerate() {
            flops += res_block(cin, c, res(i)) + res_block(2 * c, c, res(i));
            if i + 1 < ch.len() {
                flops += conv3(c, c, res(i + 1)); // stride-2 downsample
            }
            if i > 0 {
                flops += conv3(c, ch[i - 1], res(i - 1)); // upsample: nearest ×2, then conv
            }
            cin = c;
        }
        let (top, n) = (cin as u64, res(ch.len() - 1) * res(ch.len() - 1));
        flops += 2 * res_block(cin, cin, res(ch.len() - 1));
        // attention: qkv and output projections, scores and the weighted sum
        flops += 2 * top * 3 * top * n + 2 * top * top * n + 2 * 2 * n * n * top;
        flops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_groups_or_timesteps_are_refused_not_a_division_by_zero() {
        let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/denoiser.json")).unwrap();
        assert!(UNetConfig::from_json(&shipped).is_ok());
        for field in ["groups", "train_timesteps", "time_freq_dim"] {
            let mut v: serde_json::Value = serde_json::from_str(&shipped).unwrap();
            v[field] = 0.into();
            let e = UNetConfig::from_json(&v.to_string()).unwrap_err();
            assert!(e.to_string().contains("must be at least 1"), "{field}: {e}");
            assert_eq!(e.code(), "weights");
        }
    }

    #[test]
    fn flops_of_a_one_level_net_by_hand() {
        let cfg = UNetConfig {
            image_size: 4,
            in_channels: 1,
            channels: vec![2],
            groups: 1,
            time_freq_dim: 2,
            cond_dim: 2,
            text_dim: 2,
            attn_heads: 1,
            prediction: "v".into(),
            train_timesteps: 10,
        };
        // 16 pixels. MLPs 2·(4+4+4) = 24; conv_in 2·9·1·2·16 = 576, out_conv the same;
        // down res 2→2: two convs 2·9·4·16 = 1152 each + FiLM 2·2·4 = 16 → 2320;
        // up res 4→2: conv1 2·9·8·16 = 2304, conv2 1152, skip 2·8·16 = 256, FiLM 16 → 3728;
        // mid: two res blocks 2·2320 = 4640; attention qkv 2·2·6·16 = 384, proj 2·4·16 = 128,
        // scores + sum 4·256·2 = 2048.
        assert_eq!(cfg.flops_per_image(), 24 + 576 + 576 + 2320 + 3728 + 4640 + 384 + 128 + 2048);
    }
}
