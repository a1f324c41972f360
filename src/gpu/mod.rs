//! wgpu runtime: device, one WGSL file per kernel, and the per-step plan of the denoiser.
