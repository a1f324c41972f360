//! `lab`: the command line of diffusion-lab (cargo run --release --features cli --bin lab -- …).
//! `lab --help` lists the commands, `lab COMMAND --help` their flags; a usage error exits with 2.
//!
//!   lab sample --prompt "Hund" --out hund.png        (or --prompts FILE --out DIR: one picture a line)
//!   lab manifest                                     (writes manifest.json: bytes + sha256)
//!   lab bench                                        (GPU plan vs candle CPU, both models)
//!   lab eval                                         (prompt fidelity, FID-style, diversity)
//!   lab data                                         (runs scripts/data.sh: the training set)
//!   lab stability                                    (memory and step times over many runs)
//!   lab profile                                      (GPU time and GFLOP/s per kernel of one pass)
//!   LAB_CONV_SPLIT=S|auto lab …                       (conv2d's split-K factor in GPU plans, 1..64)

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use diffusion_lab::pipeline::{read_model_dir, to_rgba, Backend, BackendChoice, GenerateOptions, Lab, ModelKind};
use diffusion_lab::sampler::SamplerKind;
use diffusion_lab::weights::{sha256_hex, FileEntry, Manifest, ModelFiles};
use diffusion_lab::{Error, Result};

mod evaluate;
mod profile;
mod scene_eval;

#[derive(Parser)]
#[command(name = "lab", version, about = "The command line of diffusion-lab: pictures, benchmarks, evaluation, model files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generates pictures: one prompt, or one per line of a file (one model load)
    Sample(SampleArgs),
    /// Writes manifest.json: every model file's size and sha256
    Manifest(ModelsArg),
    /// Times whole images per model: the GPU plan against candle on the CPU
    Bench(BenchArgs),
    /// Prompt fidelity, an FID-style distance and diversity across seeds
    Eval(evaluate::EvalArgs),
    /// Builds the training set (runs scripts/data.sh)
    Data,
    /// Many generations in one process: memory and step times must level off
    Stability(StabilityArgs),
    /// GPU time and GFLOP/s per kernel of one denoiser pass
    Profile(profile::ProfileArgs),
}

#[derive(clap::Args)]
pub(crate) struct ModelsArg {
    /// The model folder: manifest.json and the files it lists
    #[arg(long, default_value = "www/models")]
    pub models: PathBuf,
}

/// Where the denoisers run: natively `gpu` is the Vulkan adapter whatever it is (lavapipe in the tests).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Device {
    Gpu,
    Cpu,
}

/// A model name as the Lab reads it (`ModelKind::parse`).
pub(crate) fn model_name(text: &str) -> std::result::Result<ModelKind, String> {
    ModelKind::parse(text).map_err(|e| e.to_string())
}

fn sampler_name(text: &str) -> std::result::Result<String, String> {
    SamplerKind::parse(text).map(|_| text.to_string()).map_err(|e| e.to_string())
}

/// What one generation may set; what is not given takes the model's default (as on the page).
#[derive(clap::Args, Clone)]
struct GenerateArgs {
    /// student | teacher (default: the student where the model files have one)
    #[arg(long, value_parser = model_name)]
    model: Option<ModelKind>,
    /// Denoising steps (default: the model's)
    #[arg(long)]
    steps: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    seed: f64,
    /// The teacher's classifier-free guidance (the student's is baked in)
    #[arg(long)]
    guidance: Option<f64>,
    /// The teacher's sampler: ddim | dpm
    #[arg(long, value_parser = sampler_name)]
    sampler: Option<String>,
    /// A second prompt to move the condition towards
    #[arg(long)]
    blend_prompt: Option<String>,
    /// How far (0..1) towards --blend-prompt
    #[arg(long)]
    blend: Option<f64>,
}

