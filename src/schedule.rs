//! The noise schedule: cosine alpha_bar (Nichol & Dhariwal 2021), the forward process
//! q(x_t | x_0), timestep spacing for sampling, and the conversions between model outputs.
//! Mirrors scripts/train/diffusion_lab/schedule.py (a test pins the values).

/// Discrete cosine schedule over `alphas_cumprod.len()` training timesteps.
#[derive(Debug, Clone)]
pub struct Schedule {
    alphas_cumprod: Vec<f64>,
}

/// What the denoiser predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    Eps,
    V,
}

impl Prediction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "eps" => Some(Prediction::Eps),
            "v" => Some(Prediction::V),
            _ => None,
        }
    }
}

impl Schedule {
    pub fn cosine(train_timesteps: usize) -> Self {
        let s = 0.008;
        let f = |t: f64| ((t / train_timesteps as f64 + s) / (1.0 + s) * std::f64::consts::FRAC_PI_2).cos().powi(2);
        let mut prod = 1.0;
        let alphas_cumprod = (0..train_timesteps)
            .map(|t| {
                // beta clipped to 0.999 keeps the last steps finite, as in the paper
                let beta = (1.0 - f(t as f64 + 1.0) / f(t as f64)).min(0.999);
                prod *= 1.0 - beta;
                prod
            })
            .collect();
        Self { alphas_cumprod }
    }

    pub fn train_timesteps(&self) -> usize {
        self.alphas_cumprod.len()
    }

    /// alpha_bar(t): the fraction of signal variance left at timestep t.
    pub fn alpha_bar(&self, t: usize) -> f64 {
        self.alphas_cumprod[t]
    }

    /// Forward process: x_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps.
    pub fn q_sample(&self, x0: &[f32], eps: &[f32], t: usize) -> Vec<f32> {
        let a = self.alpha_bar(t);
        let (sa, sn) = (a.sqrt() as f32, (1.0 - a).sqrt() as f32);
        x0.iter().zip(eps).map(|(x, e)| sa * x + sn * e).collect()
    }

    /// `n` timesteps from noisiest to cleanest with "trailing" spacing (Lin et al. 2024), so the
    /// first step always starts at the last training timestep: pure noise.
    pub fn timesteps(&self, n: usize) -> Vec<usize> {
        let big_t = self.train_timesteps() as f64;
        (0..n).map(|i| ((big_t - i as f64 * big_t / n as f64).round() as usize).saturating_sub(1)).collect()
    }

    /// From the model output at timestep t, the predicted noise and the predicted clean image,
    /// exactly as the model implies them (no clipping): what the forward-process view shows.
    pub fn eps_and_x0(&self, prediction: Prediction, x_t: &[f32], out: &[f32], t: usize) -> (Vec<f32>, Vec<f32>) {
        let a = self.alpha_bar(t);
        let (sa, sn) = (a.sqrt(), (1.0 - a).sqrt());
        x_t.iter()
            .zip(out)
            .map(|(&x, &o)| {
                let (x, o) = (x as f64, o as f64);
                let (eps, x0) = match prediction {
                    Prediction::V => (sa * o + sn * x, sa * x - sn * o),
                    Prediction::Eps => (o, (x - sn * o) / sa),
                };
                (eps as f32, x0 as f32)
            })
            .unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_is_monotone_from_clean_to_noise() {
        let s = Schedule::cosine(1000);
        assert!(s.alpha_bar(0) > 0.999);
        assert!(s.alpha_bar(999) < 1e-6);
        for t in 1..1000 {
            assert!(s.alpha_bar(t) < s.alpha_bar(t - 1));
        }
        // pinned against scripts/train/diffusion_lab/schedule.py
        assert!((s.alpha_bar(500) - 0.492285172).abs() < 1e-8, "{}", s.alpha_bar(500));
    }

    #[test]
    fn trailing_timesteps_start_at_pure_noise() {
        let s = Schedule::cosine(1000);
        assert_eq!(s.timesteps(4), vec![999, 749, 499, 249]);
        assert_eq!(s.timesteps(1), vec![999]);
        let many = s.timesteps(1000);
        assert_eq!(many.first(), Some(&999));
        assert_eq!(many.last(), Some(&0));
    }

    #[test]
    fn q_sample_and_eps_and_x0_invert_each_other() {
        let s = Schedule::cosine(1000);
        let x0 = vec![0.5f32, -0.25, 0.9, -1.0];
        let eps = vec![0.1f32, -1.3, 0.7, 2.0];
        for t in [0usize, 10, 400, 900] {
            let xt = s.q_sample(&x0, &eps, t);
            let a = s.alpha_bar(t);
            let v: Vec<f32> = x0.iter().zip(&eps).map(|(x, e)| (a.sqrt() as f32) * e - ((1.0 - a).sqrt() as f32) * x).collect();
            let (e2, x2) = s.eps_and_x0(Prediction::V, &xt, &v, t);
            let (e3, x3) = s.eps_and_x0(Prediction::Eps, &xt, &eps, t);
            for i in 0..4 {
                assert!((x2[i] - x0[i]).abs() < 1e-3 && (x3[i] - x0[i]).abs() < 1e-3, "t={t}");
                if t > 0 {
                    assert!((e2[i] - eps[i]).abs() < 1e-2 && (e3[i] - eps[i]).abs() < 1e-2, "t={t}");
                }
            }
        }
    }
}
