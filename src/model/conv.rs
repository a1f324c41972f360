//! 2-D convolution on the CPU as one matrix product per image (im2col + candle's gemm), for the
//! candle denoiser that the page's CPU path runs.
//!
//! candle-core's own CPU conv2d re-packs the weights and transposes the input to NHWC at every
//! call, fills its column tiles one strided element at a time and scatters the result back to
//! NCHW: in wasm that bookkeeping took more time than the matrix products. Here the weights are
//! flattened once at load, with the bias as one more column; the column matrix of an image is
//! written row by row (a row is one input plane shifted by one tap: contiguous copies at stride 1), with a
//! last row of ones for the bias; and the product (cout, K+1) × (K+1, pixels) is already NCHW.
//! `tests` compares it with candle's conv2d.

use candle_core::{CpuStorage, Storage, Tensor};
use candle_nn::VarBuilder;

use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct Conv {
    /// (cout, cin·k·k + 1): PyTorch's (cout, cin, k, k) row-major, the bias as the last column.
    weight: Tensor,
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

impl Conv {
    /// The tensors `weight` (cout, cin, k, k) and `bias` (cout) under `vb`.
    pub fn load(cin: usize, cout: usize, kernel: usize, stride: usize, padding: usize, vb: VarBuilder) -> Result<Conv> {
        let weight = vb.get((cout, cin, kernel, kernel), "weight")?;
        let bias = vb.get(cout, "bias")?;
        Conv::new(&weight, &bias, stride, padding)
    }

    pub fn new(weight: &Tensor, bias: &Tensor, stride: usize, padding: usize) -> Result<Conv> {
        let (cout, cin, kernel, kernel_w) = weight.dims4()?;
        if kernel != kernel_w || stride == 0 || bias.dims() != [cout] {
            return Err(Error::Shape(format!(
                "conv: weight {:?} and bias {:?} with stride {stride}: expected a square kernel, a bias per output channel and a stride of at least 1",
                weight.dims(),
                bias.dims()
            )));
        }
        let weight = Tensor::cat(&[weight.reshape((cout, cin * kernel * kernel))?, bias.reshape((cout, 1))?], 1)?.contiguous()?;
        Ok(Conv { weight, in_channels: cin, out_channels: cout, kernel, stride, padding })
    }

    /// x: (batch, cin, h, w) f32 on the CPU → (batch, cout, out_h, out_w).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, channels, h, w) = x.dims4()?;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        if channels != self.in_channels || h + 2 * p < k || w + 2 * p < k {
            return Err(Error::Shape(format!(
                "conv: input {:?} for {} input channels and a {k}×{k} kernel with padding {p}",
                x.dims(),
                self.in_channels
            )));
        }
        let (out_h, out_w) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let x = x.contiguous()?;
        let (storage, layout) = x.storage_and_layout();
        let Storage::Cpu(CpuStorage::F32(data)) = &*storage else {
            return Err(Error::Shape(format!("conv: expected an f32 tensor on the CPU, got {:?} on {:?}", x.dtype(), x.device())));
        };
        let input = &data[layout.start_offset()..][..batch * channels * h * w];
        let geometry = Geometry { channels, h, w, k, s, p, out_h, out_w };
        let rows = channels * k * k + 1;
        let mut cols = vec![0f32; batch * rows * out_h * out_w];
        for (image, out) in input.chunks_exact(channels * h * w).zip(cols.chunks_exact_mut(rows * out_h * out_w)) {
            geometry.im2col(image, out);
        }
        drop(storage);
        let cols = Tensor::from_vec(cols, (batch, rows, out_h * out_w), x.device())?;
        Ok(self.weight.broadcast_matmul(&cols)?.reshape((batch, self.out_channels, out_h, out_w))?)
    }
}

struct Geometry {
    channels: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    p: usize,
    out_h: usize,
    out_w: usize,
}