impl GenerateArgs {
    fn options(&self) -> GenerateOptions {
        GenerateOptions {
            model: self.model.map(|m| m.name().to_string()),
            steps: self.steps,
            seed: self.seed,
            guidance: self.guidance,
            sampler: self.sampler.clone(),
            blend_prompt: self.blend_prompt.clone(),
            blend: self.blend,
        }
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["prompt", "prompts"])))]
struct SampleArgs {
    /// The prompt; --out is the PNG file
    #[arg(long)]
    prompt: Option<String>,
    /// A file with one prompt per line; --out is a folder (0001.png, …)
    #[arg(long)]
    prompts: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    backend: Device,
    #[command(flatten)]
    generate: GenerateArgs,
    #[command(flatten)]
    models: ModelsArg,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Timed images per model and backend (after one warm-up)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    #[command(flatten)]
    models: ModelsArg,
}

#[derive(clap::Args)]
struct StabilityArgs {
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// student | teacher (default: the student where the model files have one)
    #[arg(long, value_parser = model_name)]
    model: Option<ModelKind>,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    backend: Device,
    #[command(flatten)]
    models: ModelsArg,
}

pub(crate) fn load(dir: &Path, device: Device) -> Result<Lab> {
    load_with_teacher(dir, device, None)
}

/// [`load`], with the teacher's weights from `teacher` instead of the folder's (a training
/// checkpoint of the same config) and no student, which belongs to the folder's teacher.
pub(crate) fn load_with_teacher(dir: &Path, device: Device, teacher: Option<&Path>) -> Result<Lab> {
    let (mut manifest, mut files) = read_model_dir(dir)?;
    if let Some(path) = teacher {
        let bytes = std::fs::read(path).map_err(|e| Error::Input(format!("--teacher {}: {e}", path.display())))?;
        let name = manifest.teacher.weights.clone();
        if let Some(entry) = manifest.files.iter_mut().find(|f| f.name == name) {
            (entry.bytes, entry.sha256) = (bytes.len() as u64, sha256_hex(&bytes));
        }
        files.insert(name, bytes);
        manifest.student = None;
    }
    let choice = match device {
        Device::Gpu => BackendChoice::WebGpu,
        Device::Cpu => BackendChoice::Cpu,
    };
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

fn sample(a: &SampleArgs) -> Result<()> {
    let out = &a.out;
    let lab = load(&a.models.models, a.backend)?;
    let opts = a.generate.options();
    let (c, s) = (lab.cfg.in_channels, lab.cfg.image_size);
    eprintln!("backend: {} {}", lab.backend().name(), lab.adapter);
    let prompts: Vec<(String, PathBuf)> = match (&a.prompt, &a.prompts) {
        (Some(p), _) => vec![(p.to_string(), out.clone())],
        (None, Some(file)) => {
            std::fs::create_dir_all(out)?;
            std::fs::read_to_string(file)?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .map(|(i, l)| (l.to_string(), out.join(format!("{:04}.png", i + 1))))
                .collect()
        }
        (None, None) => return Err(Error::Input("give --prompt or --prompts".into())),
    };
    for (prompt, path) in prompts {
        let t0 = Instant::now();
        let image = pollster::block_on(lab.generate(&prompt, &opts, |_| Ok(())))?;
        write_png(&path, &image, c, s)?;
        eprintln!("{prompt:?} -> {} ({:.0} ms)", path.display(), t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}

fn manifest(a: &ModelsArg) -> Result<()> {
    let dir = &a.models;
    let teacher = ModelFiles { config: "denoiser.json".into(), weights: "denoiser.safetensors".into(), tokenizer: None };
    // the distilled student shares the teacher's config; older model folders have none
    let student = dir.join("student.safetensors").exists().then(|| ModelFiles {
        config: teacher.config.clone(),
        weights: "student.safetensors".into(),
        tokenizer: None,
    });
    let text_encoder = ModelFiles {
        config: "text_encoder.json".into(),
        weights: "text_encoder.safetensors".into(),
        tokenizer: Some("tokenizer.json".into()),
    };
    // every file the two models name, in a fixed order
    let names = [&teacher.config, &teacher.weights]
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
    let m = Manifest { teacher, student, text_encoder, files };
    let text = serde_json::to_string_pretty(&m).map_err(|e| Error::Other(e.to_string()))? + "\n";
    std::fs::write(dir.join("manifest.json"), text)?;
    eprintln!("wrote {} ({:.1} MB in all)", dir.join("manifest.json").display(), m.total_bytes() as f64 / 1e6);
    Ok(())
}

/// Times whole images per model and backend, same weights, same prompt: the student's default
/// steps (one pass each) and the teacher's (two passes each, CFG as a batch of two). On the GPU
/// also with the sampler on the host (each model output read back), beside the GPU sampler.
fn bench(a: &BenchArgs) -> Result<()> {
    let runs = a.runs as usize;
    let mut rows = Vec::new();
    for device in [Device::Gpu, Device::Cpu] {
        let t0 = Instant::now();
        let lab = load(&a.models.models, device)?;
        let load_ms = t0.elapsed().as_secs_f64() * 1e3;
        if device == Device::Gpu && lab.backend() != Backend::WebGpu {
            eprintln!("no GPU adapter: {}", lab.fallback_reason);
            continue;
        }
        let models: &[&str] = if lab.has_student() { &["student", "teacher"] } else { &["teacher"] };
        for &model in models {
            let opts = GenerateOptions { model: Some(model.into()), ..GenerateOptions::default() };
            let valid = opts.validate(lab.has_student())?;
            let text = lab.condition("a dog", &opts)?;
            let (steps, passes) = (valid.steps, valid.steps * valid.model.defaults().passes_per_step);
            let samplers: &[&str] = if device == Device::Gpu { &["gpu", "host"] } else { &["host"] };
            let image = |sampler: &str| match sampler {
                "gpu" => pollster::block_on(lab.generate_from(&text, &valid, |_| Ok(()))),
                _ => pollster::block_on(lab.generate_with_host_sampler(&text, &valid, |_| Ok(()))),
            };
            // a warm-up run each, then the samplers take turns
            for &sampler in samplers {
                image(sampler)?;
            }
            let mut total_ms = vec![0.0; samplers.len()];
            for _ in 0..runs {
                for (i, &sampler) in samplers.iter().enumerate() {
                    let t0 = Instant::now();
                    image(sampler)?;
                    total_ms[i] += t0.elapsed().as_secs_f64() * 1e3;
                }
            }
            for (&sampler, ms) in samplers.iter().zip(total_ms) {
                rows.push((lab.backend().name(), lab.adapter.clone(), model, sampler, steps, passes, load_ms, ms / runs as f64));
            }
        }
    }
    let cfg = load(&a.models.models, Device::Cpu)?.cfg;
    let gflop = cfg.flops_per_image() as f64 / 1e9;
    println!("one denoiser pass for one image: {gflop:.3} GFLOP (UNetConfig::flops_per_image)");
    println!("| backend | adapter | model | sampler | steps | passes | load ms | ms / image | ms / step | GFLOP/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (b, ad, m, sampler, steps, passes, l, img) in &rows {
        let rate = gflop * *passes as f64 / (img / 1e3);
        println!("| {b} | {ad} | {m} | {sampler} | {steps} | {passes} | {l:.0} | {img:.1} | {:.1} | {rate:.2} |", img / *steps as f64);
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
fn stability(a: &StabilityArgs) -> Result<()> {
    let runs = a.runs as usize;
    let lab = load(&a.models.models, a.backend)?;
    let opts = GenerateOptions { model: a.model.map(|m| m.name().to_string()), ..GenerateOptions::default() };
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

fn main() {
    // a usage error (unknown command or flag, a value that does not parse) exits with 2
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Sample(a) => sample(a),
        Command::Manifest(a) => manifest(a),
        Command::Bench(a) => bench(a),
        Command::Eval(a) => evaluate::run(a),
        Command::Data => data(),
        Command::Stability(a) => stability(a),
        Command::Profile(a) => profile::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
