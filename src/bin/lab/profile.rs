//! `lab profile`: where the GPU time of one denoiser forward goes, per kernel kind and per
//! dispatch, with each kind's FLOP rate (and its share of a given peak), so that the goal
//! "≥ 30 % of FP32 peak in the convolution kernels" can be checked on any adapter.
//!
//! Method (works on every adapter, no timestamp queries needed): after a warm-up, each dispatch
//! of the plan is recorded `--reps` times in one compute pass, submitted once and waited for;
//! its time is the elapsed time ÷ reps. The whole forward is timed the same way, and the sum of
//! the per-dispatch times is printed beside it as a check (a kernel repeated on its own may find
//! its data in cache, or overlap its repetitions where the driver allows, so the two can differ).
//! FLOPs are the Recorder's counts (`Dispatch::flops`); timings are figures, never asserted.
//! conv2d's split-K factor follows the plan's policy (`ops::plan_conv_split`: 1 on CPU
//! adapters, per convolution on GPUs); `LAB_CONV_SPLIT=S` (1, 2, 4 … 64) forces S, and
//! `LAB_CONV_SPLIT=auto` the per-convolution rule (`ops::conv_split`) on any adapter.
//! `LAB_FUSE_NORMS=0` gives each group norm a dispatch of its own, as before conv2d learned to
//! normalise its input (`ops::plan_fuse_norms`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use diffusion_lab::gpu::ops::{plan_conv_split, plan_fuse_norms, CONV_SPLIT_ENV, FUSE_NORMS_ENV};
use diffusion_lab::gpu::profile::time_repeated;
use diffusion_lab::gpu::Dispatch;
use diffusion_lab::gpu::{GpuContext, UNetPlan};
use diffusion_lab::model::UNetConfig;
use diffusion_lab::pipeline::{read_manifest, read_model_file};
use diffusion_lab::weights::{self, Manifest};
use diffusion_lab::{Error, Result};

use super::{model_name, ModelsArg};
use diffusion_lab::pipeline::ModelKind;

#[derive(clap::Args)]
pub struct ProfileArgs {
    #[arg(long, value_parser = model_name, default_value = "student")]
    model: ModelKind,
    /// The batch the plan runs (default: the page's, 2 for the teacher's guided pair, 1 for the
    /// student); larger ones show what the same kernels reach on a large GPU
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    batch: Option<u32>,
    /// Repetitions per timing
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// The adapter's FP32 peak, for each kernel's share of it
    #[arg(long)]
    peak_gflops: Option<f64>,
    /// Also write the report as JSON to FILE
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    #[command(flatten)]
    models: ModelsArg,
}

/// How many single dispatches the second table lists.
const TOP: usize = 10;

#[derive(Serialize)]
struct Report {
    adapter: String,
    backend: String,
    /// Whether the adapter offers WGSL f16 (`shader-f16`); our kernels are f32 either way.
    shader_f16: bool,
    model: String,
    batch: usize,
    reps: usize,
    dispatch_count: usize,
    /// conv2d's split-K factor for every convolution; None: per convolution (ops::conv_split).
    conv_split: Option<usize>,
    /// Group norms inside the convolutions (`ops::plan_fuse_norms`).
    fuse_norms: bool,
    /// FLOPs of one forward of this plan (batch × `UNetConfig::flops_per_image`).
    flops: u64,
    /// The whole forward, all dispatches in one pass.
    forward_ms: f64,
    /// The per-dispatch times added up.
    dispatch_sum_ms: f64,
    peak_gflops: Option<f64>,
    /// By total time, longest first.
    kinds: Vec<KindRow>,
    /// Every dispatch, in the plan's order.
    dispatches: Vec<DispatchRow>,
}

#[derive(Serialize)]
struct KindRow {
    kind: String,
    count: usize,
    ms: f64,
    percent_of_forward: f64,
    flops: u64,
    /// None for kinds that count no FLOPs (norms, copies).
    gflops: Option<f64>,
    percent_of_peak: Option<f64>,
}

#[derive(Serialize)]
struct DispatchRow {
    label: String,
    kind: String,
    ms: f64,
    percent_of_forward: f64,
    flops: u64,
    gflops: Option<f64>,
}

