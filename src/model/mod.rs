//! The denoiser: its config (www/models/denoiser.json) and the candle reference implementation.

pub mod config;
pub mod conv;
pub mod unet;

pub use config::UNetConfig;
pub use unet::UNet;
