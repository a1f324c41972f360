//! The whole pipeline on the bundled model files: both backends agree, bad files and bad input
//! get clear messages, and a seed fixes the image.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use diffusion_lab::gpu::GpuContext;
use diffusion_lab::pipeline::{read_model_dir, Backend, BackendChoice, GenerateOptions, Lab};
use diffusion_lab::weights::{sha256_hex, Manifest};
use diffusion_lab::Error;

fn model_files() -> (Manifest, HashMap<String, Vec<u8>>) {
    read_model_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("www/models")).unwrap_or_else(|e| panic!("{e}; run scripts/setup.sh first"))
}

fn load(files: &HashMap<String, Vec<u8>>, manifest: &Manifest, gpu: bool) -> Result<Lab, String> {
    let choice = if gpu { BackendChoice::WebGpu } else { BackendChoice::Cpu };
    pollster::block_on(Lab::from_files(manifest, files.clone(), choice)).map_err(|e| e.to_string())
}

fn generate(lab: &Lab, prompt: &str, steps: f64, seed: f64) -> Result<Vec<f32>, String> {
    generate_with(lab, "teacher", prompt, steps, seed)
}

/// The models these files hold (the student where the manifest lists one).
fn models(lab: &Lab) -> Vec<&'static str> {
    if lab.has_student() {
        vec!["student", "teacher"]
    } else {
        vec!["teacher"]
    }
}

fn generate_with(lab: &Lab, model: &str, prompt: &str, steps: f64, seed: f64) -> Result<Vec<f32>, String> {
    let opts = GenerateOptions { model: Some(model.into()), steps: Some(steps), seed, ..Default::default() };
    let mut seen = Vec::new();
    let out = pollster::block_on(lab.generate(prompt, &opts, |s| {
        seen.push((s.index, s.total, s.t));
        Ok(())
    }))
    .map_err(|e| e.to_string())?;
    assert_eq!(seen.len(), steps as usize);
    assert!(seen.iter().enumerate().all(|(i, s)| s.0 == i && s.1 == steps as usize));
    Ok(out)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn webgpu_plan_and_candle_cpu_generate_the_same_image() {
    let (manifest, files) = model_files();
    let gpu = load(&files, &manifest, true).unwrap();
    assert_eq!(gpu.backend(), Backend::WebGpu, "no GPU adapter ({}); install mesa-vulkan-drivers", gpu.fallback_reason);
    let cpu = load(&files, &manifest, false).unwrap();
    assert_eq!(cpu.backend(), Backend::Cpu);
    for model in models(&gpu) {
        for prompt in ["Hund", "a red apple"] {
            let a = generate_with(&gpu, model, prompt, 4.0, 3.0).unwrap();
            let b = generate_with(&cpu, model, prompt, 4.0, 3.0).unwrap();
            let err = max_abs_diff(&a, &b);
            println!("{model} {prompt:?}: webgpu vs cpu final image, 4 steps: max abs error {err:.2e}");
            assert!(err <= 1e-2, "{model} {prompt}: {err}");
        }
    }
    // the forward-process view too
    let x0 = generate(&cpu, "Katze", 2.0, 1.0).unwrap();
    let a = pollster::block_on(gpu.forward_process(&x0, "Katze", 500.0, 7.0)).unwrap();
    let b = pollster::block_on(cpu.forward_process(&x0, "Katze", 500.0, 7.0)).unwrap();
    let err = max_abs_diff(&a.eps_hat, &b.eps_hat);
    println!("forward process t=500: webgpu vs cpu noise estimate: max abs error {err:.2e}");
    assert!(err <= 1e-3, "{err}");
    assert_eq!(a.x_t, b.x_t);
}

#[test]
fn a_seed_fixes_the_image_and_another_seed_changes_it() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, false).unwrap();
    for model in models(&lab) {
        let a = generate_with(&lab, model, "Katze", 2.0, 11.0).unwrap();
        let b = generate_with(&lab, model, "Katze", 2.0, 11.0).unwrap();
        let c = generate_with(&lab, model, "Katze", 2.0, 12.0).unwrap();
        assert_eq!(a, b, "{model}");
        assert!(max_abs_diff(&a, &c) > 0.1, "{model}");
        // a picture, neither a clipped field nor noise (the output is clamped to [-1, 1], so
        // checking that range would prove nothing): a good share of the values lie inside the
        // range, they vary, and neighbours differ far less than noise's would (about 1.1 x spread)
        let inside = a.iter().filter(|v| v.abs() < 0.999).count() as f64 / a.len() as f64;
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let spread = (a.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / a.len() as f32).sqrt();
        let neighbours = a.windows(2).enumerate().filter(|(i, _)| (i + 1) % 32 != 0).map(|(_, w)| (w[0] - w[1]).abs()).sum::<f32>()
            / (a.len() - a.len() / 32) as f32;
        assert!(
            inside > 0.2 && spread > 0.05 && neighbours < 0.5 * spread,
            "{model}: {:.0} % inside, spread {spread}, neighbour difference {neighbours}",
            100.0 * inside
        );
    }
}

