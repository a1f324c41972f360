//! Every compute pipeline, compiled once per device from the WGSL files under shaders/ (one per
//! kernel); the ops (ops/) record dispatches of them.

/// A compute pipeline and its (shader-derived) bind group layout.
pub(crate) struct Kernel {
    pub(crate) name: &'static str,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

impl Kernel {
    fn new(device: &wgpu::Device, name: &'static str, source: &str) -> Kernel {
        Kernel::entry(device, name, &Kernel::module(device, name, source), "main", true)
    }

    fn module(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
        device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(name), source: wgpu::ShaderSource::Wgsl(source.into()) })
    }

    /// The pipeline of one entry point; `zero_workgroup_memory: false` skips (natively) the
    /// zeroing WebGPU requires, for kernels that write their workgroup memory before reading it.
    fn entry(
        device: &wgpu::Device,
        name: &'static str,
        module: &wgpu::ShaderModule,
        entry_point: &str,
        zero_workgroup_memory: bool,
    ) -> Kernel {
        // layout: None derives the bind group layout from the shader's declarations.
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module,
            entry_point: Some(entry_point),
            compilation_options: wgpu::PipelineCompilationOptions {
                zero_initialize_workgroup_memory: zero_workgroup_memory,
                ..Default::default()
            },
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        Kernel { name, pipeline, layout }
    }
}

/// Every pipeline, compiled once per device.
pub struct Kernels {
    /// conv2d.wgsl's `main` (split factor S = 1) and, compiled on first use, `main_split`
    /// (S > 1): SwiftShader takes ~2 s to compile it (`main`: 0.13 s), and plans on CPU
    /// adapters never use it.
    pub(crate) conv2d: Kernel,
    conv2d_module: wgpu::ShaderModule,
    conv2d_split: std::sync::OnceLock<Kernel>,
    pub(crate) group_norm: Kernel,
    pub(crate) attention: Kernel,
    pub(crate) condition: Kernel,
    pub(crate) sampler_step: Kernel,
}

impl Kernels {
    pub fn new(device: &wgpu::Device) -> Kernels {
        let conv2d_module = Kernel::module(device, "conv2d", include_str!("shaders/conv2d.wgsl"));
        Kernels {
            // Both entry points write their workgroup memory before they read it.
            conv2d: Kernel::entry(device, "conv2d", &conv2d_module, "main", false),
            conv2d_module,
            conv2d_split: std::sync::OnceLock::new(),
            group_norm: Kernel::new(device, "group_norm", include_str!("shaders/group_norm.wgsl")),
            attention: Kernel::new(device, "attention", include_str!("shaders/attention.wgsl")),
            condition: Kernel::new(device, "condition", include_str!("shaders/condition.wgsl")),
            sampler_step: Kernel::new(device, "sampler_step", include_str!("shaders/sampler_step.wgsl")),
        }
    }

    pub(crate) fn conv2d_split(&self, device: &wgpu::Device) -> &Kernel {
        self.conv2d_split.get_or_init(|| Kernel::entry(device, "conv2d", &self.conv2d_module, "main_split", false))
    }
}
