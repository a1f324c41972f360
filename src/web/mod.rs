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
//! "input" | "weights" | "gpu" | "shape" | "cancelled" | "busy" | "other" (the page localizes by code).
//! After a "gpu" error (the device was lost, or a GPU operation failed) the Lab stays broken:
//! free it and load a new one (a fresh device, or the CPU path where none is left).

mod files;
mod js;
mod lab_handle;

use wasm_bindgen::prelude::*;

pub use lab_handle::LabHandle;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Every limit and default the page checks before it asks (crate::limits), without a model:
/// `{stepsMin, stepsMax, promptMaxChars, seedMax, guidanceMin, guidanceMax, backends, samplers,
/// models: {default, student, teacher}}`.
#[wasm_bindgen]
pub fn limits() -> Result<JsValue, JsValue> {
    js::to_js(&crate::limits::Limits::default())
}
