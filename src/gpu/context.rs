//! The WebGPU device: adapter selection (Vulkan natively, the browser's WebGPU in wasm), the
//! limits we ask for, and an error sink so that a lost device or a failed GPU operation turns into
//! an `Error::Gpu` on the next call instead of a panic.

use std::sync::{Arc, Mutex};

use crate::{Error, Result};

pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_name: String,
    /// The first uncaptured error or device-lost message, written by wgpu's callbacks.
    failure: Arc<Mutex<Option<String>>>,
}

/// Natively we test on Mesa's lavapipe through Vulkan; in the browser (a Web Worker) only
/// the browser's own WebGPU implementation exists.
#[cfg(not(target_arch = "wasm32"))]
const BACKENDS: wgpu::Backends = wgpu::Backends::VULKAN;
#[cfg(target_arch = "wasm32")]
const BACKENDS: wgpu::Backends = wgpu::Backends::BROWSER_WEBGPU;

impl GpuContext {
    pub async fn new() -> Result<GpuContext> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: BACKENDS,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(no_adapter_message(&e.to_string())))?;
        let info = adapter.get_info();
        let adapter_name = if info.driver_info.is_empty() {
            info.name.clone()
        } else {
            format!("{} ({})", info.name, info.driver_info)
        };

        // WebGPU's default limits, except the buffer sizes: a bigger batch or model needs more
        // than the default 128 MiB per binding, and SwiftShader offers 1 GiB. Everything is f32
        // (SwiftShader has no shader-f16), so no optional feature is requested.
        let available = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            ..wgpu::Limits::defaults()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("diffusion-lab"),
                required_features: wgpu::Features::empty(),
                required_limits,
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::Gpu(format!("the adapter {adapter_name} refused to create a device: {e}")))?;

        let failure = Arc::new(Mutex::new(None));
        let sink = failure.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            record_failure(&sink, format!("GPU error: {error}"));
        }));
        let sink = failure.clone();
        device.set_device_lost_callback(move |reason, message| {
            record_failure(&sink, format!("the GPU device was lost ({reason:?}): {message}"));
        });

        Ok(GpuContext { device, queue, adapter_name, failure })
    }

    /// `Err(Error::Gpu)` with the first recorded GPU failure, if any. Every plan call checks it:
    /// after a device loss all further work would silently produce garbage.
    pub fn check(&self) -> Result<()> {
        match self.failure.lock() {
            Ok(failure) => match failure.as_ref() {
                Some(message) => Err(Error::Gpu(message.clone())),
                None => Ok(()),
            },
            Err(_) => Err(Error::Gpu("the GPU error record is poisoned".into())),
        }
    }

    /// Blocks (natively) until all submitted work is done, so that map_async callbacks run.
    /// In the browser the callbacks arrive by themselves; there nothing is done.
    pub fn wait_for_submissions(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        Ok(())
    }
}

fn record_failure(sink: &Mutex<Option<String>>, message: String) {
    if let Ok(mut failure) = sink.lock() {
        // The first error is the cause; later ones are usually its consequences.
        if failure.is_none() {
            *failure = Some(message);
        }
    }
}

fn no_adapter_message(detail: &str) -> String {
    if cfg!(target_arch = "wasm32") {
        format!(
            "no WebGPU adapter available ({detail}). This page needs a browser with WebGPU \
             enabled (a recent Chrome, Edge or Firefox; Safari 26+)."
        )
    } else {
        format!(
            "no WebGPU adapter available ({detail}). Natively a Vulkan driver is needed; without a \
             GPU install Mesa's software driver lavapipe: apt-get install mesa-vulkan-drivers"
        )
    }
}
