//! `lab eval --scenes`: does a picture show what the learner asked for? For each prompt of the
//! scene set (scripts/train/checkpoints/scene_eval.json: the learner prompts, held-out wordings
//! and held-out object × scene combinations of scripts/train/diffusion_lab/scene_eval.py, none
//! trained as such), every model draws `--seeds` pictures the way the page does (its default
//! steps, sampler and guidance); the detector (src/eval/detector.rs) names each picture's object
//! and scene. Object right (top-5): the prompt's noun among the detector's five likeliest.
//! Diversity: the mean pixel distance between two seeds of one learner prompt divided by that
//! between two learner prompts at the same seed.

use std::time::Instant;

use candle_core::{Device as CandleDevice, Tensor};
use serde::Deserialize;

use diffusion_lab::eval::detector::{top_k, Detector};
use diffusion_lab::eval::distance2;
use diffusion_lab::pipeline::GenerateOptions;
use diffusion_lab::{Error, Result};

use super::evaluate::{models_to_score, EvalArgs};
use super::load_with_teacher;

#[derive(Deserialize)]
struct SceneSet {
    /// the detector's object classes (hexcodes) and scene classes ("none" = a plain background)
    objects: Vec<String>,
    scenes: Vec<String>,
    /// groups per norm of the detector
    groups: usize,
    /// the detector on freshly painted pictures, measured when the set was written: the most a
    /// model can score
    ceiling: Ceiling,
    prompts: Vec<ScenePrompt>,
}

#[derive(Deserialize)]
struct Ceiling {
    pictures: usize,
    object_top1: f64,
    object_top5: f64,
    scene: f64,
    both: f64,
}

#[derive(Deserialize)]
struct ScenePrompt {
    set: String,
    lang: String,
    prompt: String,
    /// the hexcode of the noun's emoji, one of `objects`
    object: String,
    /// one of `scenes`
    scene: String,
}

/// One picture's verdict.
struct Verdict {
    object1: bool,
    object5: bool,
    scene: bool,
}

const SETS: [&str; 3] = ["held-out wordings", "held-out combinations", "learner prompts"];
/// Pictures per detector call.
const DETECTOR_BATCH: usize = 64;

fn read_set(a: &EvalArgs) -> Result<(SceneSet, Detector)> {
    let path = &a.scene_set;
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let set: SceneSet = serde_json::from_str(&text).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    for p in &set.prompts {
        if !set.objects.contains(&p.object) || !set.scenes.contains(&p.scene) {
            return Err(Error::Input(format!("{}: \"{}\" names a class the detector lacks", path.display(), p.prompt)));
        }
    }
    let bytes = std::fs::read(&a.detector).map_err(|e| Error::Input(format!("{}: {e}", a.detector.display())))?;
    let detector = Detector::load(&a.detector.display().to_string(), &bytes, set.groups)?;
    Ok((set, detector))
}

/// The verdicts on `pictures` (each C×S×S in [-1, 1]) for `prompts`, in order.
fn judge(detector: &Detector, set: &SceneSet, prompts: &[&ScenePrompt], pictures: &[Vec<f32>], size: usize) -> Result<Vec<Verdict>> {
    let mut out = Vec::with_capacity(pictures.len());
    for (chunk, ps) in pictures.chunks(DETECTOR_BATCH).zip(prompts.chunks(DETECTOR_BATCH)) {
        let flat: Vec<f32> = chunk.concat();
        let x = Tensor::from_vec(flat, (chunk.len(), 3, size, size), &CandleDevice::Cpu)?;
        let logits = detector.forward(&x)?;
        let (objects, scenes) = (logits.objects.to_vec2::<f32>()?, logits.scenes.to_vec2::<f32>()?);
        for ((o, s), p) in objects.iter().zip(&scenes).zip(ps) {
            let top5 = top_k(o, 5);
            let want = set.objects.iter().position(|h| *h == p.object);
            let scene = set.scenes.get(top_k(s, 1)[0]).is_some_and(|name| *name == p.scene);
            out.push(Verdict { object1: want == Some(top5[0]), object5: want.is_some_and(|w| top5.contains(&w)), scene });
        }
    }
    Ok(out)
}

fn rms_distance(a: &[f32], b: &[f32]) -> f64 {
    (distance2(a, b) / a.len() as f64).sqrt()
}