/// The page's Cancel: the step callback stops the run with `Error::Cancelled`, and the Lab
/// works as before, on both backends (on the GPU a step is still queued when the run stops).
#[test]
fn a_cancelled_run_stops_at_once_and_the_next_one_works() {
    let (manifest, files) = model_files();
    for gpu in [false, true] {
        let lab = load(&files, &manifest, gpu).unwrap();
        for model in models(&lab) {
            let opts = GenerateOptions { model: Some(model.into()), steps: Some(4.0), ..Default::default() };
            let mut seen = 0;
            let err = pollster::block_on(lab.generate("Hund", &opts, |s| {
                seen += 1;
                if s.index == 1 {
                    Err(Error::Cancelled)
                } else {
                    Ok(())
                }
            }))
            .unwrap_err();
            assert!(matches!(err, Error::Cancelled), "{err}");
            assert_eq!((seen, err.code()), (2, "cancelled"), "{model} on {:?}", lab.backend());
            generate_with(&lab, model, "Hund", 2.0, 0.0).unwrap();
        }
    }
}

/// On the GPU the sampler runs there too, with the next step queued while the host reads the
/// last: every step it reports (x_t, x_next, eps, x0) matches the host sampler's, which reads
/// each model output back and computes the update on the processor.
#[test]
fn the_gpu_sampler_matches_the_host_sampler_step_by_step() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, true).unwrap();
    assert_eq!(lab.backend(), Backend::WebGpu, "no GPU adapter ({}); install mesa-vulkan-drivers", lab.fallback_reason);
    for model in models(&lab) {
        let opts = GenerateOptions { model: Some(model.into()), seed: 5.0, ..Default::default() };
        let valid = opts.validate(lab.has_student()).unwrap();
        let text = lab.condition("Ein Hund im Park", &opts).unwrap();
        let record = |host: bool| {
            let mut steps = Vec::new();
            let on_step = |s: &diffusion_lab::sampler::Step| {
                steps.push(s.clone());
                Ok(())
            };
            let image = if host {
                pollster::block_on(lab.generate_with_host_sampler(&text, &valid, on_step))
            } else {
                pollster::block_on(lab.generate_from(&text, &valid, on_step))
            };
            (image.unwrap(), steps)
        };
        let (on_gpu, gpu_steps) = record(false);
        let (on_host, host_steps) = record(true);
        assert_eq!(gpu_steps.len(), valid.steps);
        for (g, h) in gpu_steps.iter().zip(&host_steps) {
            assert_eq!((g.index, g.total, g.t), (h.index, h.total, h.t));
            for (what, a, b) in [("x_t", &g.x_t, &h.x_t), ("x_next", &g.x_next, &h.x_next), ("eps", &g.eps, &h.eps), ("x0", &g.x0, &h.x0)] {
                let err = max_abs_diff(a, b);
                println!("{model} step {} {what}: GPU sampler vs host sampler max abs error {err:.2e}", g.index);
                assert!(err <= 1e-3, "{model} step {} {what}: {err}", g.index);
            }
        }
        assert_eq!(on_gpu, gpu_steps.last().unwrap().x_next);
        assert!(max_abs_diff(&on_gpu, &on_host) <= 1e-3);
    }
}

