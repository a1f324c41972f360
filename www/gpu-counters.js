// Counts the WebGPU objects and calls a page makes, from outside our Rust code: it wraps the
// WebGPU prototypes of this global, so it sees every call wgpu's WebGPU backend makes through
// wasm-bindgen (its glue calls `arg0.createBuffer(arg1)` etc., i.e. it looks the method up on
// the object each time). Install it before the device is created (before `Lab.load`), and in the
// global that runs the Lab: bench.js runs it in the window; the demo page runs it in worker.js.
// Used by bench.html?suite=stability, and by worker.js when scripts/soak.mjs asks (debug-stats).
//
//   const counters = installGpuCounters();   // null without WebGPU
//   counters.snapshot()                      // a plain copy: {created, calls, liveBuffers, …}

/** What each wrapped method counts under `created` (objects made) or `calls` (work done). */
const CREATED = {
  GPUDevice: {
    createBuffer: 'buffers',
    createBindGroup: 'bindGroups',
    createBindGroupLayout: 'bindGroupLayouts',
    createPipelineLayout: 'pipelineLayouts',
    createComputePipeline: 'computePipelines',
    createComputePipelineAsync: 'computePipelines',
    createRenderPipeline: 'renderPipelines',
    createRenderPipelineAsync: 'renderPipelines',
    createShaderModule: 'shaderModules',
    createCommandEncoder: 'commandEncoders',
    createTexture: 'textures',
    createSampler: 'samplers',
    createQuerySet: 'querySets',
  },
  GPUAdapter: { requestDevice: 'devices' },
};
const CALLS = {
  GPUQueue: { submit: 'submits', writeBuffer: 'writeBuffers', writeTexture: 'writeTextures' },
  GPUBuffer: { mapAsync: 'mapAsyncs' },
  GPUDevice: { destroy: 'devicesDestroyed' },
};

let installed = null;

export function installGpuCounters(global = globalThis) {
  if (installed) return installed;
  if (typeof global.GPUDevice !== 'function') return null; // no WebGPU here: nothing to count

  const created = {};
  const calls = { commandBuffers: 0, buffersDestroyed: 0 };
  let liveBuffers = 0;
  let liveBufferBytes = 0;
  let peakLiveBufferBytes = 0;
  // Buffers that exist for us: created and neither destroy()ed nor on a destroyed device. A
  // GPUBuffer the garbage collector takes without destroy() (wgpu's WebGPU backend never calls
  // it when a wgpu::Buffer is dropped) stays live here: its memory goes back only whenever the GC
  // runs, so we count it as a leak.
  const owner = new WeakMap(); // buffer -> {bytes, device}
  const onDevice = new WeakMap(); // device -> {buffers, bytes} still live on it

  const wrap = (proto, name, count) => {
    const original = proto?.[name];
    if (typeof original !== 'function') return;
    proto[name] = function (...args) {
      const result = original.apply(this, args);
      count(result, args, this);
      return result;
    };
  };
  for (const [iface, methods] of Object.entries(CREATED)) {
    for (const [method, key] of Object.entries(methods)) {
      created[key] = 0;
      wrap(global[iface]?.prototype, method, () => { created[key]++; });
    }
  }
  for (const [iface, methods] of Object.entries(CALLS)) {
    for (const [method, key] of Object.entries(methods)) {
      calls[key] = 0;
      wrap(global[iface]?.prototype, method, () => { calls[key]++; });
    }
  }
  // on top of the plain counts above: live buffers and their bytes, command buffers per submit
  const release = (buffers, bytes) => {
    liveBuffers -= buffers;
    liveBufferBytes -= bytes;
  };
  wrap(global.GPUDevice.prototype, 'createBuffer', (buffer, [desc], device) => {
    const bytes = Number(desc?.size ?? buffer?.size ?? 0);
    if (!onDevice.has(device)) onDevice.set(device, { buffers: 0, bytes: 0 });
    const stats = onDevice.get(device);
    stats.buffers++;
    stats.bytes += bytes;
    owner.set(buffer, { bytes, device });
    liveBuffers++;
    liveBufferBytes += bytes;
    peakLiveBufferBytes = Math.max(peakLiveBufferBytes, liveBufferBytes);
  });
  wrap(global.GPUBuffer?.prototype, 'destroy', (_result, _args, buffer) => {
    calls.buffersDestroyed++;
    const o = owner.get(buffer);
    owner.delete(buffer);
    const stats = o && onDevice.get(o.device);
    if (!stats) return; // destroyed twice, on a destroyed device, or made before we were installed
    stats.buffers--;
    stats.bytes -= o.bytes;
    release(1, o.bytes);
  });
  // GPUDevice.destroy() frees every buffer of the device at once
  wrap(global.GPUDevice.prototype, 'destroy', (_result, _args, device) => {
    const stats = onDevice.get(device);
    if (!stats) return;
    release(stats.buffers, stats.bytes);
    onDevice.delete(device); // its buffers' later destroy() calls find no stats and count nothing
  });
  wrap(global.GPUQueue?.prototype, 'submit', (_result, [buffers]) => { calls.commandBuffers += buffers?.length ?? 0; });

  installed = {
    snapshot: () => ({
      created: { ...created },
      calls: { ...calls },
      liveBuffers,
      liveBufferBytes,
      peakLiveBufferBytes,
    }),
  };
  return installed;
}