/// Within-prompt ÷ across-prompt pixel distance; `pictures[p][s]` is prompt p at seed s.
fn diversity(pictures: &[Vec<Vec<f32>>]) -> f64 {
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut within = Vec::new();
    for seeds in pictures {
        for i in 0..seeds.len() {
            for j in i + 1..seeds.len() {
                within.push(rms_distance(&seeds[i], &seeds[j]));
            }
        }
    }
    let mut across = Vec::new();
    for p in 0..pictures.len() {
        for q in p + 1..pictures.len() {
            for (a, b) in pictures[p].iter().zip(&pictures[q]) {
                across.push(rms_distance(a, b));
            }
        }
    }
    mean(within) / mean(across)
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let (set, detector) = read_set(a)?;
    let lab = load_with_teacher(&a.models.models, a.backend, a.teacher.as_deref())?;
    let (channels, size) = (lab.cfg.in_channels, lab.cfg.image_size);
    if channels != 3 {
        return Err(Error::Input(format!("the detector reads RGB pictures; this model draws {channels} channels")));
    }
    let seeds = a.seeds as usize;
    let models = models_to_score(&lab, a.model)?;
    println!(
        "Scene prompts ({}): {} prompts × {seeds} seeds per model; the detector ({}) names each picture's object ({} everyday nouns) and scene ({} classes).",
        a.scene_set.display(),
        set.prompts.len(),
        a.detector.display(),
        set.objects.len(),
        set.scenes.len()
    );
    println!();
    println!("| model | prompts | lang | images | object top-1 | object top-5 | scene | object (top-5) and scene |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut summaries = Vec::new();
    for &model in models {
        let base = GenerateOptions { model: Some(model.into()), guidance: a.guidance, ..GenerateOptions::default() };
        base.validate(lab.has_student())?;
        let t0 = Instant::now();
        // pictures[p][s]: prompt p at seed s; the seed as scene_eval.py numbers them
        let mut pictures = Vec::with_capacity(set.prompts.len());
        for (p, prompt) in set.prompts.iter().enumerate() {
            let per_seed = (0..seeds)
                .map(|s| {
                    let opts = GenerateOptions { seed: (1000 * s + p) as f64, ..base.clone() };
                    pollster::block_on(lab.generate(&prompt.prompt, &opts, |_| Ok(())))
                })
                .collect::<Result<Vec<_>>>()?;
            pictures.push(per_seed);
        }
        let ms_per_image = t0.elapsed().as_secs_f64() * 1e3 / (set.prompts.len() * seeds) as f64;
        let flat: Vec<Vec<f32>> = pictures.iter().flatten().cloned().collect();
        let owners: Vec<&ScenePrompt> = set.prompts.iter().flat_map(|p| std::iter::repeat_n(p, seeds)).collect();
        let verdicts = judge(&detector, &set, &owners, &flat, size)?;
        for kind in SETS {
            for lang in ["de", "en"] {
                let rows: Vec<&Verdict> =
                    owners.iter().zip(&verdicts).filter(|(p, _)| p.set == kind && p.lang == lang).map(|(_, v)| v).collect();
                if rows.is_empty() {
                    continue;
                }
                let pct = |f: &dyn Fn(&Verdict) -> bool| 100.0 * rows.iter().filter(|v| f(v)).count() as f64 / rows.len() as f64;
                println!(
                    "| {model} | {kind} | {lang} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
                    rows.len(),
                    pct(&|v| v.object1),
                    pct(&|v| v.object5),
                    pct(&|v| v.scene),
                    pct(&|v| v.object5 && v.scene)
                );
            }
        }
        let learner: Vec<Vec<Vec<f32>>> =
            set.prompts.iter().zip(&pictures).filter(|(p, _)| p.set == "learner prompts").map(|(_, pics)| pics.clone()).collect();
        summaries.push((model, diversity(&learner), ms_per_image));
    }
    let c = &set.ceiling;
    println!(
        "| the detector on painted pictures (its ceiling) | | | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
        c.pictures, c.object_top1, c.object_top5, c.scene, c.both
    );
    println!();
    println!("| model | diversity (learner prompts: within-prompt ÷ across-prompt distance) | ms / image ({}) |", lab.backend().name());
    println!("|---|---|---|");
    for (model, div, ms) in summaries {
        println!("| {model} | {div:.2} | {ms:.0} |");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::diversity;

    #[test]
    fn diversity_is_within_over_across() {
        // two prompts, two seeds: seeds differ by 1 in one of 2 values, prompts by 2 in both
        let p = vec![vec![vec![0.0, 0.0], vec![1.0, 0.0]], vec![vec![2.0, 2.0], vec![3.0, 2.0]]];
        let within = (0.5f64).sqrt();
        let across = 2.0;
        assert!((diversity(&p) - within / across).abs() < 1e-9);
    }
}
