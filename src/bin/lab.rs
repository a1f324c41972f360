//! `lab`: the command line of diffusion-lab (cargo run --release --features cli --bin lab -- …).
//!
//!   lab sample --prompt "Hund" [--model student|teacher] [--steps N] [--seed 0] [--guidance 3]
//!              [--sampler dpm|ddim] [--blend-prompt "Katze" --blend 0.5] [--backend gpu|cpu]
//!              [--models www/models] --out out.png
//!   lab sample --prompts prompts.txt --out DIR        (one prompt per line → DIR/0001.png, …)
//!   lab manifest [--models www/models]                 (writes manifest.json: bytes + sha256)
//!   lab bench [--runs 3] [--models www/models]         (GPU plan vs candle CPU, both models)
//!   lab eval [--every 4] [--seeds 4] [--wording held-out|seen] [--backend cpu|gpu]
//!            [--model teacher|student] [--sources google[,twitter]] [--misses 1]
//!            [--node-modules node_modules] [--list-emoji FILE (only write the data set's emoji, one per line)]
//!                                                      (prompt fidelity, FID-style, diversity)
//!   lab data                                           (runs scripts/data.sh: the training set)
//!   lab stability [--runs 1000] [--model student] [--backend gpu]   (memory and step times over many runs)
//!   lab profile [--model student|teacher] [--batch N] [--reps 20] [--peak-gflops X] [--json FILE]
//!                                                      (GPU time and GFLOP/s per kernel of one forward)
//!   LAB_CONV_SPLIT=S|auto lab …                         (conv2d's split-K factor in GPU plans, 1..64)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use diffusion_lab::pipeline::{read_model_dir, to_rgba, Backend, BackendChoice, GenerateOptions, Lab};
use diffusion_lab::weights::{sha256_hex, FileEntry, Manifest, ModelFiles};
use diffusion_lab::{Error, Result};

pub(crate) struct Args {
    command: String,
    flags: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut it = std::env::args().skip(1);
        let command = it.next().unwrap_or_else(|| "help".into());
        let mut flags = HashMap::new();
        while let Some(k) = it.next() {
            let key = k.strip_prefix("--").ok_or_else(|| Error::Input(format!("expected a --flag, got {k}")))?;
            let v = it.next().ok_or_else(|| Error::Input(format!("--{key} needs a value")))?;
            flags.insert(key.to_string(), v);
        }
        Ok(Self { command, flags })
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.flags.get(k).map(String::as_str)
    }

    pub(crate) fn num(&self, k: &str, default: f64) -> Result<f64> {
        self.get(k).map_or(Ok(default), |v| v.parse().map_err(|_| Error::Input(format!("--{k}: not a number: {v}"))))
    }

    pub(crate) fn models(&self) -> PathBuf {
        PathBuf::from(self.get("models").unwrap_or("www/models"))
    }

    pub(crate) fn opt_num(&self, k: &str) -> Result<Option<f64>> {
        self.get(k).map(|_| self.num(k, 0.0)).transpose()
    }

    /// What is not given takes the model's default (the Lab decides, as for the page).
    fn options(&self) -> Result<GenerateOptions> {
        Ok(GenerateOptions {
            model: self.get("model").map(str::to_string),
            steps: self.opt_num("steps")?,
            seed: self.num("seed", 0.0)?,
            guidance: self.opt_num("guidance")?,
            sampler: self.get("sampler").map(str::to_string),
            blend_prompt: self.get("blend-prompt").map(str::to_string),
            blend: self.opt_num("blend")?,
        })
    }
}

pub(crate) fn load(dir: &Path, gpu: bool) -> Result<Lab> {
    let (manifest, files) = read_model_dir(dir)?;
    // natively --gpu means the Vulkan adapter whatever it is (lavapipe in the tests)
    let choice = if gpu { BackendChoice::WebGpu } else { BackendChoice::Cpu };
    pollster::block_on(Lab::from_files(&manifest, files, choice))
}

fn write_png(path: &Path, chw: &[f32], channels: usize, size: usize) -> Result<()> {
    let rgba = to_rgba(chw, channels, size, -1.0, 1.0);
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), size as u32, size as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| Error::Other(format!("png: {e}")))?;
    w.write_image_data(&rgba).map_err(|e| Error::Other(format!("png: {e}")))?;
    Ok(())
}

