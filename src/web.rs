//! The wasm API used by www/worker.js (it runs inside a Web Worker, so the page never freezes).
//!
//! ```js
//! const lab = await Lab.load(manifestUrl, (p) => {/* {loaded, total, file} */}, { backend: 'auto' }); // or 'webgpu', 'cpu'
//! lab.backend; lab.adapter; lab.softwareAdapter; lab.skippedSoftwareAdapter; lab.fallbackReason;   // softwareAdapter: WebGPU on the CPU
//! lab.cacheWarning; // "" or why the files could not be kept for offline use ("QuotaExceededError: …")
//! lab.models;   // { default, student?, teacher }: steps, maxSteps, passesPerStep, guidance, sampler, timesteps
//! lab.alphaBars; // Float64Array: ᾱ_t for t = 0 … train_timesteps − 1
//! const res = await lab.generate(prompt, { model, steps, seed, guidance, sampler, blendPrompt, blend }, (step) => {
//!   // return false to cancel: the promise rejects with code "cancelled"
//! });
//! const view = await lab.forwardProcess(rgba, prompt, { t, seed });
//! await lab.loseGpuDeviceForTest();   // test hook: the GPU device is lost, as in a driver reset
//! ```
//! Every failure reaches JS as an `Error` whose message says what went wrong and whose `code` is
//! "input" | "weights" | "gpu" | "cancelled" | "busy" | "other" (the page localizes by code).
//! After a "gpu" error (the device was lost, or a GPU operation failed) the Lab stays broken:
//! free it and load a new one (a fresh device, or the CPU path where none is left).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Float32Array, Function, Object, Reflect, Uint8Array, Uint8ClampedArray};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::pipeline::{self, GenerateOptions, ModelKind};
use crate::sampler::SamplerKind;
use crate::weights::{self, FileEntry, Manifest};
use crate::Error;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn js_error_code(message: &str, code: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn js_error(e: impl std::fmt::Display) -> JsValue {
    js_error_code(&e.to_string(), "other")
}

fn lab_error(e: Error) -> JsValue {
    js_error_code(&e.to_string(), e.code())
}

/// A model file (or the manifest) that could not be had: code "weights".
fn weights_error(message: String) -> JsValue {
    lab_error(Error::Weights(message))
}

fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // setting a property on a fresh plain object cannot fail
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

/// fetch() from the window or the worker global scope.
async fn fetch(url: &str) -> Result<web_sys::Response, JsValue> {
    let global = js_sys::global();
    let promise = if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.fetch_with_str(url)
    } else if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.fetch_with_str(url)
    } else {
        return Err(js_error("no fetch() in this context"));
    };
    let resp: web_sys::Response =
        JsFuture::from(promise).await.map_err(|e| weights_error(format!("could not download {url}: {}", describe(&e))))?.dyn_into()?;
    if !resp.ok() {
        return Err(weights_error(format!("could not download {url}: HTTP {} {}", resp.status(), resp.status_text())));
    }
    Ok(resp)
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))
}

/// A manifest is a few hundred bytes; anything past this is not one (and must not fill the memory).
const MANIFEST_MAX_BYTES: usize = 1 << 20;

/// Downloads `url` chunk by chunk, calling `on_bytes(n)` as bytes arrive; a body longer than
/// `max_bytes` (the manifest's size for a model file) is cut off with an error, not buffered.
async fn download(url: &str, max_bytes: usize, mut on_bytes: impl FnMut(usize)) -> Result<Vec<u8>, JsValue> {
    let resp = fetch(url).await?;
    let body = resp.body().ok_or_else(|| weights_error(format!("{url}: empty response body")))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().dyn_into()?;
    let mut out = Vec::new();
    loop {
        let chunk =
            JsFuture::from(reader.read()).await.map_err(|e| weights_error(format!("download of {url} broke off: {}", describe(&e))))?;
        if Reflect::get(&chunk, &"done".into())?.as_bool().unwrap_or(true) {
            break;
        }
        let bytes: Uint8Array = Reflect::get(&chunk, &"value".into())?.dyn_into()?;
        let start = out.len();
        if start + bytes.length() as usize > max_bytes {
            let _ = reader.cancel();
            return Err(weights_error(format!("{url} is larger than the {max_bytes} bytes the manifest gives for it")));
        }
        out.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(&mut out[start..]);
        on_bytes(bytes.length() as usize);
    }
    Ok(out)
}

/// The Cache API store of model files, when the context offers one (it does not on plain http
/// origins other than localhost, nor in some private modes): then everything just downloads.
async fn open_cache() -> Option<web_sys::Cache> {
    let global = js_sys::global();
    let storage = if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.caches().ok()?
    } else {
        global.dyn_ref::<web_sys::Window>()?.caches().ok()?
    };
    JsFuture::from(storage.open(MODEL_CACHE)).await.ok()?.dyn_into().ok()
}

const MODEL_CACHE: &str = "diffusion-lab-models";

