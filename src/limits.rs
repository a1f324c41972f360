//! Every limit and default a caller of the Lab meets, in one place. The Lab checks them, the
//! wasm API exports them (`limits()`, which the page asks its worker for before it checks a form or an attribute,
//! and `Lab.models` once a model is loaded), and tests bind the training's distillation to them.

use serde::Serialize;

use crate::pipeline::{BackendChoice, ModelKind};
use crate::sampler::SamplerKind;
use crate::schedule::Schedule;

/// Denoising steps of the teacher at most (and of any run).
pub const MAX_STEPS: usize = 100;
/// The student is distilled for 1 to 4 steps (scripts/train/diffusion_lab/distill.py).
pub const STUDENT_MAX_STEPS: usize = 4;
pub const MAX_GUIDANCE: f32 = 20.0;
/// 2^53 - 1: the largest integer a JS number carries exactly.
pub const MAX_SEED: f64 = 9_007_199_254_740_991.0;
/// Characters a prompt may have; anything longer is refused with a message, not cut silently.
pub const MAX_PROMPT_CHARS: usize = 1000;

/// What the page checks its inputs against before it asks the Lab (which checks them again).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub steps_min: usize,
    pub steps_max: usize,
    pub prompt_max_chars: usize,
    pub seed_max: f64,
    pub guidance_min: f32,
    pub guidance_max: f32,
    /// The `backend` a load may ask for: "auto", "webgpu", "cpu".
    pub backends: Vec<&'static str>,
    /// The teacher's samplers: "ddim", "dpm".
    pub samplers: Vec<&'static str>,
    /// What a model folder with both models holds, until a loaded one says what it has.
    pub models: Models,
}

/// `{default, student?, teacher}`, as the page reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Models {
    pub default: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<ModelSpec>,
    pub teacher: ModelSpec,
}

/// How one model is sampled by default, and its limits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSpec {
    pub steps: usize,
    pub max_steps: usize,
    pub passes_per_step: usize,
    /// None (null): guidance is baked into the student's weights.
    pub guidance: Option<f32>,
    pub sampler: &'static str,
    /// The timesteps the default number of steps visits, noisiest first (known once a model's
    /// schedule is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timesteps: Option<Vec<usize>>,
}

impl ModelSpec {
    pub fn new(kind: ModelKind, schedule: Option<&Schedule>) -> Self {
        let d = kind.defaults();
        ModelSpec {
            steps: d.steps,
            max_steps: d.max_steps,
            passes_per_step: d.passes_per_step,
            guidance: d.guidance,
            sampler: d.sampler.name(),
            timesteps: schedule.map(|s| s.timesteps(d.steps)),
        }
    }
}

impl Models {
    pub fn new(has_student: bool, schedule: Option<&Schedule>) -> Self {
        Models {
            default: if has_student { ModelKind::Student } else { ModelKind::Teacher }.name(),
            student: has_student.then(|| ModelSpec::new(ModelKind::Student, schedule)),
            teacher: ModelSpec::new(ModelKind::Teacher, schedule),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps_min: 1,
            steps_max: MAX_STEPS,
            prompt_max_chars: MAX_PROMPT_CHARS,
            seed_max: MAX_SEED,
            guidance_min: 0.0,
            guidance_max: MAX_GUIDANCE,
            backends: [BackendChoice::Auto, BackendChoice::WebGpu, BackendChoice::Cpu].map(BackendChoice::name).to_vec(),
            samplers: [SamplerKind::Ddim, SamplerKind::DpmSolver2M].map(SamplerKind::name).to_vec(),
            models: Models::new(true, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::GenerateOptions;

    /// Every name the page may send is one the Lab takes, and nothing else is.
    #[test]
    fn the_exported_names_are_the_ones_the_lab_reads() {
        let l = Limits::default();
        for name in &l.backends {
            let choice: BackendChoice = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(choice.name(), *name);
        }
        assert!(serde_json::from_str::<BackendChoice>("\"gpu\"").is_err());
        for name in &l.samplers {
            assert_eq!(SamplerKind::parse(name).unwrap().name(), *name);
        }
        let teacher = |steps: f64| GenerateOptions { model: Some("teacher".into()), steps: Some(steps), ..Default::default() };
        assert!(teacher(l.steps_max as f64).validate(true).is_ok());
        assert!(teacher((l.steps_max + 1) as f64).validate(true).is_err());
        assert!(teacher(l.steps_min as f64 - 1.0).validate(true).is_err());
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["models"]["student"]["maxSteps"], STUDENT_MAX_STEPS);
        assert_eq!(json["models"]["student"]["guidance"], serde_json::Value::Null);
        assert_eq!(json["models"]["teacher"]["sampler"], "dpm");
        assert_eq!(json["seedMax"], MAX_SEED);
        assert!(json["models"]["teacher"].get("timesteps").is_none(), "no schedule, no timesteps");
        assert!(Models::new(false, None).student.is_none());
    }

    /// The page reads every limit from `limits()` but two things it needs before the wasm runs:
    /// the backend names (it picks a worker by them) and the forward slider's range until a
    /// model's schedule is loaded.
    #[test]
    fn what_the_page_knows_before_the_wasm_is_the_labs() {
        let protocol = include_str!("../www/lab/protocol.js");
        let list = &protocol[protocol.find("BACKENDS = Object.freeze([").expect("protocol.js has no BACKENDS") + 26..];
        let names: Vec<&str> = list[..list.find(']').unwrap()].split(',').map(|n| n.trim().trim_matches('\'')).collect();
        assert_eq!(names, Limits::default().backends);
        let template = include_str!("../www/lab/template.js");
        let slider = &template[template.find("id=\"fwd-t\"").expect("template.js has no fwd-t")..];
        let max = &slider[slider.find("max=\"").unwrap() + 5..];
        let cfg: crate::model::UNetConfig = serde_json::from_str(include_str!("../www/models/denoiser.json")).unwrap();
        assert_eq!(max[..max.find('"').unwrap()].parse::<usize>().unwrap(), cfg.train_timesteps - 1);
    }

    /// The student is distilled for the steps and from the guidance the Lab runs it with.
    #[test]
    fn the_distillation_trains_what_the_lab_runs() {
        let py = include_str!("../scripts/train/diffusion_lab/distill.py");
        let value = |name: &str| -> f64 {
            let line = py.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap_or_else(|| panic!("distill.py has no {name}"));
            line[name.len() + 3..].trim().parse().unwrap()
        };
        assert_eq!(value("MAX_STUDENT_STEPS"), STUDENT_MAX_STEPS as f64);
        assert_eq!(Some(value("GUIDANCE") as f32), ModelKind::Teacher.defaults().guidance);
    }
}
