//! `Lab` in JS: the loaded model behind the wasm API (one call at a time), its load from the
//! network or the cache, and its answers as plain JS objects.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Float32Array, Function, Object, Reflect, Uint8ClampedArray};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::files::{cache_get, cache_put, download, model_file, open_cache, resolve, MANIFEST_MAX_BYTES};
use super::js::{describe, js_error_code, lab_error, now_ms, read_options, rgba_array, set, to_js};
use crate::limits::Models;
use crate::pipeline::{self, GenerateOptions};
use crate::weights::Manifest;
use crate::Error;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LoadOptions {
    /// "auto" (the default), "webgpu" or "cpu": see [`pipeline::BackendChoice`].
    backend: pipeline::BackendChoice,
}

#[wasm_bindgen(js_name = Lab)]
pub struct LabHandle {
    inner: Rc<pipeline::Lab>,
    busy: Rc<Cell<bool>>,
    /// Why the model files could not be kept in the browser cache ("" when they were).
    cache_warning: String,
}

#[wasm_bindgen(js_class = Lab)]
impl LabHandle {
    /// Downloads the manifest and every file it lists (progress: `{loaded, total, file}`, bytes
    /// across all files), or takes them from the browser's Cache API where a copy there matches
    /// the manifest; checks each file's size and sha256, and builds the model on WebGPU or,
    /// without it, the CPU. A file the cache refuses (a full storage quota) does not fail the
    /// load: `cacheWarning` says why.
    pub async fn load(manifest_url: String, progress: Function, options: JsValue) -> Result<LabHandle, JsValue> {
        let opts: LoadOptions = read_options(options)?;
        // relative URLs resolve against the worker's (or window's) location
        let here = Reflect::get(&js_sys::global(), &"location".into())
            .and_then(|loc| Reflect::get(&loc, &"href".into()))
            .ok()
            .and_then(|h| h.as_string())
            .unwrap_or_default();
        let base = resolve(&here, &manifest_url).map_err(|_| lab_error(Error::Input(format!("invalid model URL: {manifest_url}"))))?;
        // The manifest comes from the network when it can (it names the current files), else from
        // the cache: a second visit works offline.
        let cache = open_cache().await;
        let mut cache_warning = None;
        // A 200 that is no manifest (a captive portal's page, a proxy's error) counts as offline.
        let manifest_bytes = match (download(&base, MANIFEST_MAX_BYTES, |_| {}).await, &cache) {
            (Ok(mut bytes), Some(cache)) => {
                if Manifest::from_json(&String::from_utf8_lossy(&bytes)).is_ok() {
                    if let Err(why) = cache_put(cache, &base, &mut bytes).await {
                        cache_warning = Some(why);
                    }
                    bytes
                } else {
                    match cache_get(cache, &base).await {
                        Some(cached) if Manifest::from_json(&String::from_utf8_lossy(&cached)).is_ok() => cached,
                        _ => bytes,
                    }
                }
            }
            (Ok(bytes), None) => bytes,
            (Err(e), Some(cache)) => cache_get(cache, &base).await.ok_or(e)?,
            (Err(e), None) => return Err(e),
        };
        let manifest = Manifest::from_json(&String::from_utf8_lossy(&manifest_bytes)).map_err(lab_error)?;
        let total = manifest.total_bytes() as f64;
        let mut loaded = 0f64;
        let mut files = HashMap::new();
        for entry in &manifest.files {
            let name = &entry.name;
            let url = resolve(&base, name)?;
            let bytes = model_file(cache.as_ref(), &url, entry, &mut cache_warning, |n| {
                loaded += n as f64;
                let p = Object::new();
                set(&p, "loaded", loaded);
                set(&p, "total", total);
                set(&p, "file", name.as_str());
                let _ = progress.call1(&JsValue::NULL, &p);
            })
            .await?;
            files.insert(name.clone(), bytes);
        }
        let lab = pipeline::Lab::from_verified(&manifest, files, opts.backend).await.map_err(lab_error)?;
        Ok(LabHandle { inner: Rc::new(lab), busy: Rc::new(Cell::new(false)), cache_warning: cache_warning.unwrap_or_default() })
    }

    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.backend().name().into()
    }

    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.inner.adapter.clone()
    }

    /// True when WebGPU runs on the browser's software fallback adapter (SwiftShader), on the CPU.
    #[wasm_bindgen(getter, js_name = softwareAdapter)]
    pub fn software_adapter(&self) -> bool {
        self.inner.software_adapter()
    }

    /// True when the default choice passed over a WebGPU adapter emulated in software for the
    /// faster CPU path: the page offers WebGPU on it anyway.
    #[wasm_bindgen(getter, js_name = skippedSoftwareAdapter)]
    pub fn skipped_software_adapter(&self) -> bool {
        self.inner.skipped_software_adapter
    }

    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> String {
        self.inner.fallback_reason.clone()
    }

    /// "" when every file is kept in the browser cache for the next visit; else why the cache
    /// refused one (e.g. "QuotaExceededError: …": the storage is full). The model works either way.
    #[wasm_bindgen(getter, js_name = cacheWarning)]
    pub fn cache_warning(&self) -> String {
        self.cache_warning.clone()
    }

    /// The models the files hold and how each is sampled:
    /// `{default, student?: {steps, maxSteps, passesPerStep, guidance, sampler}, teacher: {…}}`
    /// (guidance null: baked into the student's weights).
    #[wasm_bindgen(getter)]
    pub fn models(&self) -> Result<JsValue, JsValue> {
        to_js(&Models::new(self.inner.has_student(), Some(self.inner.schedule())))
    }

    /// ᾱ_t for every training timestep t (how much of the picture's variance x_t keeps), for the
    /// page's plot of the noise schedule.
    #[wasm_bindgen(getter, js_name = alphaBars)]
    pub fn alpha_bars(&self) -> js_sys::Float64Array {
        let s = self.inner.schedule();
        let values: Vec<f64> = (0..s.train_timesteps()).map(|t| s.alpha_bar(t)).collect();
        js_sys::Float64Array::from(&values[..])
    }

    /// Generates an image; `on_step` gets `{index, total, t, ms, width, height, x_next, eps, x0}`
    /// (RGBA Uint8ClampedArrays; x_next: the sample after the step) after every step, and on
    /// index 0 also `x_start`, the pure noise the run started from. Returning `false` from
    /// `on_step` cancels the run (the promise rejects with code "cancelled"). Resolves with
    /// `{ms, model, steps, passes, width, height, image}`. One call at a time: a second call while one runs is refused ("busy").
    pub fn generate(&self, prompt: String, options: JsValue, on_step: Function) -> js_sys::Promise {
        let lab = self.inner.clone();
        let busy = self.busy.clone();
        future_to_promise(async move {
            let opts: GenerateOptions = read_options(options)?;
            let _guard = BusyGuard::take(&busy)?;
            run_generate(&lab, &prompt, &opts, &on_step).await
        })
    }

    /// The forward process on a 32×32 RGBA image (alpha ignored) at timestep `t` with the seed's
    /// noise, and the teacher's estimate of that noise for `prompt`: resolves with `{t, alphaBar,
    /// x_t, noise, epsHat, x0Hat, noiseError, width, height}` (images as RGBA arrays).
    #[wasm_bindgen(js_name = forwardProcess)]
    pub fn forward_process(&self, rgba: Uint8ClampedArray, prompt: String, options: JsValue) -> js_sys::Promise {
        let lab = self.inner.clone();
        let busy = self.busy.clone();
        future_to_promise(async move {
            let opts: ForwardOptions = read_options(options)?;
            let (c, s) = (lab.cfg.in_channels, lab.cfg.image_size);
            let pixels = rgba.to_vec();
            if pixels.len() != s * s * 4 {
                return Err(lab_error(Error::Input(format!(
                    "the image must be {s}×{s} RGBA ({} bytes), got {} bytes",
                    s * s * 4,
                    pixels.len()
                ))));
            }
            let x0 = pipeline::from_rgba(&pixels, c, s);
            let _guard = BusyGuard::take(&busy)?;
            let v = lab.forward_process(&x0, &prompt, opts.t, opts.seed).await.map_err(lab_error)?;
            let image = |chw: &[f32], lo, hi| rgba_array(&pipeline::to_rgba(chw, c, s, lo, hi));
            let o = Object::new();
            set(&o, "t", v.t as u32);
            set(&o, "alphaBar", v.alpha_bar);
            set(&o, "x_t", image(&v.x_t, -1.0, 1.0));
            set(&o, "noise", image(&v.noise, -2.0, 2.0));
            set(&o, "epsHat", image(&v.eps_hat, -2.0, 2.0));
            set(&o, "x0Hat", image(&v.x0_hat, -1.0, 1.0));
            set(&o, "noiseError", v.noise_error);
            set(&o, "width", s as u32);
            set(&o, "height", s as u32);
            Ok(o.into())
        })
    }
}

