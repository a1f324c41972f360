//! wgpu runtime: the device, one WGSL file per kernel (shaders/), their pipelines (kernels.rs), the
//! ops that record dispatches of them (ops/, one file each), tensors, the recorder, read-back,
//! profiling, and the per-step plan of the denoiser (plan.rs).

pub mod context;
pub mod kernels;
pub mod ops;
pub mod plan;
#[cfg(not(target_arch = "wasm32"))]
pub mod profile;
pub mod readback;
pub mod recorder;
pub mod tensor;

pub use context::GpuContext;
pub use plan::UNetPlan;
pub use recorder::{Dispatch, Recorder};
pub use tensor::GpuTensor;
