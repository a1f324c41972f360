//! Pictures between the page's RGBA bytes and the model's CHW floats.

/// CHW floats → RGBA bytes: `lo` maps to 0 and `hi` to 255 (images: -1..1; noise: -2..2).
pub fn to_rgba(chw: &[f32], channels: usize, size: usize, lo: f32, hi: f32) -> Vec<u8> {
    let plane = size * size;
    let mut out = vec![255u8; plane * 4];
    for p in 0..plane {
        for c in 0..3 {
            let v = chw[(c % channels) * plane + p];
            out[p * 4 + c] = (((v - lo) / (hi - lo)) * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// RGBA bytes → CHW floats in [-1, 1] (alpha ignored): images the page hands in.
pub fn from_rgba(rgba: &[u8], channels: usize, size: usize) -> Vec<f32> {
    let plane = size * size;
    let mut out = vec![0.0; channels * plane];
    for p in 0..plane {
        for c in 0..channels {
            out[c * plane + p] = rgba[p * 4 + c.min(2)] as f32 / 127.5 - 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_maps_range_and_fills_alpha() {
        // one pixel, three channels; out-of-range values clamp
        assert_eq!(to_rgba(&[-1.0, 0.0, 1.0], 3, 1, -1.0, 1.0), vec![0, 128, 255, 255]);
        assert_eq!(to_rgba(&[-5.0, 9.0, 0.5], 3, 1, -1.0, 1.0), vec![0, 255, 191, 255]);
        assert_eq!(to_rgba(&from_rgba(&[0, 128, 255, 7], 3, 1), 3, 1, -1.0, 1.0), vec![0, 128, 255, 255]);
    }
}
