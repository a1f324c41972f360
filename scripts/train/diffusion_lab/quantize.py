"""int8 weights for the download: per-row absmax quantization, mirrored by src/weights.rs.

A tensor of 2+ dimensions with at least MIN_VALUES values is stored as int8 `q` under its own
name plus `NAME.qscale`, one f16 scale per row (first dimension: an output channel or a
vocabulary entry), and read back as q * scale. Everything else is stored as f16.
Only numpy is needed (scripts/setup.sh runs the text-encoder conversion without torch).
"""
import numpy as np

MIN_VALUES = 4096
SCALE_SUFFIX = ".qscale"


def quantize(tensors):
    out = {}
    for name, v in tensors.items():
        v = np.asarray(v, dtype=np.float32)
        if v.ndim >= 2 and v.size >= MIN_VALUES:
            rows = v.reshape(v.shape[0], -1)
            scale = (np.abs(rows).max(axis=1) / 127.0).astype(np.float16)
            scale[scale == 0] = 1.0
            q = np.clip(np.round(rows / scale.astype(np.float32)[:, None]), -127, 127).astype(np.int8)
            out[name] = q.reshape(v.shape)
            out[name + SCALE_SUFFIX] = scale
        else:
            out[name] = v.astype(np.float16)
    return dict(sorted(out.items()))


def dequantize(tensors):
    """The f32 values the Rust loader computes from a file `quantize` wrote (or a plain f16 one)."""
    out = {}
    for name, v in tensors.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        v = np.asarray(v)
        if v.dtype == np.int8:
            scale = np.asarray(tensors[name + SCALE_SUFFIX]).astype(np.float32)
            out[name] = (v.reshape(v.shape[0], -1).astype(np.float32) * scale[:, None]).reshape(v.shape)
        else:
            out[name] = v.astype(np.float32)
    return out


def load_torch(path):
    """A weights file (int8 + scales, or f16) as f32 torch tensors, for --init / --teacher."""
    import torch
    from safetensors.numpy import load_file

    return {k: torch.from_numpy(v) for k, v in dequantize(load_file(path)).items()}


def main():
    """python -m diffusion_lab.quantize IN.safetensors OUT.safetensors: re-export an f16/f32 file."""
    import sys

    from safetensors.numpy import load_file, save_file

    src, dst = sys.argv[1:3]
    save_file(quantize(dequantize(load_file(src))), dst)


if __name__ == "__main__":
    main()
