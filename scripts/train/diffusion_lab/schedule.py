"""Cosine noise schedule (Nichol & Dhariwal 2021), discrete; mirrors src/schedule.rs exactly."""
import math

import numpy as np


def alphas_cumprod(steps):
    """alpha_bar[t] for t = 0..steps-1, each beta clipped to 0.999 (computed in f64)."""
    s = 0.008
    f = lambda t: math.cos((t / steps + s) / (1 + s) * math.pi / 2) ** 2
    out, prod = [], 1.0
    for t in range(steps):
        beta = min(1.0 - f(t + 1) / f(t), 0.999)
        prod *= 1.0 - beta
        out.append(prod)
    return np.array(out, dtype=np.float64)
