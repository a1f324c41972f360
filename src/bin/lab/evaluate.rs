//! `lab eval`: prompt fidelity, an FID-style distance and diversity across seeds, teacher vs
//! student, German vs English; the feature space is documented in src/eval.rs.
//!
//! The data set is read from the npm packages the training set comes from (node_modules/):
//! emojibase-data de/en labels and the Noto 64 px PNGs (with `--sources google,twitter` also the
//! Twemoji ones: a prompt hits its emoji when any style of it is near), groups and filtering as
//! in scripts/train/diffusion_lab/data.py (`--list-emoji FILE` writes them out, and
//! tests/training.sh holds that list against data.py's), alpha on white, box-downsampled to 32 px.
//! Validation split: every `--every`-th emoji in hexcode order (default 4). Its prompts use
//! wordings no training caption used: none of the 72 templates per language in
//! scripts/train/diffusion_lab/captions.py has the words "suche", "Porträt", "looking" or
//! "portrait" ("zeig mir …" and "show me …" are trained: they are what people type).

use std::path::{Path, PathBuf};
use std::time::Instant;

use diffusion_lab::eval::{features, frechet_distance, mean_pairwise_distance, nearest_group, rank_of};
use diffusion_lab::pipeline::{GenerateOptions, Lab, ModelKind};
use diffusion_lab::{Error, Result};

use super::{load_with_teacher, model_name, Device, ModelsArg};

/// Which captions the prompts take.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Wording {
    /// wordings no training caption used ("ich suche …", "a portrait of …")
    HeldOut,
    /// two of the training templates: tells "cannot draw it" from "does not understand the wording"
    Seen,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The validation split: every N-th emoji in hexcode order
    #[arg(long, default_value_t = VALIDATION_EVERY, value_parser = clap::value_parser!(u32).range(1..))]
    every: u32,
    /// Seeds per prompt for the diversity figure
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..))]
    pub(crate) seeds: u32,
    #[arg(long, value_enum, default_value_t = Wording::HeldOut)]
    wording: Wording,
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub(crate) backend: Device,
    /// teacher | student (default: both where the model files have a student)
    #[arg(long, value_parser = model_name)]
    pub(crate) model: Option<ModelKind>,
    /// The image styles a prompt may hit: google, twitter (data.py SOURCES)
    #[arg(long, value_delimiter = ',', default_value = "google")]
    sources: Vec<String>,
    /// Also list every prompt whose emoji is not among the 5 nearest, with what it drew
    #[arg(long)]
    misses: bool,
    /// The teacher's classifier-free guidance (default: the teacher's)
    #[arg(long)]
    pub(crate) guidance: Option<f64>,
    /// Where the npm packages of the data set are
    #[arg(long, default_value = "node_modules")]
    node_modules: PathBuf,
    /// Only write the data set's emoji to FILE, one per line (for tests/training.sh)
    #[arg(long)]
    list_emoji: Option<PathBuf>,
    /// Score the scene prompts instead of the emoji: object right, scene right and both per
    /// prompt set and language, and diversity (src/bin/lab/scene_eval.rs)
    #[arg(long)]
    pub(crate) scenes: bool,
    /// With --scenes: the prompts and classes (scene_eval.py --write-eval-set writes them)
    #[arg(long, default_value = "scripts/train/checkpoints/scene_eval.json")]
    pub(crate) scene_set: PathBuf,
    /// Score these teacher weights (a training checkpoint of the folder's config) instead of the
    /// folder's teacher; the student is left out
    #[arg(long)]
    pub(crate) teacher: Option<PathBuf>,
    /// With --scenes: the detector's weights
    #[arg(long, default_value = "scripts/train/checkpoints/scene_detector.safetensors")]
    pub(crate) detector: PathBuf,
    #[command(flatten)]
    pub(crate) models: ModelsArg,
}

