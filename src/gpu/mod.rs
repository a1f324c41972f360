//! wgpu runtime: device, one WGSL file per kernel, and the per-step plan of the denoiser.

pub mod context;
pub mod kernels;
pub mod plan;

pub use context::GpuContext;
pub use plan::UNetPlan;
