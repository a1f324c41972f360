//! A small seeded random source (SplitMix64 + Box-Muller) so that a seed gives the same noise
//! natively, in wasm and in tests, independent of any crate's version.

pub struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed ^ 0x9E37_79B9_7F4A_7C15, spare: None }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z as f32;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * theta.sin());
        (r * theta.cos()) as f32
    }

    pub fn normal_vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normal()).collect()
    }

    /// `n` values uniform in (offset - scale, offset + scale]: test inputs and weights.
    pub fn uniform_vec(&mut self, n: usize, offset: f32, scale: f32) -> Vec<f32> {
        (0..n).map(|_| offset + scale * (2.0 * self.uniform() - 1.0) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_noise_other_seed_other_noise() {
        assert_eq!(Rng::new(7).normal_vec(100), Rng::new(7).normal_vec(100));
        assert_ne!(Rng::new(7).normal_vec(100), Rng::new(8).normal_vec(100));
    }

    #[test]
    fn noise_is_standard_normal() {
        let v = Rng::new(1).normal_vec(200_000);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }
}
