//! The forward process q(x_t | x_0) as the page shows it: a picture, the noise added at one
//! level, and what the teacher makes of it.

use super::lab::Lab;
use super::options::{whole_number, ModelKind};
use crate::limits::MAX_SEED;
use crate::{Error, Result};

/// The forward process at one noise level, and what the model makes of it.
pub struct ForwardView {
    pub t: usize,
    pub alpha_bar: f64,
    pub x_t: Vec<f32>,
    /// The noise that was added.
    pub noise: Vec<f32>,
    /// The teacher's estimate of that noise.
    pub eps_hat: Vec<f32>,
    /// The clean image the estimate implies.
    pub x0_hat: Vec<f32>,
    /// Mean squared difference between the noise and its estimate.
    pub noise_error: f64,
}

impl Lab {
    /// The forward process q(x_t | x_0) at timestep `t` with the seed's noise, and the teacher's
    /// (conditional) estimate of that noise: what "the model learns how much noise was added"
    /// looks like. `x0`: C×S×S in [-1, 1]. An empty prompt gives the unconditional estimate.
    pub async fn forward_process(&self, x0: &[f32], prompt: &str, t: f64, seed: f64) -> Result<ForwardView> {
        if x0.len() != self.cfg.image_len() {
            return Err(Error::Input(format!("the image has {} values, expected {}", x0.len(), self.cfg.image_len())));
        }
        let t = whole_number(t, 0.0, (self.cfg.train_timesteps - 1) as f64, "t")? as usize;
        let seed = whole_number(seed, 0.0, MAX_SEED, "seed")? as u64;
        let text = if prompt.trim().is_empty() { vec![0.0; self.cfg.text_dim] } else { self.text.encode(prompt)? };
        let noise = crate::rng::Rng::new(seed).normal_vec(x0.len());
        let x_t = self.schedule.q_sample(x0, &noise, t);
        // the teacher's GPU plan runs batches of two (the same input twice); the CPU runs one
        let copies = if self.gpu().is_some() { 2 } else { 1 };
        let out = self.denoise_batch(ModelKind::Teacher, &x_t.repeat(copies), &vec![t as f32; copies], &text.repeat(copies)).await?;
        let (eps_hat, x0_hat) = self.schedule.eps_and_x0(self.prediction, &x_t, &out[..x_t.len()], t);
        let noise_error = noise.iter().zip(&eps_hat).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / noise.len() as f64;
        Ok(ForwardView { t, alpha_bar: self.schedule.alpha_bar(t), x_t, noise, eps_hat, x0_hat, noise_error })
    }
}