fn sample(a: &Args) -> Result<()> {
    let out = PathBuf::from(a.get("out").ok_or_else(|| Error::Input("--out is required".into()))?);
    let gpu = a.get("backend").unwrap_or("gpu") == "gpu";
    let lab = load(&a.models(), gpu)?;
    let opts = a.options()?;
    let (c, s) = (lab.cfg.in_channels, lab.cfg.image_size);
    eprintln!("backend: {} {}", lab.backend().name(), lab.adapter);
    let prompts: Vec<(String, PathBuf)> = match (a.get("prompt"), a.get("prompts")) {
        (Some(p), None) => vec![(p.to_string(), out.clone())],
        (None, Some(file)) => {
            std::fs::create_dir_all(&out)?;
            std::fs::read_to_string(file)?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .map(|(i, l)| (l.to_string(), out.join(format!("{:04}.png", i + 1))))
                .collect()
        }
        _ => return Err(Error::Input("give exactly one of --prompt or --prompts".into())),
    };
    for (prompt, path) in prompts {
        let t0 = Instant::now();
        let image = pollster::block_on(lab.generate(&prompt, &opts, |_| Ok(())))?;
        write_png(&path, &image, c, s)?;
        eprintln!("{prompt:?} -> {} ({:.0} ms)", path.display(), t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}

fn manifest(a: &Args) -> Result<()> {
    let dir = a.models();
    let denoiser = ModelFiles { config: "denoiser.json".into(), weights: "denoiser.safetensors".into(), tokenizer: None };
    // the distilled student shares the teacher's config; older model folders have none
    let student = dir.join("student.safetensors").exists().then(|| ModelFiles {
        config: denoiser.config.clone(),
        weights: "student.safetensors".into(),
        tokenizer: None,
    });
    let text_encoder = ModelFiles {
        config: "text_encoder.json".into(),
        weights: "text_encoder.safetensors".into(),
        tokenizer: Some("tokenizer.json".into()),
    };
    // every file the two models name, in a fixed order
    let names = [&denoiser.config, &denoiser.weights]
        .into_iter()
        .chain(student.as_ref().map(|s| &s.weights))
        .chain([&text_encoder.config, &text_encoder.weights])
        .chain(text_encoder.tokenizer.as_ref())
        .cloned()
        .collect::<Vec<_>>();
    let mut files = Vec::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name))?;
        files.push(FileEntry { name, bytes: bytes.len() as u64, sha256: sha256_hex(&bytes) });
    }
    let m = Manifest { denoiser, student, text_encoder, files };
    let text = serde_json::to_string_pretty(&m).map_err(|e| Error::Other(e.to_string()))? + "\n";
    std::fs::write(dir.join("manifest.json"), text)?;
    eprintln!("wrote {} ({:.1} MB in all)", dir.join("manifest.json").display(), m.total_bytes() as f64 / 1e6);
    Ok(())
}

/// Times whole images per model and backend, same weights, same prompt: the student's default
/// steps (one pass each) and the teacher's (two passes each, CFG as a batch of two).
fn bench(a: &Args) -> Result<()> {
    let runs = a.num("runs", 5.0)? as usize;
    let mut rows = Vec::new();
    for gpu in [true, false] {
        let t0 = Instant::now();
        let lab = load(&a.models(), gpu)?;
        let load_ms = t0.elapsed().as_secs_f64() * 1e3;
        if gpu && lab.backend() != Backend::WebGpu {
            eprintln!("no GPU adapter: {}", lab.fallback_reason);
            continue;
        }
        let models: &[&str] = if lab.has_student() { &["student", "teacher"] } else { &["teacher"] };
        for &model in models {
            let opts = GenerateOptions { model: Some(model.into()), ..GenerateOptions::default() };
            let valid = opts.validate(lab.has_student())?;
            let (steps, passes) = (valid.steps, valid.steps * valid.model.defaults().passes_per_step);
            // warm-up run, then timed runs
            pollster::block_on(lab.generate("a dog", &opts, |_| Ok(())))?;
            let t0 = Instant::now();
            for _ in 0..runs {
                pollster::block_on(lab.generate("a dog", &opts, |_| Ok(())))?;
            }
            let per_image = t0.elapsed().as_secs_f64() * 1e3 / runs as f64;
            rows.push((lab.backend().name(), lab.adapter.clone(), model, steps, passes, load_ms, per_image));
        }
    }
    let cfg = load(&a.models(), false)?.cfg;
    let gflop = cfg.flops_per_image() as f64 / 1e9;
    println!("one denoiser pass for one image: {gflop:.3} GFLOP (UNetConfig::flops_per_image)");
    println!("| backend | adapter | model | steps | passes | load ms | ms / image | ms / step | GFLOP/s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (b, ad, m, steps, passes, l, img) in &rows {
        let rate = gflop * *passes as f64 / (img / 1e3);
        println!("| {b} | {ad} | {m} | {steps} | {passes} | {l:.0} | {img:.1} | {:.1} | {rate:.2} |", img / *steps as f64);
    }
    Ok(())
}