/// GFLOP/s, or None where nothing is counted.
fn rate(flops: u64, ms: f64) -> Option<f64> {
    (flops > 0 && ms > 0.0).then(|| flops as f64 / (ms * 1e6))
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or("–".into(), |v| format!("{v:.decimals$}"))
}

/// Reads one file of the model folder, checked against its manifest entry.
fn model_file(dir: &Path, manifest: &Manifest, name: &str) -> Result<Vec<u8>> {
    let bytes = read_model_file(dir, name)?;
    weights::verify(manifest.entry(name)?, &bytes)?;
    Ok(bytes)
}

pub fn run(a: &ProfileArgs) -> Result<()> {
    let reps = a.reps as usize;
    let peak = a.peak_gflops;
    let model = a.model.name();

    // Only the denoiser's files: the plan needs no text encoder.
    let dir = &a.models.models;
    let manifest = read_manifest(dir)?;
    // The batches the pipeline runs: the teacher's CFG pair, the student's single image.
    let (weights_name, batch) = match a.model {
        ModelKind::Student => {
            let student = manifest.student.as_ref().ok_or_else(|| Error::Input("these model files have no student".into()))?;
            (student.weights.clone(), 1)
        }
        ModelKind::Teacher => (manifest.teacher.weights.clone(), 2),
    };
    // --batch N: what the same kernels reach when a batch fills a large GPU (the page runs 1 or 2)
    let batch = a.batch.map_or(batch, |n| n as usize);
    let cfg_bytes = model_file(dir, &manifest, &manifest.teacher.config)?;
    let cfg = UNetConfig::from_json(&String::from_utf8_lossy(&cfg_bytes))?;
    let weight_map = weights::read_safetensors(&weights_name, &model_file(dir, &manifest, &weights_name)?)?;

    let ctx = pollster::block_on(GpuContext::new())?;
    let plan = UNetPlan::new(&ctx, &cfg, &weight_map, &weights_name, batch)?;
    eprintln!("profiling {} dispatches, {reps} repetitions each, on {}", plan.dispatch_count(), ctx.adapter_name);

    // Warm-up: one real forward on image-like inputs (pipelines built, buffers resident, and the
    // inputs every later repetition reads are written).
    let x: Vec<f32> = (0..batch * cfg.image_len()).map(|i| (i as f32 * 0.618).sin()).collect();
    let text: Vec<f32> = (0..batch * cfg.text_dim).map(|i| 0.05 * (i as f32 * 0.377).cos()).collect();
    pollster::block_on(plan.forward(&ctx, &x, &vec![500.0; batch], &text))?;

    // Each timing: one untimed submit of the same work first, then the timed one.
    let time_ms = |dispatches: &[Dispatch]| -> Result<f64> {
        time_repeated(&ctx, dispatches, 1)?;
        Ok(time_repeated(&ctx, dispatches, reps)? * 1e3 / reps as f64)
    };
    let forward_ms = time_ms(plan.dispatches())?;
    let mut dispatches = Vec::with_capacity(plan.dispatch_count());
    for d in plan.dispatches() {
        let ms = time_ms(std::slice::from_ref(d))?;
        dispatches.push(DispatchRow {
            label: d.label.clone(),
            kind: d.kind.to_string(),
            ms,
            percent_of_forward: 100.0 * ms / forward_ms,
            flops: d.flops,
            gflops: rate(d.flops, ms),
        });
    }

    let mut by_kind: BTreeMap<&str, (usize, f64, u64)> = BTreeMap::new();
    for d in &dispatches {
        let entry = by_kind.entry(&d.kind).or_default();
        *entry = (entry.0 + 1, entry.1 + d.ms, entry.2 + d.flops);
    }
    let mut kinds: Vec<KindRow> = by_kind
        .into_iter()
        .map(|(kind, (count, ms, flops))| {
            let gflops = rate(flops, ms);
            KindRow {
                kind: kind.to_string(),
                count,
                ms,
                percent_of_forward: 100.0 * ms / forward_ms,
                flops,
                gflops,
                percent_of_peak: gflops.zip(peak).map(|(g, p)| 100.0 * g / p),
            }
        })
        .collect();
    kinds.sort_by(|a, b| b.ms.total_cmp(&a.ms));

    let report = Report {
        adapter: ctx.adapter_name.clone(),
        backend: format!("{:?}", ctx.backend),
        shader_f16: ctx.adapter_features.contains(wgpu::Features::SHADER_F16),
        model: model.to_string(),
        batch,
        reps,
        dispatch_count: dispatches.len(),
        conv_split: plan_conv_split(ctx.is_software())?,
        fuse_norms: plan_fuse_norms()?,
        flops: dispatches.iter().map(|d| d.flops).sum(),
        forward_ms,
        dispatch_sum_ms: dispatches.iter().map(|d| d.ms).sum(),
        peak_gflops: peak,
        kinds,
        dispatches,
    };
    print_report(&report);
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Other(e.to_string()))? + "\n";
        std::fs::write(path, text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn print_report(r: &Report) {
    println!("adapter: {} (backend {}; shader-f16 {})", r.adapter, r.backend, if r.shader_f16 { "offered" } else { "not offered" });
    println!(
        "model {}, batch {}: {} dispatches, {:.4} GFLOP per forward (batch × UNetConfig::flops_per_image); {} repetitions per timing",
        r.model,
        r.batch,
        r.dispatch_count,
        r.flops as f64 / 1e9,
        r.reps
    );
    let name = CONV_SPLIT_ENV;
    let env = std::env::var(name).map_or("unset".into(), |v| format!("{v:?}"));
    match r.conv_split {
        Some(s) => println!("conv2d split-K factor: {s} for every convolution ({name} {env})"),
        None => println!("conv2d split-K factor: per convolution, ops::conv_split ({name} {env})"),
    }
    let env = std::env::var(FUSE_NORMS_ENV).map_or("unset".into(), |v| format!("{v:?}"));
    let norms = if r.fuse_norms { "inside the convolutions that read them" } else { "dispatches of their own" };
    println!("group norms: {norms} ({FUSE_NORMS_ENV} {env})");
    println!(
        "whole forward: {:.3} ms ({} GFLOP/s); sum of the dispatches timed one by one: {:.3} ms ({:.2}× the forward)",
        r.forward_ms,
        cell(rate(r.flops, r.forward_ms), 2),
        r.dispatch_sum_ms,
        r.dispatch_sum_ms / r.forward_ms
    );
    println!();
    let peak_head = if r.peak_gflops.is_some() { " % of peak |" } else { "" };
    let peak_rule = if r.peak_gflops.is_some() { "---|" } else { "" };
    println!("| kind | count | total ms | % of forward | GFLOP | GFLOP/s |{peak_head}");
    println!("|---|---|---|---|---|---|{peak_rule}");
    for k in &r.kinds {
        let peak = if r.peak_gflops.is_some() { format!(" {} |", cell(k.percent_of_peak, 1)) } else { String::new() };
        println!(
            "| {} | {} | {:.3} | {:.1} | {:.4} | {} |{peak}",
            k.kind,
            k.count,
            k.ms,
            k.percent_of_forward,
            k.flops as f64 / 1e9,
            cell(k.gflops, 2)
        );
    }
    let all_rate = rate(r.flops, r.dispatch_sum_ms);
    let peak = match r.peak_gflops {
        Some(p) => format!(" {} |", cell(all_rate.map(|g| 100.0 * g / p), 1)),
        None => String::new(),
    };
    println!(
        "| all | {} | {:.3} | {:.1} | {:.4} | {} |{peak}",
        r.dispatch_count,
        r.dispatch_sum_ms,
        100.0 * r.dispatch_sum_ms / r.forward_ms,
        r.flops as f64 / 1e9,
        cell(all_rate, 2)
    );
    println!();
    let mut top: Vec<&DispatchRow> = r.dispatches.iter().collect();
    top.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    println!("| dispatch (top {TOP} by time) | kind | ms | % of forward | GFLOP/s |");
    println!("|---|---|---|---|---|");
    for d in top.iter().take(TOP) {
        println!("| {} | {} | {:.3} | {:.1} | {} |", d.label, d.kind, d.ms, d.percent_of_forward, cell(d.gflops, 2));
    }
}