/// A lost GPU device (a driver reset or a crashed GPU process; simulated by destroying it): every
/// later run fails at once with `Error::Gpu` that says so, instead of hanging on a read-back or
/// drawing garbage, and a newly loaded Lab (a new device) works.
#[test]
fn after_the_gpu_device_is_lost_runs_fail_fast_and_a_new_lab_works() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, true).unwrap();
    assert_eq!(lab.backend(), Backend::WebGpu, "no GPU adapter ({}); install mesa-vulkan-drivers", lab.fallback_reason);
    generate(&lab, "Hund", 1.0, 0.0).unwrap();
    assert!(pollster::block_on(lab.lose_gpu_device_for_test()));
    for model in models(&lab) {
        let start = Instant::now();
        let opts = GenerateOptions { model: Some(model.into()), steps: Some(2.0), ..Default::default() };
        let err = pollster::block_on(lab.generate("Hund", &opts, |_| Ok(()))).unwrap_err();
        let elapsed = start.elapsed();
        println!("{model} after the device loss: {err} ({elapsed:?})");
        assert!(matches!(err, Error::Gpu(_)), "{err}");
        let message = err.to_string();
        assert!(message.contains("the GPU device was lost (Destroyed") && message.ends_with("; reload the model to continue"), "{message}");
        assert!(elapsed < Duration::from_secs(5), "{model}: took {elapsed:?}");
    }
    let x0 = vec![0.0; lab.cfg.image_len()];
    let err = pollster::block_on(lab.forward_process(&x0, "Hund", 500.0, 0.0)).err().unwrap();
    assert_eq!(err.code(), "gpu", "{err}");
    drop(lab);

    let fresh = load(&files, &manifest, true).unwrap();
    assert_eq!(fresh.backend(), Backend::WebGpu);
    generate(&fresh, "Hund", 1.0, 0.0).unwrap();
}

/// The default choice passes over an adapter emulated in software (lavapipe here, SwiftShader in
/// the browser) for the CPU path and says which; asked for WebGPU, it takes that adapter.
#[test]
fn auto_takes_the_cpu_path_over_a_software_adapter() {
    let (manifest, files) = model_files();
    let ctx = pollster::block_on(GpuContext::new()).unwrap();
    assert!(ctx.is_software(), "this test expects lavapipe, got {}", ctx.adapter_name);
    let auto = pollster::block_on(Lab::from_files(&manifest, files.clone(), BackendChoice::Auto)).unwrap();
    assert_eq!(auto.backend(), Backend::Cpu);
    assert!(auto.skipped_software_adapter);
    assert!(auto.fallback_reason.contains(&ctx.adapter_name), "{}", auto.fallback_reason);
    assert!(auto.fallback_reason.contains("emulated in software"), "{}", auto.fallback_reason);
    generate(&auto, "Hund", 1.0, 0.0).unwrap();
    let asked = pollster::block_on(Lab::from_files(&manifest, files.clone(), BackendChoice::WebGpu)).unwrap();
    assert_eq!(asked.backend(), Backend::WebGpu);
    assert!(asked.software_adapter() && !asked.skipped_software_adapter);
    let cpu = pollster::block_on(Lab::from_files(&manifest, files, BackendChoice::Cpu)).unwrap();
    assert_eq!((cpu.backend(), cpu.fallback_reason.as_str()), (Backend::Cpu, "the CPU path was requested"));
}

/// A read-back in flight when the device is lost stops waiting (its map_async may never finish).
#[test]
fn a_wait_on_the_gpu_ends_when_the_device_is_lost() {
    let ctx = pollster::block_on(GpuContext::new()).unwrap();
    let err = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            pollster::block_on(ctx.lose_device_for_test());
        });
        pollster::block_on(ctx.unless_lost(std::future::pending::<()>())).unwrap_err()
    });
    assert!(err.to_string().contains("the GPU device was lost (Destroyed)"), "{err}");
}

