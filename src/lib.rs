//! diffusion-lab: a small text-conditioned diffusion model that runs in the browser on WebGPU
//! (our own WGSL kernels through wgpu) with a candle CPU reference, drawn step by step.

pub mod error;
pub mod eval;
pub mod event_loop;
pub mod gpu;
pub mod limits;
pub mod model;
pub mod pipeline;
pub mod rng;
pub mod sampler;
pub mod schedule;
pub mod text;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