async fn cache_get(cache: &web_sys::Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let resp: web_sys::Response = hit.dyn_into().ok()?;
    let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

/// Stores a verified file. A full quota or a refused write only costs the next visit a download;
/// the error says why the browser refused it (the DOMException's name and message, e.g.
/// "QuotaExceededError: …"), for the load to report.
async fn cache_put(cache: &web_sys::Cache, url: &str, bytes: &mut [u8]) -> Result<(), String> {
    let why = |e: JsValue| e.dyn_ref::<js_sys::Error>().map_or_else(|| describe(&e), |e| format!("{}: {}", e.name(), e.message()));
    let resp = web_sys::Response::new_with_opt_u8_array(Some(bytes)).map_err(why)?;
    JsFuture::from(cache.put_with_str(url, &resp)).await.map(|_| ()).map_err(why)
}

/// A model file, from the cache when a copy there matches the manifest's size and sha256,
/// else downloaded (and then verified and cached). A tampered or stale cached copy is replaced.
/// Why the cache refused the file, if it did, goes to `cache_warning` (the first reason stays).
async fn model_file(
    cache: Option<&web_sys::Cache>,
    url: &str,
    entry: &FileEntry,
    cache_warning: &mut Option<String>,
    on_bytes: impl FnMut(usize),
) -> Result<Vec<u8>, JsValue> {
    let mut on_bytes = on_bytes;
    if let Some(cache) = cache {
        if let Some(bytes) = cache_get(cache, url).await {
            if weights::verify(entry, &bytes).is_ok() {
                on_bytes(bytes.len());
                return Ok(bytes);
            }
        }
    }
    let max_bytes = usize::try_from(entry.bytes).unwrap_or(usize::MAX);
    let mut bytes = download(url, max_bytes, on_bytes).await?;
    weights::verify(entry, &bytes).map_err(lab_error)?;
    if let Some(cache) = cache {
        if let Err(why) = cache_put(cache, url, &mut bytes).await {
            cache_warning.get_or_insert(why);
        }
    }
    Ok(bytes)
}

fn resolve(base: &str, name: &str) -> Result<String, JsValue> {
    Ok(web_sys::Url::new_with_base(name, base)?.href())
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LoadOptions {
    /// "auto" (the default), "webgpu" or "cpu": see [`pipeline::BackendChoice`].
    backend: pipeline::BackendChoice,
}

#[wasm_bindgen]
pub struct Lab {
    inner: Rc<pipeline::Lab>,
    busy: Rc<Cell<bool>>,
    /// Why the model files could not be kept in the browser cache ("" when they were).
    cache_warning: String,
}

#[wasm_bindgen]
impl Lab {
    /// Downloads the manifest and every file it lists (progress: `{loaded, total, file}`, bytes
    /// across all files), or takes them from the browser's Cache API where a copy there matches
    /// the manifest; checks each file's size and sha256, and builds the model on WebGPU or,
    /// without it, the CPU. A file the cache refuses (a full storage quota) does not fail the
    /// load: `cacheWarning` says why.
    pub async fn load(manifest_url: String, progress: Function, options: JsValue) -> Result<Lab, JsValue> {
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
        Ok(Lab { inner: Rc::new(lab), busy: Rc::new(Cell::new(false)), cache_warning: cache_warning.unwrap_or_default() })
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
    pub fn models(&self) -> JsValue {
        let out = Object::new();
        let mut kinds = vec![ModelKind::Teacher];
        if self.inner.has_student() {
            kinds.insert(0, ModelKind::Student);
        }
        set(&out, "default", kinds[0].name());
        for kind in kinds {
            let d = kind.defaults();
            let o = Object::new();
            set(&o, "steps", d.steps as u32);
            set(&o, "maxSteps", d.max_steps as u32);
            set(&o, "passesPerStep", d.passes_per_step as u32);
            set(&o, "guidance", d.guidance.map_or(JsValue::NULL, JsValue::from));
            set(&o, "sampler", if d.sampler == SamplerKind::Ddim { "ddim" } else { "dpm" });
            // the timesteps its default number of steps visits, noisiest first
            let ts: js_sys::Array = self.inner.schedule().timesteps(d.steps).into_iter().map(|t| JsValue::from(t as u32)).collect();
            set(&o, "timesteps", ts);
            set(&out, kind.name(), o);
        }
        out.into()
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
#[wasm_bindgen]
impl Lab {
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

/// Options from JS: undefined or null for the defaults, else a plain object whose every key is a
/// field of `T` (serde-wasm-bindgen alone would let `{stpes: 50}` or a string pass as defaults).
fn read_options<T: Default + for<'de> Deserialize<'de>>(options: JsValue) -> Result<T, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(T::default());
    }
    let input = |m: String| lab_error(Error::Input(m));
    let known = pipeline::field_names::<T>();
    if !options.is_object() || js_sys::Array::is_array(&options) || options.is_function() {
        let what = if js_sys::Array::is_array(&options) {
            "an array".to_string()
        } else {
            format!("a {}", options.js_typeof().as_string().unwrap_or_default())
        };
        return Err(input(format!("options must be an object such as {{ {}: … }}, got {what}", known.first().unwrap_or(&"steps"))));
    }
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(input(format!("options: unknown option {key:?} (known: {})", known.join(", "))));
        }
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| {
        let why = e.to_string();
        input(format!("options: {}", why.strip_prefix("Error: ").unwrap_or(&why)))
    })
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

fn rgba_array(bytes: &[u8]) -> Uint8ClampedArray {
    let a = Uint8ClampedArray::new_with_length(bytes.len() as u32);
    a.copy_from(bytes);
    a
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
