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
        let cfg: UNetConfig =
            serde_json::from_str(text).map_err(|e| Error::Weights(format!("denoiser.json: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Weights(format!("denoiser.json: {m}")));
        if self.channels.is_empty() || self.image_size == 0 || self.in_channels == 0 {
            return bad("channels, image_size and in_channels must be non-empty");
        }
        if self.image_size % (1 << (self.channels.len() - 1)) != 0 {
            return bad("image_size must be divisible by 2^(levels-1)");
        }
        if self.channels.iter().any(|c| c % self.groups != 0) {
            return bad("every channel count must be divisible by groups");
        }
        let top = *self.channels.last().unwrap();
        if self.attn_heads == 0 || top % self.attn_heads != 0 {
            return bad("the lowest level's channels must be divisible by attn_heads");
        }
        if self.time_freq_dim % 2 != 0 {
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
}