/// For benchmarks, parity checks against other runtimes (www/bench.html) and tests.
#[wasm_bindgen(js_class = Lab)]
impl LabHandle {
    /// Test hook: loses the GPU device (destroys it, as a driver reset or a crashed GPU process
    /// would lose it). Resolves once the loss is recorded, with false on the CPU path (no device).
    /// Every later model call then rejects at once with code "gpu".
    #[wasm_bindgen(js_name = loseGpuDeviceForTest)]
    pub fn lose_gpu_device_for_test(&self) -> js_sys::Promise {
        let lab = self.inner.clone();
        future_to_promise(async move { Ok(lab.lose_gpu_device_for_test().await.into()) })
    }

    /// Bytes of all GPU buffers the model holds (0 on the CPU path); allocated once at load.
    #[wasm_bindgen(getter, js_name = gpuBufferBytes)]
    pub fn gpu_buffer_bytes(&self) -> f64 {
        self.inner.gpu_buffer_bytes() as f64
    }

    /// The text encoder alone: the prompt's embedding.
    #[wasm_bindgen(js_name = encodeText)]
    pub fn encode_text(&self, prompt: String) -> Result<Float32Array, JsValue> {
        Ok(Float32Array::from(&self.inner.encode_text(&prompt).map_err(lab_error)?[..]))
    }

