"""Training, distillation and export for the diffusion-lab denoiser (PyTorch)."""