/// The forward process: x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise with the seed's
/// noise; the model's estimate of the noise gets better the more noise there is to see, and the
/// image it implies gets worse.
#[test]
fn the_forward_process_view_noises_and_estimates() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, false).unwrap();
    let x0 = generate(&lab, "roter Apfel", 4.0, 2.0).unwrap();
    let low = pollster::block_on(lab.forward_process(&x0, "roter Apfel", 50.0, 3.0)).unwrap();
    let high = pollster::block_on(lab.forward_process(&x0, "roter Apfel", 900.0, 3.0)).unwrap();
    let (sa, sn) = (low.alpha_bar.sqrt() as f32, (1.0 - low.alpha_bar).sqrt() as f32);
    let expect: Vec<f32> = x0.iter().zip(&low.noise).map(|(x, e)| sa * x + sn * e).collect();
    assert!(max_abs_diff(&low.x_t, &expect) < 1e-6);
    assert_eq!(low.noise, high.noise, "the seed fixes the noise");
    let x0_err =
        |v: &diffusion_lab::pipeline::ForwardView| v.x0_hat.iter().zip(&x0).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / x0.len() as f32;
    println!(
        "noise error t=50 {:.3}, t=900 {:.3}; image error t=50 {:.4}, t=900 {:.4}",
        low.noise_error,
        high.noise_error,
        x0_err(&low),
        x0_err(&high)
    );
    assert!(high.noise_error < low.noise_error, "{} vs {}", high.noise_error, low.noise_error);
    assert!(x0_err(&low) < x0_err(&high));
    for (t, needle) in [(1000.0, "t must be a whole number from 0 to 999"), (-1.0, "t must"), (2.5, "t must")] {
        let e = pollster::block_on(lab.forward_process(&x0, "", t, 0.0)).err().unwrap().to_string();
        assert!(e.contains(needle), "{e}");
    }
    let e = pollster::block_on(lab.forward_process(&x0[..10], "", 10.0, 0.0)).err().unwrap().to_string();
    assert!(e.contains("the image has 10 values"), "{e}");
}

#[test]
fn bad_input_gets_a_message_and_the_next_generate_works() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, false).unwrap();
    let cases: [(&str, &str, f64, &str); 5] = [
        ("teacher", "", 2.0, "the prompt is empty"),
        ("teacher", &"x".repeat(10_000), 2.0, "10000 characters"),
        ("teacher", "Hund", 0.0, "steps for the teacher must be"),
        ("teacher", "Hund", 10_000.0, "steps for the teacher must be"),
        ("student", "Hund", 5.0, "steps for the student must be a whole number from 1 to 4"),
    ];
    for (model, prompt, steps, needle) in cases {
        if model == "student" && !lab.has_student() {
            continue;
        }
        let opts = GenerateOptions { model: Some(model.into()), steps: Some(steps), ..Default::default() };
        let err = pollster::block_on(lab.generate(prompt, &opts, |_| Ok(()))).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
    // odd Unicode is a valid prompt
    generate(&lab, "🐶 كلب \u{202e}Hund", 1.0, 0.0).unwrap();
    generate(&lab, "Hund", 1.0, 0.0).unwrap();
}

#[test]
fn missing_truncated_tampered_and_misshapen_files_are_refused() {
    let (manifest, files) = model_files();
    let name = manifest.teacher.weights.clone();
    let expect_err = |files: &HashMap<String, Vec<u8>>, manifest: &Manifest, needle: &str| {
        for gpu in [false, true] {
            let err = load(files, manifest, gpu).err().unwrap_or_else(|| panic!("accepted (gpu={gpu})"));
            assert!(err.contains(needle), "gpu={gpu}: {err}");
        }
    };
    let mut missing = files.clone();
    missing.remove(&name);
    expect_err(&missing, &manifest, "was not downloaded");

    let mut truncated = files.clone();
    truncated.get_mut(&name).unwrap().truncate(1000);
    expect_err(&truncated, &manifest, "truncated");

    let mut tampered = files.clone();
    let bytes = tampered.get_mut(&name).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    expect_err(&tampered, &manifest, "sha256");

    // a well-formed file with the wrong shapes, listed honestly in its manifest
    let small = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unet_torch.safetensors")).unwrap();
    let mut wrong = files.clone();
    let mut wrong_manifest = manifest.clone();
    let entry = wrong_manifest.files.iter_mut().find(|f| f.name == name).unwrap();
    entry.bytes = small.len() as u64;
    entry.sha256 = sha256_hex(&small);
    wrong.insert(name.clone(), small);
    expect_err(&wrong, &wrong_manifest, "shape");
}