/// emojibase groups 0 smileys & emotion, 3 animals & nature, 4 food & drink (data.py DEFAULT_GROUPS)
/// The training's validation split (data.py VAL_EVERY): every 4th emoji is never trained on.
const VALIDATION_EVERY: u32 = 4;
const GROUPS: [u64; 3] = [0, 3, 4];
const HELD_OUT_EN: [&str; 2] = ["a portrait of {}", "I am looking for {}"];
const HELD_OUT_DE: [&str; 2] = ["ein Porträt von {}", "ich suche {}"];
/// `--wording seen`: two of the training templates, to tell "cannot draw it" from "does not
/// understand the new wording".
const SEEN_EN: [&str; 2] = ["{}", "a picture of {}"];
const SEEN_DE: [&str; 2] = ["{}", "ein Bild von {}"];

struct Emoji {
    hexcode: String,
    en: String,
    de: String,
    /// one per image style (`--sources`), in that order
    features: Vec<Vec<f32>>,
}

/// The image sets `--sources` may name (data.py SOURCES): npm package, 64 px PNG folder in it.
const SOURCES: [(&str, &str); 2] =
    [("google", "emoji-datasource-google/img/google/64"), ("twitter", "emoji-datasource-twitter/img/twitter/64")];

fn labels(nm: &Path, lang: &str) -> Result<std::collections::HashMap<String, String>> {
    let path = nm.join("emojibase-data").join(lang).join("data.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Other(format!("{}: {e} (run npm ci)", path.display())))?;
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    Ok(all
        .iter()
        .filter(|e| e.get("group").and_then(|g| g.as_u64()).is_some_and(|g| GROUPS.contains(&g)))
        .filter_map(|e| Some((e.get("hexcode")?.as_str()?.to_string(), e.get("label")?.as_str()?.trim().to_string())))
        .collect())
}

/// 64×64 PNG → 32×32 CHW in [-1, 1]: alpha over white, then 2×2 box averages (PIL's BOX).
fn load_image(path: &Path) -> Result<Vec<f32>> {
    let mut dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path)?));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16 | png::Transformations::ALPHA);
    let mut reader = dec.read_info().map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let (w, channels) = (info.width as usize, info.color_type.samples());
    if info.width != 64 || info.height != 64 {
        return Err(Error::Other(format!("{}: expected a 64×64 PNG", path.display())));
    }
    // grey, grey+alpha, RGB or RGBA: colour channels first, alpha (if any) last
    let colour = if channels >= 3 { 3 } else { 1 };
    let px = |x: usize, y: usize, c: usize| -> f32 {
        let p = &buf[(y * w + x) * channels..];
        let alpha = if channels == colour + 1 { p[colour] as f32 / 255.0 } else { 1.0 };
        p[c.min(colour - 1)] as f32 * alpha + 255.0 * (1.0 - alpha)
    };
    let mut out = vec![0.0; 3 * 32 * 32];
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                let sum = px(2 * x, 2 * y, c) + px(2 * x + 1, 2 * y, c) + px(2 * x, 2 * y + 1, c) + px(2 * x + 1, 2 * y + 1, c);
                // PIL rounds the box average to a byte first
                out[(c * 32 + y) * 32 + x] = (sum / 4.0).round() / 127.5 - 1.0;
            }
        }
    }
    Ok(out)
}

