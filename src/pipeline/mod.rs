//! Prompt → image, step by step, on a backend: our WGSL kernels through wgpu, or the candle
//! reference on the CPU. Shared by the wasm API (src/web/), the CLI and the tests.
//!
//!   options.rs          what a caller may ask for, and its checks
//!   lab.rs              the loaded model and the reverse process
//!   forward_process.rs  the forward process view
//!   pixels.rs           RGBA bytes ↔ CHW floats
//!   model_dir.rs        a model folder on disk (native only)

mod forward_process;
mod lab;
#[cfg(not(target_arch = "wasm32"))]
mod model_dir;
mod options;
mod pixels;

pub use forward_process::ForwardView;
pub use lab::{Backend, Lab};
#[cfg(not(target_arch = "wasm32"))]
pub use model_dir::{read_manifest, read_model_dir, read_model_file};
pub use options::{field_names, BackendChoice, GenerateOptions, ModelDefaults, ModelKind, ValidOptions};
pub use pixels::{from_rgba, to_rgba};