/// The text encoder is English-trained ("Hund" and "dog" are far apart in its space), so the
/// denoiser learned both languages from captions. Same seed: the German and the English prompt for
/// one emoji must give closer images than the German prompt and another emoji's English prompt,
/// for the teacher and for the student distilled from it. The scene models place the object anew
/// for each wording, so the margin is smaller than on the emoji model (same object vs different,
/// measured: scene teacher 0.363 vs 0.437, scene student 0.275 vs 0.370; the emoji teacher
/// 0.281 vs 0.429; an emoji teacher that did not yet follow object prompts 0.144 vs 0.136).
#[test]
fn german_and_english_prompts_for_the_same_emoji_give_close_images() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, false).unwrap();
    let pairs = [("Hund", "dog"), ("Katze", "cat"), ("roter Apfel", "red apple"), ("Banane", "banana"), ("Sonnenblume", "sunflower")];
    let mean_abs = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
    for model in models(&lab) {
        let steps = if model == "student" { 4.0 } else { 8.0 };
        let (mut same, mut other, mut n_other) = (0.0, 0.0, 0);
        for seed in [0.0, 1.0] {
            let de: Vec<_> = pairs.iter().map(|(d, _)| generate_with(&lab, model, d, steps, seed).unwrap()).collect();
            let en: Vec<_> = pairs.iter().map(|(_, e)| generate_with(&lab, model, e, steps, seed).unwrap()).collect();
            for i in 0..pairs.len() {
                same += mean_abs(&de[i], &en[i]);
                for j in (0..pairs.len()).filter(|&j| j != i) {
                    other += mean_abs(&de[i], &en[j]);
                    n_other += 1;
                }
            }
        }
        let same = same / (2 * pairs.len()) as f32;
        let other = other / n_other as f32;
        println!("{model}: mean abs image difference: same emoji de/en {same:.3}, different emoji {other:.3}");
        assert!(same < 0.9 * other, "{model}: same {same} vs other {other}");
    }
}

/// "Between two prompts": blend 0 is the first prompt's picture, 1 the second's, halfway neither;
/// a blend without its other half, or out of range, is refused with words.
#[test]
fn a_blend_of_two_prompts_moves_between_their_pictures() {
    let (manifest, files) = model_files();
    let lab = load(&files, &manifest, false).unwrap();
    let run = |blend: Option<f64>, other: Option<&str>| {
        let opts = GenerateOptions {
            model: Some("teacher".into()),
            steps: Some(2.0),
            seed: 4.0,
            blend,
            blend_prompt: other.map(String::from),
            ..Default::default()
        };
        pollster::block_on(lab.generate("Hund", &opts, |_| Ok(()))).map_err(|e| e.to_string())
    };
    let dog = run(None, None).unwrap();
    let cat = pollster::block_on(lab.generate(
        "Katze",
        &GenerateOptions { model: Some("teacher".into()), steps: Some(2.0), seed: 4.0, ..Default::default() },
        |_| Ok(()),
    ))
    .unwrap();
    // renormalising the blend moves the embedding by rounding only
    assert!(max_abs_diff(&run(Some(0.0), Some("Katze")).unwrap(), &dog) < 1e-3);
    assert!(max_abs_diff(&run(Some(1.0), Some("Katze")).unwrap(), &cat) < 1e-3);
    let half = run(Some(0.5), Some("Katze")).unwrap();
    assert!(max_abs_diff(&half, &dog) > 0.05 && max_abs_diff(&half, &cat) > 0.05);
    for (blend, other, says) in [
        (Some(1.5), Some("Katze"), "blend must be a number from 0 to 1"),
        (Some(f64::NAN), Some("Katze"), "blend must be a number from 0 to 1"),
        (Some(0.5), None, "blend needs blendPrompt"),
        (None, Some("Katze"), "blendPrompt needs blend"),
        (Some(0.5), Some(""), "prompt is empty"),
    ] {
        let err = run(blend, other).unwrap_err();
        assert!(err.contains(says), "{blend:?} {other:?}: {err}");
    }
}
