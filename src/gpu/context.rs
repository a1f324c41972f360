//! The WebGPU device: adapter selection (Vulkan natively, the browser's WebGPU in wasm), the
//! limits we ask for, and an error sink so that a lost device or a failed GPU operation turns into
//! an `Error::Gpu` on the next call instead of a panic. A lost device (driver reset, GPU process
//! crash, `destroy()`) is recorded with its reason: every later call fails at once, and a read-back
//! in flight stops waiting, since its map_async may never finish.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_channel::oneshot;

use super::kernels::Kernels;
use crate::{Error, Result};

pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_name: String,
    /// The adapter's API (Vulkan natively, BrowserWebGpu in the browser).
    pub backend: wgpu::Backend,
    /// Cpu for software adapters (see [`GpuContext::is_software`]): lavapipe natively, the
    /// browser's fallback adapter (SwiftShader in Chromium); in the browser every other is Other.
    device_type: wgpu::DeviceType,
    /// What the adapter offers (the device asks for none of it: see `new`); `lab profile`
    /// reports shader-f16, which an f16 path would need.
    pub adapter_features: wgpu::Features,
    /// Every pipeline, compiled on the first plan and shared by all plans on this device
    /// (teacher and student): compiling them per plan doubled the page's pipelines (12 for 6).
    kernels: std::sync::OnceLock<Kernels>,
    /// The first uncaptured error, written by wgpu's error callback.
    failure: Arc<Mutex<Option<String>>>,
    /// Whether and why the device was lost, written by wgpu's device-lost callback.
    lost: Arc<Mutex<Lost>>,
}

#[derive(Default)]
struct Lost {
    /// wgpu's reason and message, once the device is lost.
    reason: Option<String>,
    /// Who waits to hear of it (read-backs in flight).
    waiters: Vec<oneshot::Sender<()>>,
}

/// Natively we test on Mesa's lavapipe through Vulkan; in the browser (a Web Worker) only
/// the browser's own WebGPU implementation exists.
#[cfg(not(target_arch = "wasm32"))]
const BACKENDS: wgpu::Backends = wgpu::Backends::VULKAN;
#[cfg(target_arch = "wasm32")]
const BACKENDS: wgpu::Backends = wgpu::Backends::BROWSER_WEBGPU;

impl GpuContext {
    pub async fn new() -> Result<GpuContext> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor { backends: BACKENDS, ..wgpu::InstanceDescriptor::new_without_display_handle() });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(no_adapter_message(&e.to_string())))?;
        let info = adapter.get_info();
        let adapter_name = if info.driver_info.is_empty() { info.name.clone() } else { format!("{} ({})", info.name, info.driver_info) };

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
        let lost = Arc::new(Mutex::new(Lost::default()));
        let sink = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            let reason = match message.trim() {
                "" => format!("{reason:?}"),
                message => format!("{reason:?}: {message}"),
            };
            if let Ok(mut lost) = sink.lock() {
                lost.reason.get_or_insert(reason);
                for waiter in lost.waiters.drain(..) {
                    let _ = waiter.send(());
                }
            }
        });

        let (backend, device_type, adapter_features) = (info.backend, info.device_type, adapter.features());
        let kernels = std::sync::OnceLock::new();
        Ok(GpuContext { device, queue, adapter_name, backend, device_type, adapter_features, kernels, failure, lost })
    }

    /// Whether the adapter is a GPU emulated in software on the processor (lavapipe natively,
    /// the browser's fallback adapter such as SwiftShader).
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }

    /// The device's pipelines, compiled on the first call.
    pub fn kernels(&self) -> &Kernels {
        self.kernels.get_or_init(|| Kernels::new(&self.device))
    }

    /// `Err(Error::Gpu)` if the device was lost or a GPU failure was recorded. Every plan call
    /// checks it: after a device loss all further work would silently produce garbage.
    pub fn check(&self) -> Result<()> {
        if let Some(reason) = self.lost_reason() {
            return Err(lost_error(&reason));
        }
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
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        Ok(())
    }

    /// Awaits `work` unless the device is lost first; then `Err(Error::Gpu)` saying so. A
    /// read-back on a lost device may never complete.
    pub async fn unless_lost<T>(&self, work: impl Future<Output = T>) -> Result<T> {
        let mut work = std::pin::pin!(work);
        let mut lost = self.lost_signal();
        std::future::poll_fn(|cx| {
            if let Poll::Ready(value) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(value));
            }
            match Pin::new(&mut lost).poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(lost_error(&self.lost_reason().unwrap_or_default()))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// wgpu's reason and message, once the device is lost.
    pub fn lost_reason(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|lost| lost.reason.clone())
    }

    /// Resolves once the device is lost (at once if it already is).
    fn lost_signal(&self) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        if let Ok(mut lost) = self.lost.lock() {
            if lost.reason.is_some() {
                let _ = sender.send(());
            } else {
                // forget the waiters of read-backs that have finished
                lost.waiters.retain(|waiter| !waiter.is_canceled());
                lost.waiters.push(sender);
            }
        }
        receiver
    }

    /// Test hook: destroys the device, as a driver reset or a crashed GPU process would lose it,
    /// and returns once the loss is recorded.
    pub async fn lose_device_for_test(&self) {
        self.device.destroy();
        // Natively wgpu reports the loss from its next poll; the browser resolves `device.lost`.
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::Poll);
        let _ = self.lost_signal().await;
    }
}

/// Frees the GPU memory at once: wgpu's WebGPU backend drops a buffer without `destroy()`, so
/// the memory of a freed `Lab` would wait for the JS garbage collector (measured with the
/// bench page's WebGPU counters: all 494 buffers stayed live after `lab.free()`). Destroying the
/// device releases everything made on it; natively wgpu frees it as before.
impl Drop for GpuContext {
    fn drop(&mut self) {
        self.device.destroy();
    }
}

fn lost_error(reason: &str) -> Error {
    Error::Gpu(format!("the GPU device was lost ({reason}); reload the model to continue"))
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
