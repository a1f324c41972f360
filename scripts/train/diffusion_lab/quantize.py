"""Small weights for the download, mirrored by src/weights.rs.

- int8: a tensor of 2+ dimensions with at least MIN_VALUES values is stored as int8 `q` under its
  own name plus `NAME.qscale`, one f16 scale per row (first dimension: an output channel or a
  vocabulary entry), and read back as q * scale.
- NF4 (4-bit NormalFloat, Dettmers et al. 2023, "QLoRA"), for the matrices a caller names: a
  [rows, cols] matrix is stored as uint8 [rows, cols / 2], two 4-bit codes per byte (the even
  column in the low nibble), plus `NAME.nf4scale`, one f16 scale per NF4_GROUP values of a row;
  read back as NF4_LEVELS[code] * scale. Each group's scale is the one (of NF4_CLIPS times its
  absmax) with the smallest squared error, computed in f64 so that every machine picks the same.
- Everything else is stored as f16.
Only numpy is needed (scripts/setup.sh runs the text-encoder conversion without torch).
"""
import numpy as np

MIN_VALUES = 4096
SCALE_SUFFIX = ".qscale"
NF4_SCALE_SUFFIX = ".nf4scale"
NF4_GROUP = 32
NF4_CLIPS = np.linspace(0.5, 1.0, 11)
# the quantiles of a unit normal, normalised to [-1, 1], with an exact zero (QLoRA's table)
NF4_LEVELS = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0], dtype=np.float32)


def quantize_nf4(v):
    """A [rows, cols] matrix -> (packed uint8 codes [rows, cols / 2], f16 scales [rows, cols / NF4_GROUP])."""
    rows, cols = v.shape
    if cols % NF4_GROUP:
        raise ValueError(f"NF4 needs columns in multiples of {NF4_GROUP}, got {v.shape}")
    g = v.astype(np.float64).reshape(rows, cols // NF4_GROUP, NF4_GROUP)
    absmax = np.abs(g).max(axis=2)
    levels = NF4_LEVELS.astype(np.float64)
    best_err = np.full(absmax.shape, np.inf)
    best_codes = np.zeros(g.shape, np.uint8)
    best_scale = np.ones(absmax.shape, np.float16)
    for clip in NF4_CLIPS:
        scale = (absmax * clip).astype(np.float16)
        scale[scale == 0] = 1.0
        s = scale.astype(np.float64)[:, :, None]
        codes = np.abs(np.clip(g / s, -1, 1)[..., None] - levels).argmin(axis=3).astype(np.uint8)
        err = ((levels[codes] * s - g) ** 2).sum(axis=2)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_scale = np.where(better, scale, best_scale)
        best_codes = np.where(better[:, :, None], codes, best_codes)
    codes = best_codes.reshape(rows, cols)
    return (codes[:, 0::2] | (codes[:, 1::2] << 4)).astype(np.uint8), best_scale


def dequantize_nf4(packed, scale):
    codes = np.stack([packed & 15, packed >> 4], axis=2).reshape(packed.shape[0], -1)
    values = NF4_LEVELS[codes].reshape(codes.shape[0], scale.shape[1], -1)
    return (values * np.asarray(scale, np.float32)[:, :, None]).reshape(codes.shape)


def quantize(tensors, nf4=()):
    """`nf4`: the names of the 2-D matrices to store as NF4; other large tensors become int8."""
    out = {}
    for name, v in tensors.items():
        v = np.asarray(v, dtype=np.float32)
        if name in nf4:
            out[name], out[name + NF4_SCALE_SUFFIX] = quantize_nf4(v)
        elif v.ndim >= 2 and v.size >= MIN_VALUES:
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
        if name.endswith((SCALE_SUFFIX, NF4_SCALE_SUFFIX)):
            continue
        v = np.asarray(v)
        if v.dtype == np.uint8:
            out[name] = dequantize_nf4(v, tensors[name + NF4_SCALE_SUFFIX])
        elif v.dtype == np.int8:
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