    /// One raw denoiser pass: `x` n×3×32×32, `t` n timesteps, `text` n×384 embeddings → the
    /// model output (v), n×3×32×32. On WebGPU the teacher takes n = 2 and the student n = 1.
    pub fn denoise(&self, model: String, x: Float32Array, t: Float32Array, text: Float32Array) -> js_sys::Promise {
        let lab = self.inner.clone();
        let busy = self.busy.clone();
        future_to_promise(async move {
            let kind = lab.model_kind(&model).map_err(lab_error)?;
            let (x, t, text) = (x.to_vec(), t.to_vec(), text.to_vec());
            let n = t.len();
            if n == 0 || x.len() != n * lab.cfg.image_len() || text.len() != n * lab.cfg.text_dim {
                return Err(lab_error(Error::Input(format!(
                    "denoise: {n} timesteps need {} image values and {} text values, got {} and {}",
                    n * lab.cfg.image_len(),
                    n * lab.cfg.text_dim,
                    x.len(),
                    text.len()
                ))));
            }
            let _guard = BusyGuard::take(&busy)?;
            let out = lab.denoise_batch(kind, &x, &t, &text).await.map_err(lab_error)?;
            Ok(Float32Array::from(&out[..]).into())
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ForwardOptions {
    t: f64,
    seed: f64,
}

/// One model call at a time; released when dropped, also on an error.
struct BusyGuard(Rc<Cell<bool>>);

impl BusyGuard {
    fn take(busy: &Rc<Cell<bool>>) -> Result<Self, JsValue> {
        if busy.get() {
            return Err(js_error_code("the model is busy with another run; wait for it to finish or cancel it", "busy"));
        }
        busy.set(true);
        Ok(Self(busy.clone()))
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

async fn run_generate(lab: &pipeline::Lab, prompt: &str, opts: &GenerateOptions, on_step: &Function) -> Result<JsValue, JsValue> {
    let (c, s) = (lab.cfg.in_channels, lab.cfg.image_size);
    let o = opts.validate(lab.has_student()).map_err(lab_error)?;
    let text = lab.condition(prompt, opts).map_err(lab_error)?;
    let start = now_ms();
    let mut last = start;
    let image = lab
        .generate_from(&text, &o, |step| {
            let now = now_ms();
            let o = Object::new();
            set(&o, "index", step.index as u32);
            set(&o, "total", step.total as u32);
            set(&o, "t", step.t as u32);
            set(&o, "ms", now - last);
            set(&o, "width", s as u32);
            set(&o, "height", s as u32);
            set(&o, "x_next", rgba_array(&pipeline::to_rgba(&step.x_next, c, s, -1.0, 1.0)));
            set(&o, "eps", rgba_array(&pipeline::to_rgba(&step.eps, c, s, -2.0, 2.0)));
            set(&o, "x0", rgba_array(&pipeline::to_rgba(&step.x0, c, s, -1.0, 1.0)));
            if step.index == 0 {
                set(&o, "x_start", rgba_array(&pipeline::to_rgba(&step.x_t, c, s, -1.0, 1.0)));
            }
            last = now;
            match on_step.call1(&JsValue::NULL, &o) {
                Ok(v) if v == JsValue::FALSE => Err(Error::Cancelled),
                Ok(_) => Ok(()),
                Err(e) => Err(Error::Other(format!("step callback failed: {}", describe(&e)))),
            }
        })
        .await
        .map_err(lab_error)?;
    let res = Object::new();
    set(&res, "ms", now_ms() - start);
    set(&res, "backend", lab.backend().name());
    set(&res, "model", o.model.name());
    set(&res, "steps", o.steps as u32);
    set(&res, "passes", (o.steps * o.model.defaults().passes_per_step) as u32);
    set(&res, "width", s as u32);
    set(&res, "height", s as u32);
    set(&res, "image", rgba_array(&pipeline::to_rgba(&image, c, s, -1.0, 1.0)));
    Ok(res.into())
}