/// Resident memory of this process in MB (Linux), the host side of GPU buffers included.
fn resident_mb() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

/// Many generations in one process: the GPU buffers are allocated once (their total must not
/// change), resident memory must level off, and no step may be much slower than the warm ones.
fn stability(a: &Args) -> Result<()> {
    let runs = a.num("runs", 1000.0)? as usize;
    let lab = load(&a.models(), a.get("backend").unwrap_or("gpu") == "gpu")?;
    let opts = GenerateOptions { model: a.get("model").map(str::to_string), ..GenerateOptions::default() };
    let (buffers, mut first_warm, mut total_steps) = (lab.gpu_buffer_bytes(), 0.0f64, 0usize);
    let mut warm_steps = Vec::new();
    let mut rss = Vec::new();
    for run in 0..runs {
        let mut last = Instant::now();
        pollster::block_on(lab.generate("a dog", &GenerateOptions { seed: run as f64, ..opts.clone() }, |_| {
            let ms = last.elapsed().as_secs_f64() * 1e3;
            last = Instant::now();
            if run == 1 && first_warm == 0.0 {
                first_warm = ms;
            }
            if run >= 1 {
                warm_steps.push(ms);
            }
            total_steps += 1;
            Ok(())
        }))?;
        if lab.gpu_buffer_bytes() != buffers {
            return Err(Error::Other(format!("GPU buffer bytes changed after run {run}")));
        }
        if run == 0 || (run + 1) % (runs / 4).max(1) == 0 {
            rss.push((run + 1, resident_mb()));
        }
    }
    println!("backend {} {}, {runs} generations, {total_steps} steps", lab.backend().name(), lab.adapter);
    println!("GPU buffer bytes: {buffers} before and after");
    for (run, mb) in &rss {
        println!("resident memory after run {run}: {mb:.1} MB");
    }
    warm_steps.sort_by(f64::total_cmp);
    let pick = |q: f64| warm_steps.get(((warm_steps.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0.0);
    println!(
        "step ms after warm-up: first {first_warm:.1}, median {:.1}, p99 {:.1}, slowest {:.1} ({:.2}x the first warm step)",
        pick(0.5),
        pick(0.99),
        pick(1.0),
        pick(1.0) / first_warm
    );
    Ok(())
}

/// The training data set is built by the PyTorch package (it embeds every caption with the
/// same text encoder); this runs the documented script.
fn data() -> Result<()> {
    let status = std::process::Command::new("bash").arg("scripts/data.sh").status()?;
    if !status.success() {
        return Err(Error::Other(format!("scripts/data.sh failed ({status})")));
    }
    Ok(())
}

#[path = "lab/evaluate.rs"]
mod evaluate;
#[path = "lab/profile.rs"]
mod profile;

fn main() {
    let result = Args::parse().and_then(|a| match a.command.as_str() {
        "sample" => sample(&a),
        "manifest" => manifest(&a),
        "bench" => bench(&a),
        "eval" => evaluate::run(&a),
        "stability" => stability(&a),
        "profile" => profile::run(&a),
        "data" => data(),
        other => {
            // a usage error, as in getopt tools: status 2, not success
            eprintln!("lab: unknown command \"{other}\"\nusage: lab sample|manifest|bench|eval|stability|profile|data [--flags]; see src/bin/lab.rs");
            std::process::exit(2);
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