impl Geometry {
    /// One image (channels, h, w) → its column matrix (channels·k·k + 1, out_h·out_w) in `out`
    /// (zeroed): row (c, ky, kx) holds input (c, oy·s + ky − p, ox·s + kx − p) at column
    /// (oy, ox), zero outside the image; the last row is ones (the bias).
    fn im2col(&self, image: &[f32], out: &mut [f32]) {
        let Geometry { channels, h, w, k, s, p, out_h, out_w } = *self;
        let n = out_h * out_w;
        let mut rows = out.chunks_exact_mut(n);
        for plane in image.chunks_exact(h * w).take(channels) {
            for ky in 0..k {
                for kx in 0..k {
                    let row = rows.next().expect("one row per tap");
                    // output columns whose tap lands inside the image: ox·s + kx − p in 0..w
                    let first = p.saturating_sub(kx).div_ceil(s);
                    let end = ((w + p).saturating_sub(kx)).div_ceil(s).min(out_w);
                    for oy in 0..out_h {
                        let Some(iy) = (oy * s + ky).checked_sub(p).filter(|&iy| iy < h) else { continue };
                        let (in_row, out_row) = (&plane[iy * w..(iy + 1) * w], &mut row[oy * out_w..(oy + 1) * out_w]);
                        if first >= end {
                            continue;
                        }
                        let ix = first * s + kx - p;
                        if s == 1 {
                            out_row[first..end].copy_from_slice(&in_row[ix..ix + end - first]);
                        } else {
                            for (o, i) in out_row[first..end].iter_mut().zip(in_row[ix..].iter().step_by(s)) {
                                *o = *i;
                            }
                        }
                    }
                }
            }
        }
        rows.next().expect("the bias row").fill(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use candle_core::{Device, Module};

    fn random(rng: &mut Rng, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::from_vec(rng.normal_vec(n), shape, &Device::Cpu).unwrap()
    }

    /// Against candle's conv2d (+ bias), on the shapes the UNet has and some it has not:
    /// 1×1, 3×3 with stride 1 and 2, odd sizes, padding 0 to 2, a batch of 1 to 3.
    #[test]
    fn conv_matches_candle() {
        let mut rng = Rng::new(7);
        let cases = [
            // batch, cin, cout, size (h, w), kernel, stride, padding
            (1, 3, 32, (32, 32), 3, 1, 1),
            (2, 64, 32, (32, 32), 3, 1, 1),
            (2, 32, 32, (32, 32), 3, 2, 1),
            (1, 64, 128, (8, 8), 1, 1, 0),
            (3, 5, 7, (9, 6), 3, 2, 1),
            (1, 4, 6, (5, 7), 3, 1, 0),
            (2, 3, 5, (4, 4), 3, 2, 2),
            (1, 2, 3, (6, 5), 1, 2, 0),
        ];
        for (batch, cin, cout, (h, w), k, stride, padding) in cases {
            let x = random(&mut rng, &[batch, cin, h, w]);
            let weight = random(&mut rng, &[cout, cin, k, k]);
            let bias = random(&mut rng, &[cout]);
            let ours = Conv::new(&weight, &bias, stride, padding).unwrap().forward(&x).unwrap();
            let config = candle_nn::Conv2dConfig { padding, stride, ..Default::default() };
            let reference = candle_nn::Conv2d::new(weight, Some(bias), config).forward(&x).unwrap();
            assert_eq!(ours.dims(), reference.dims(), "case {:?}", (batch, cin, cout, h, w, k, stride, padding));
            let diff = (ours - reference).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
            assert!(diff < 1e-4, "case {:?}: max abs error {diff}", (batch, cin, cout, h, w, k, stride, padding));
        }
    }

    #[test]
    fn conv_refuses_a_wrong_input() {
        let mut rng = Rng::new(1);
        let conv = Conv::new(&random(&mut rng, &[4, 3, 3, 3]), &random(&mut rng, &[4]), 1, 1).unwrap();
        let err = conv.forward(&random(&mut rng, &[1, 2, 8, 8])).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
        assert!(Conv::new(&random(&mut rng, &[4, 3, 3, 3]), &random(&mut rng, &[5]), 1, 1).is_err());
    }
}
