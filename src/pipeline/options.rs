//! What a caller may ask of the Lab (which model, steps, seed, guidance, sampler, backend) and
//! the checks that turn it into [`ValidOptions`]; the limits themselves are in crate::limits.

use serde::Deserialize;

use crate::limits::{MAX_GUIDANCE, MAX_SEED, MAX_STEPS, STUDENT_MAX_STEPS};
use crate::sampler::SamplerKind;
use crate::{Error, Result};

/// Which denoiser runs: the distilled student (few steps, guidance baked in) or the teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Student,
    Teacher,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Student => "student",
            ModelKind::Teacher => "teacher",
        }
    }

    /// "student" | "teacher", as the page and the CLI name them.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "student" => Ok(ModelKind::Student),
            "teacher" => Ok(ModelKind::Teacher),
            other => Err(Error::Input(format!("unknown model \"{other}\" (use \"student\" or \"teacher\")"))),
        }
    }

    /// How each model is sampled by default, and its limits.
    pub fn defaults(self) -> ModelDefaults {
        match self {
            // trained for the 1–4 step trailing DDIM schedules (scripts/train/diffusion_lab/distill.py)
            ModelKind::Student => {
                ModelDefaults { steps: 4, max_steps: STUDENT_MAX_STEPS, passes_per_step: 1, guidance: None, sampler: SamplerKind::Ddim }
            }
            ModelKind::Teacher => {
                ModelDefaults { steps: 8, max_steps: MAX_STEPS, passes_per_step: 2, guidance: Some(3.0), sampler: SamplerKind::DpmSolver2M }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ModelDefaults {
    pub steps: usize,
    pub max_steps: usize,
    /// Denoiser passes per step: 2 for classifier-free guidance, 1 when it is baked in.
    pub passes_per_step: usize,
    /// None: guidance is baked into the weights.
    pub guidance: Option<f32>,
    pub sampler: SamplerKind,
}

/// Options of one generation, as the page sends them; what is missing takes the model's default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    /// "student" | "teacher" (default: the student where the model files have one)
    pub model: Option<String>,
    pub steps: Option<f64>,
    pub seed: f64,
    /// Teacher only; the student ignores it (its guidance is baked in).
    pub guidance: Option<f64>,
    /// Teacher only ("ddim" | "dpm"); the student always takes DDIM steps.
    pub sampler: Option<String>,
    /// A second prompt, and how far (0..1) the condition moves from the prompt's embedding
    /// towards its one ("Hund" … "Katze"): the denoiser was trained on blends of captions.
    #[serde(rename = "blendPrompt")]
    pub blend_prompt: Option<String>,
    pub blend: Option<f64>,
}

/// The field names serde reads for `T` (what its `deserialize_struct` is told, renames applied):
/// serde-wasm-bindgen reads only these keys of a JS object and never reports the others, so the
/// wasm API checks option keys against this list.
pub fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// Options checked and converted: every way a number can be wrong gets its own message.
#[derive(Debug, Clone, Copy)]
pub struct ValidOptions {
    pub model: ModelKind,
    pub steps: usize,
    pub seed: u64,
    /// None: no classifier-free guidance pass (the student).
    pub guidance: Option<f32>,
    pub sampler: SamplerKind,
}

/// `v` as a whole number from `lo` to `hi`, or an input error naming `what`.
pub(crate) fn whole_number(v: f64, lo: f64, hi: f64, what: &str) -> Result<f64> {
    if !v.is_finite() || v.fract() != 0.0 || v < lo || v > hi {
        return Err(Error::Input(format!("{what} must be a whole number from {lo} to {hi}, got {v}")));
    }
    Ok(v)
}

impl GenerateOptions {
    /// `has_student`: whether the loaded model files include the distilled student.
    pub fn validate(&self, has_student: bool) -> Result<ValidOptions> {
        let model = match self.model.as_deref() {
            None => {
                if has_student {
                    ModelKind::Student
                } else {
                    ModelKind::Teacher
                }
            }
            Some(name) => match ModelKind::parse(name)? {
                ModelKind::Student if !has_student => {
                    return Err(Error::Input("these model files have no distilled student; use \"teacher\"".into()))
                }
                kind => kind,
            },
        };
        let d = model.defaults();
        let what = format!("steps for the {}", model.name());
        let steps = whole_number(self.steps.unwrap_or(d.steps as f64), 1.0, d.max_steps as f64, &what)? as usize;
        let seed = whole_number(self.seed, 0.0, MAX_SEED, "seed")? as u64;
        if let Some(g) = self.guidance {
            if !g.is_finite() || !(0.0..=MAX_GUIDANCE as f64).contains(&g) {
                return Err(Error::Input(format!("guidance must be between 0 and {MAX_GUIDANCE}, got {g}")));
            }
        }
        let sampler = match &self.sampler {
            Some(s) => SamplerKind::parse(s)?,
            None => d.sampler,
        };
        Ok(match model {
            ModelKind::Student => ValidOptions { model, steps, seed, guidance: None, sampler: SamplerKind::Ddim },
            ModelKind::Teacher => {
                ValidOptions { model, steps, seed, guidance: Some(self.guidance.map_or(d.guidance.unwrap_or(1.0), |g| g as f32)), sampler }
            }
        })
    }
}

/// Which backend a load may take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU on a real GPU; the CPU path when there is none or the adapter is emulated in
    /// software (SwiftShader, lavapipe, WARP): measured there, the CPU path is several times faster.
    #[default]
    Auto,
    /// WebGPU whenever an adapter exists, a software one too (the CPU path only without any).
    #[serde(rename = "webgpu")]
    WebGpu,
    /// The CPU path.
    Cpu,
}

impl BackendChoice {
    /// The name the page and the element's `backend` attribute use.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::WebGpu => "webgpu",
            BackendChoice::Cpu => "cpu",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated_with_messages() {
        assert_eq!(field_names::<GenerateOptions>(), ["model", "steps", "seed", "guidance", "sampler", "blendPrompt", "blend"]);
        assert_eq!(field_names::<u32>(), [] as [&str; 0]);
        let ok = GenerateOptions::default().validate(true).unwrap();
        assert_eq!((ok.model, ok.steps, ok.seed, ok.guidance, ok.sampler), (ModelKind::Student, 4, 0, None, SamplerKind::Ddim));
        let ok = GenerateOptions::default().validate(false).unwrap();
        assert_eq!((ok.model, ok.steps, ok.guidance, ok.sampler), (ModelKind::Teacher, 8, Some(3.0), SamplerKind::DpmSolver2M));
        let teacher = || GenerateOptions { model: Some("teacher".into()), ..Default::default() };
        let bad = |o: GenerateOptions, needle: &str| {
            let e = o.validate(true).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        bad(GenerateOptions { steps: Some(0.0), ..teacher() }, "steps for the teacher must be a whole number from 1 to 100");
        bad(GenerateOptions { steps: Some(10_000.0), ..teacher() }, "steps");
        bad(GenerateOptions { steps: Some(2.5), ..teacher() }, "steps");
        bad(GenerateOptions { steps: Some(5.0), ..Default::default() }, "steps for the student must be a whole number from 1 to 4");
        bad(GenerateOptions { seed: -1.0, ..Default::default() }, "seed");
        bad(GenerateOptions { seed: f64::NAN, ..Default::default() }, "seed");
        bad(GenerateOptions { guidance: Some(1e9), ..teacher() }, "guidance");
        bad(GenerateOptions { sampler: Some("euler".into()), ..teacher() }, "unknown sampler");
        bad(GenerateOptions { model: Some("giant".into()), ..Default::default() }, "unknown model");
        let e = GenerateOptions { model: Some("student".into()), ..Default::default() }.validate(false).unwrap_err();
        assert!(e.to_string().contains("no distilled student"), "{e}");
    }
}