/// The emoji with German and English labels and an image in the first source (as data.py picks
/// them), with the features of their image in every source that has one.
fn data_set(nm: &Path, sources: &[&str]) -> Result<Vec<Emoji>> {
    let (en, de) = (labels(nm, "en")?, labels(nm, "de")?);
    let mut hexcodes: Vec<&String> = en.keys().filter(|h| de.contains_key(*h)).collect();
    hexcodes.sort();
    let dirs: Vec<PathBuf> = sources
        .iter()
        .map(|s| {
            let (_, dir) = SOURCES
                .iter()
                .find(|(name, _)| name == s)
                .ok_or_else(|| Error::Input(format!("--sources: unknown image set {s:?} (google, twitter)")))?;
            Ok(nm.join(dir))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for hex in hexcodes {
        let lower = hex.to_lowercase();
        // emoji-datasource names files by the fully-qualified code points
        let find = |dir: &Path| [dir.join(format!("{lower}.png")), dir.join(format!("{lower}-fe0f.png"))].into_iter().find(|p| p.exists());
        if find(&dirs[0]).is_none() {
            continue;
        }
        let images = dirs.iter().filter_map(|d| find(d)).map(|p| Ok(features(&load_image(&p)?, 3, 32))).collect::<Result<_>>()?;
        out.push(Emoji { hexcode: hex.clone(), en: en[hex].clone(), de: de[hex].clone(), features: images });
    }
    Ok(out)
}

#[derive(Default)]
struct Row {
    model: String,
    steps: usize,
    passes: usize,
    top1: [usize; 2],
    top5: [usize; 2],
    count: [usize; 2],
    fd: f64,
    diversity: f64,
    ms_per_image: f64,
}

fn generate_features(lab: &Lab, prompt: &str, opts: &GenerateOptions) -> Result<Vec<f32>> {
    let image = pollster::block_on(lab.generate(prompt, opts, |_| Ok(())))?;
    Ok(features(&image, lab.cfg.in_channels, lab.cfg.image_size))
}

/// The models `--model` names, or both where the model files have a student.
pub(crate) fn models_to_score(lab: &Lab, model: Option<ModelKind>) -> Result<&'static [&'static str]> {
    Ok(match (model, lab.has_student()) {
        (None, true) => &["teacher", "student"],
        (None, false) => &["teacher"],
        (Some(ModelKind::Teacher), _) => &["teacher"],
        (Some(ModelKind::Student), true) => &["student"],
        (Some(ModelKind::Student), false) => return Err(Error::Input("these model files have no student".into())),
    })
}

pub fn run(a: &EvalArgs) -> Result<()> {
    if a.scenes {
        return super::scene_eval::run(a);
    }
    let (every, seeds, nm, misses) = (a.every as usize, a.seeds as usize, &a.node_modules, a.misses);
    let (templates_de, templates_en, wording) = match a.wording {
        Wording::HeldOut => (HELD_OUT_DE, HELD_OUT_EN, "held-out wordings (\"ich suche …\", \"a portrait of …\")"),
        Wording::Seen => (SEEN_DE, SEEN_EN, "training captions"),
    };
    let sources: Vec<&str> = a.sources.iter().map(|s| s.trim()).collect();
    let data = data_set(nm, &sources)?;
    let groups: Vec<Vec<Vec<f32>>> = data.iter().map(|e| e.features.clone()).collect();
    let images: usize = groups.iter().map(Vec::len).sum();
    let val: Vec<usize> = (0..data.len()).step_by(every).collect();
    if let Some(path) = &a.list_emoji {
        // the data set as this command reads it, for tests/training.sh to hold against data.py's
        let lines: String = data
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!("{}\t{}\t{}\t{}\t{}\n", e.hexcode, e.de, e.en, if i % every == 0 { "val" } else { "train" }, e.features.len())
            })
            .collect();
        std::fs::write(path, lines)?;
        eprintln!("{} emoji -> {}", data.len(), path.display());
        return Ok(());
    }
    let reference: Vec<Vec<f32>> = val.iter().flat_map(|&i| groups[i].clone()).collect();
    let lab = load_with_teacher(&a.models.models, a.backend, a.teacher.as_deref())?;
    eprintln!("{} emoji in the data set, {} in the validation split; backend {}", data.len(), val.len(), lab.backend().name());
    let models = models_to_score(&lab, a.model)?;
    let mut rows = Vec::new();
    for &model in models {
        // --guidance: the teacher's classifier-free guidance scale (the student's is baked in)
        let base = GenerateOptions { model: Some(model.into()), guidance: a.guidance, ..GenerateOptions::default() };
        let valid = base.validate(lab.has_student())?;
        let mut row =
            Row { model: model.into(), steps: valid.steps, passes: valid.steps * valid.model.defaults().passes_per_step, ..Row::default() };
        let mut generated = Vec::new();
        let t0 = Instant::now();
        for (k, &i) in val.iter().enumerate() {
            let e = &data[i];
            for (lang, (label, templates)) in [(&e.de, templates_de), (&e.en, templates_en)].into_iter().enumerate() {
                let prompt = templates[k % 2].replace("{}", label);
                let opts = GenerateOptions { seed: (1000 + i) as f64, ..base.clone() };
                let f = generate_features(&lab, &prompt, &opts)?;
                let rank = rank_of(&f, &groups, i);
                if misses && rank >= 5 {
                    let nearest = nearest_group(&f, &groups);
                    let name = if lang == 0 { &data[nearest].de } else { &data[nearest].en };
                    eprintln!("{model} miss: \"{prompt}\" drew {name} (its emoji ranks {})", rank + 1);
                }
                row.count[lang] += 1;
                row.top1[lang] += (rank == 0) as usize;
                row.top5[lang] += (rank < 5) as usize;
                generated.push(f);
            }
        }
        row.ms_per_image = t0.elapsed().as_secs_f64() * 1e3 / generated.len() as f64;
        row.fd = frechet_distance(&generated, &reference);
        // diversity: the same English prompt with several seeds, for the first 8 validation emoji
        let mut div = Vec::new();
        for &i in val.iter().take(8) {
            let group = (0..seeds)
                .map(|s| {
                    generate_features(
                        &lab,
                        &templates_en[0].replace("{}", &data[i].en),
                        &GenerateOptions { seed: s as f64, ..base.clone() },
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            div.push(mean_pairwise_distance(&group));
        }
        row.diversity = div.iter().sum::<f64>() / div.len() as f64;
        eprintln!("{model}: done in {:.0} s", t0.elapsed().as_secs_f64());
        rows.push(row);
    }
    let pct = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    println!(
        "Validation split: {} of {} emoji (every {every}th), one German and one English prompt each, {wording}.",
        val.len(),
        data.len()
    );
    println!(
        "Features: 8×8 RGB block means (src/eval.rs). Nearest neighbour among all {} data-set images ({}).",
        images,
        sources.join(", ")
    );
    println!();
    println!(
        "| model | steps | passes / image | top-1 de | top-5 de | top-1 en | top-5 en | FID-style ↓ | diversity | ms / image ({}) |",
        lab.backend().name()
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.2} | {:.2} | {:.0} |",
            r.model,
            r.steps,
            r.passes,
            pct(r.top1[0], r.count[0]),
            pct(r.top5[0], r.count[0]),
            pct(r.top1[1], r.count[1]),
            pct(r.top5[1], r.count[1]),
            r.fd,
            r.diversity,
            r.ms_per_image
        );
    }
    println!();
    // the halves split the emoji (every style of an emoji in the same half), not the images
    let half = |skip: usize| groups.iter().skip(skip).step_by(2).flatten().cloned().collect::<Vec<_>>();
    println!(
        "FID-style: Fréchet distance to the validation images' features (0 = same statistics); between two halves of the data set's emoji it is {:.2}.",
        frechet_distance(&half(0), &half(1))
    );
    println!(
        "Diversity: mean feature distance between {seeds} seeds of one prompt (8 prompts); between different data-set images it is {:.2}.",
        mean_pairwise_distance(&reference)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `lab eval` holds out the emoji the training held out, from the groups it trained on.
    #[test]
    fn the_validation_split_is_the_trainings() {
        let py = include_str!("../../../scripts/train/diffusion_lab/data.py");
        let value = |name: &str| -> &str {
            let line = py.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap_or_else(|| panic!("data.py has no {name}"));
            line[name.len() + 3..].split('#').next().unwrap().trim().trim_matches('"')
        };
        assert_eq!(value("VAL_EVERY").parse::<u32>().unwrap(), super::VALIDATION_EVERY);
        let groups: Vec<u64> = value("DEFAULT_GROUPS").split(',').map(|g| g.parse().unwrap()).collect();
        assert_eq!(groups, super::GROUPS);
    }
}
