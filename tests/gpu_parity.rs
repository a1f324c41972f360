//! GPU parity: every WGSL kernel and the whole denoiser plan against the candle reference, on
//! the native Vulkan adapter (Mesa lavapipe on machines without a GPU). Each check prints its
//! measured maximum absolute error and asserts it is at most 1e-3.
//!
//! Run with `cargo test --test gpu_parity -- --nocapture` to see the errors and timings.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Conv2d, Conv2dConfig, GroupNorm, Linear, VarBuilder, VarMap};

use diffusion_lab::gpu::ops::{self, Conv2dOptions, FilmSlice, GroupNormOptions, InputNorm};
use diffusion_lab::gpu::{readback, GpuTensor, Recorder};
use diffusion_lab::gpu::{GpuContext, UNetPlan};
use diffusion_lab::model::unet::timestep_embedding;
use diffusion_lab::model::{UNet, UNetConfig};
use diffusion_lab::rng::Rng;
use diffusion_lab::sampler::{guide, Sampler, SamplerKind};
use diffusion_lab::schedule::{Prediction, Schedule};
use diffusion_lab::weights::{self, HostTensor, WeightMap};
use diffusion_lab::Error;

const TOLERANCE: f32 = 1e-3;
// Relative to the repository root, where cargo runs its tests and where scripts/gpu-measure.sh
// runs the built test binary on a GPU machine without a Rust toolchain.
const CONFIG_PATH: &str = "www/models/denoiser.json";
const TRAINED_WEIGHTS_PATH: &str = "www/models/denoiser.safetensors";

// ---------------------------------------------------------------------------------------------
// helpers

/// The GPU, or a failing test that says how to get one.
fn gpu() -> GpuContext {
    match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => ctx,
        // The message says how to get an adapter (mesa-vulkan-drivers) when there is none.
        Err(e) => panic!("the GPU parity tests need a Vulkan adapter: {e}"),
    }
}

fn cpu(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape, &Device::Cpu).unwrap()
}

fn host(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest |a - b|; infinite if the lengths differ or anything is NaN.
fn max_abs_error(gpu: &[f32], reference: &[f32]) -> f32 {
    if gpu.len() != reference.len() {
        return f32::INFINITY;
    }
    let mut worst = 0.0f32;
    for (a, b) in gpu.iter().zip(reference) {
        let d = (a - b).abs();
        if d.is_nan() {
            return f32::INFINITY;
        }
        worst = worst.max(d);
    }
    worst
}

fn check(what: &str, gpu: &[f32], reference: &[f32]) {
    let error = max_abs_error(gpu, reference);
    let magnitude = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    println!("{what:<58} max abs error {error:.3e} (max |ref| {magnitude:.2})");
    assert!(error <= TOLERANCE, "{what}: max abs error {error} exceeds {TOLERANCE}");
}

fn run(ctx: &GpuContext, recorder: Recorder<'_>, output: &GpuTensor) -> Vec<f32> {
    let (dispatches, _) = recorder.finish();
    pollster::block_on(readback::run(ctx, &dispatches, output)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// kernels

#[derive(Debug, Clone, Copy)]
struct ConvCase {
    batch: usize,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    upsample: bool,
    residual: bool,
    /// The split-K factor (`Conv2dOptions::split`); None: the automatic rule.
    split: Option<usize>,
    /// Input, residual, second input and output are channel slices of larger tensors (as the
    /// UNet's skips).
    slices: bool,
    /// Channels of a second input convolved 1×1 and added (a ResBlock's skip); 0: none.
    second: usize,
    /// Groups of a group norm of the input (`Conv2dOptions::norm`); 0: none.
    norm_groups: usize,
    /// With the norm: FiLM and SiLU after it (a ResBlock's norm2).
    film: bool,
    silu: bool,
}

/// The reference of conv2d's input norm: group norm of `x`, FiLM (scales and shifts at column
/// `offset` of each row of `film_values`) and SiLU, as ResBlock::forward.
fn reference_norm(x: &Tensor, groups: usize, affine: &[f32], film: Option<(&[f32], usize, usize)>, silu: bool) -> Tensor {
    let channels = x.dims()[1];
    let norm =
        GroupNorm::new(cpu(&affine[..channels], &[channels]), cpu(&affine[channels..], &[channels]), channels, groups, 1e-5).unwrap();
    let mut y = norm.forward(x).unwrap();
    if let Some((values, offset, stride)) = film {
        let batch = x.dims()[0];
        let film_t = cpu(values, &[batch, stride]).narrow(1, offset, 2 * channels).unwrap();
        let scale = film_t.narrow(1, 0, channels).unwrap().unsqueeze(2).unwrap().unsqueeze(3).unwrap();
        let shift = film_t.narrow(1, channels, channels).unwrap().unsqueeze(2).unwrap().unsqueeze(3).unwrap();
        y = y.broadcast_mul(&(scale + 1.0).unwrap()).unwrap().broadcast_add(&shift).unwrap();
    }
    if silu {
        y = y.silu().unwrap();
    }
    y
}

/// `values` (shape) as channels [before, before + C) of a tensor with `before` channels of
/// noise in front and `after` behind: the larger tensor's values and the slice's offset.
fn embed_channels(values: &[f32], shape: &[usize], before: usize, after: usize) -> (Vec<f32>, usize) {
    let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3]);
    let mut rng = Rng::new(99);
    let mut out = Vec::with_capacity(n * (before + c + after) * plane);
    for sample in values.chunks(c * plane) {
        out.extend(rng.uniform_vec(before * plane, 0.0, 1.0));
        out.extend_from_slice(sample);
        out.extend(rng.uniform_vec(after * plane, 0.0, 1.0));
    }
    (out, before)
}

#[test]
fn conv2d_matches_candle() {
    let ctx = gpu();
    let mut rng = Rng::new(1);
    let base = ConvCase {
        batch: 2,
        cin: 5,
        h: 9,
        w: 7,
        cout: 8,
        kernel: 3,
        stride: 1,
        padding: 1,
        upsample: false,
        residual: false,
        split: None,
        slices: false,
        second: 0,
        norm_groups: 0,
        film: false,
        silu: false,
    };
    let shapes = [
        base,
        // Output channels that leave the last 16-channel tile partly empty, and several tiles.
        ConvCase { cout: 6, ..base },
        ConvCase { cin: 12, h: 8, w: 8, cout: 13, kernel: 1, padding: 0, ..base },
        ConvCase { cin: 7, h: 6, w: 10, cout: 37, ..base },
        ConvCase { cin: 32, h: 8, w: 8, cout: 64, kernel: 1, padding: 0, ..base },
        ConvCase { cin: 8, h: 16, w: 16, cout: 8, stride: 2, ..base },
        ConvCase { batch: 1, cin: 3, h: 11, w: 9, cout: 5, stride: 2, ..base },
        ConvCase { cin: 6, h: 5, w: 6, cout: 7, upsample: true, ..base },
        ConvCase { cin: 4, h: 8, w: 8, cout: 7, residual: true, ..base },
        ConvCase { cin: 6, h: 4, w: 4, cout: 3, upsample: true, residual: true, ..base },
        ConvCase { cin: 9, h: 6, w: 6, cout: 10, kernel: 1, padding: 0, residual: true, ..base },
        // Channel counts that are multiples of neither S nor 16, and the mid block's shape.
        ConvCase { cin: 37, h: 5, w: 7, cout: 20, ..base },
        ConvCase { cin: 37, h: 4, w: 6, cout: 20, upsample: true, residual: true, ..base },
        ConvCase { cin: 128, h: 4, w: 4, cout: 128, residual: true, ..base },
        // Channel slices: a down block's conv2 writing its skip, a level's upsample writing h.
        ConvCase { cin: 20, h: 8, w: 8, cout: 19, residual: true, slices: true, ..base },
        ConvCase { cin: 6, h: 4, w: 4, cout: 7, upsample: true, slices: true, ..base },
        ConvCase { cin: 9, h: 6, w: 6, cout: 10, kernel: 1, padding: 0, stride: 2, residual: true, slices: true, ..base },
        // A second 1×1 input: the ResBlocks' conv2 + skip (down.1, up.0, up.2), odd channel
        // counts, with a strided or upsampled first input, with a residual as well, and slices.
        ConvCase { cin: 64, h: 16, w: 16, cout: 64, second: 32, ..base },
        ConvCase { cin: 32, h: 32, w: 32, cout: 32, second: 64, ..base },
        ConvCase { cin: 128, h: 8, w: 8, cout: 128, second: 256, ..base },
        ConvCase { cin: 7, h: 6, w: 10, cout: 13, second: 5, ..base },
        ConvCase { cin: 5, h: 9, w: 11, cout: 19, second: 3, stride: 2, ..base },
        ConvCase { cin: 6, h: 4, w: 5, cout: 7, second: 9, upsample: true, residual: true, ..base },
        ConvCase { cin: 20, h: 8, w: 8, cout: 19, second: 11, slices: true, ..base },
        ConvCase { cin: 9, h: 6, w: 6, cout: 10, kernel: 1, padding: 0, second: 4, residual: true, slices: true, ..base },
        // The input group-normalised in the dispatch: the UNet's conv1 (SiLU), conv2 (FiLM and
        // SiLU, the skip as second input), an up block's conv1 on a slice, qkv (1×1, no SiLU),
        // out_conv; then shapes where a workgroup would hold two samples or the groups do not
        // divide 64, which take a group_norm dispatch first.
        ConvCase { cin: 32, h: 32, w: 32, cout: 32, norm_groups: 8, silu: true, ..base },
        ConvCase { cin: 32, h: 32, w: 32, cout: 64, second: 32, norm_groups: 8, film: true, silu: true, ..base },
        ConvCase { cin: 128, h: 8, w: 8, cout: 64, slices: true, norm_groups: 8, film: true, silu: true, ..base },
        ConvCase { cin: 128, h: 8, w: 8, cout: 384, kernel: 1, padding: 0, norm_groups: 8, ..base },
        ConvCase { cin: 32, h: 32, w: 32, cout: 3, norm_groups: 8, silu: true, ..base },
        ConvCase { cin: 64, h: 16, w: 16, cout: 64, residual: true, norm_groups: 4, film: true, silu: true, ..base },
        ConvCase { cin: 8, h: 5, w: 7, cout: 6, norm_groups: 4, film: true, silu: true, ..base },
        ConvCase { cin: 12, h: 16, w: 16, cout: 16, norm_groups: 3, silu: true, ..base },
    ];
    // Every shape unsplit, with the automatic split, and split 2, 8 and 64 ways (more splits
    // than input channels leave some splits without channels).
    let splits = [None, Some(1), Some(2), Some(8), Some(64)];
    let mut cases: Vec<ConvCase> = shapes.iter().flat_map(|&shape| splits.map(|split| ConvCase { split, ..shape })).collect();
    // Over 65535 workgroups (the 2-D grid folding) with 64 invocations per tile.
    let big = ConvCase { batch: 1, cin: 2, h: 512, w: 512, cout: 16, kernel: 1, padding: 0, ..base };
    cases.extend([big, ConvCase { split: Some(64), ..big }]);
    for case in cases {
        let ConvCase {
            batch,
            cin,
            h,
            w,
            cout,
            kernel,
            stride,
            padding,
            upsample,
            residual,
            split,
            slices,
            second,
            norm_groups,
            film,
            silu,
        } = case;
        // With a norm, an offset and a spread far from N(0, 1) test its mean and variance.
        let x =
            if norm_groups > 0 { rng.uniform_vec(batch * cin * h * w, 3.0, 2.5) } else { rng.uniform_vec(batch * cin * h * w, 0.0, 1.0) };
        let affine = [rng.uniform_vec(cin, 1.0, 0.3), rng.uniform_vec(cin, 0.0, 0.3)].concat();
        let (film_offset, film_stride) = (5, 2 * cin + 9);
        let film_values = rng.uniform_vec(batch * film_stride, 0.0, 0.5);
        let fan_in = (cin * kernel * kernel) as f32;
        let weight = rng.uniform_vec(cout * cin * kernel * kernel, 0.0, 1.0 / fan_in.sqrt());
        let bias = rng.uniform_vec(cout, 0.0, 0.5);

        let reference_conv = Conv2d::new(
            cpu(&weight, &[cout, cin, kernel, kernel]),
            Some(cpu(&bias, &[cout])),
            Conv2dConfig { padding, stride, ..Default::default() },
        );
        let mut input = cpu(&x, &[batch, cin, h, w]);
        if norm_groups > 0 {
            input = reference_norm(&input, norm_groups, &affine, film.then_some((&film_values[..], film_offset, film_stride)), silu);
        }
        if upsample {
            input = input.upsample_nearest2d(2 * h, 2 * w).unwrap();
        }
        let mut expected = reference_conv.forward(&input).unwrap();
        let residual_values = rng.uniform_vec(expected.elem_count(), 0.0, 1.0);
        if residual {
            let residual_tensor = cpu(&residual_values, expected.dims());
            expected = (expected + residual_tensor).unwrap();
        }
        let (_, _, oh, ow) = expected.dims4().unwrap();
        let second_shape = [batch, second, oh, ow];
        let x2 = rng.uniform_vec(second_shape.iter().product(), 0.0, 1.0);
        let weight2 = rng.uniform_vec(cout * second, 0.0, 1.0 / (second.max(1) as f32).sqrt());
        let bias2 = rng.uniform_vec(cout, 0.0, 0.5);
        if second > 0 {
            let skip = Conv2d::new(cpu(&weight2, &[cout, second, 1, 1]), Some(cpu(&bias2, &[cout])), Conv2dConfig::default());
            expected = (expected + skip.forward(&cpu(&x2, &second_shape)).unwrap()).unwrap();
        }

        let mut rec = Recorder::new(&ctx);
        let layer = ops::ConvLayer { weight: &weight, shape: &[cout, cin, kernel, kernel], bias: &bias };
        let gw = if second > 0 {
            let layer2 = ops::ConvLayer { weight: &weight2, shape: &[cout, second, 1, 1], bias: &bias2 };
            rec.conv_weights_with_second("w", layer, layer2).unwrap()
        } else {
            rec.conv_weights("w", layer.weight, layer.shape, layer.bias).unwrap()
        };
        let label = format!("conv2d {case:?}").replace("ConvCase ", "");
        let g_affine = rec.upload("affine", &affine, &[2 * cin]).unwrap();
        let g_film = rec.upload("film", &film_values, &[batch, film_stride]).unwrap();
        let film_slice = film.then_some(FilmSlice { tensor: &g_film, offset: film_offset });
        let norm = (norm_groups > 0)
            .then_some(InputNorm { affine: &g_affine, options: GroupNormOptions { groups: norm_groups, film: film_slice, silu } });
        if !slices {
            let gx = rec.upload("x", &x, &[batch, cin, h, w]).unwrap();
            let gr = rec.upload("residual", &residual_values, expected.dims()).unwrap();
            let g2 = rec.upload("second", &x2, &second_shape).unwrap();
            let residual = residual.then_some(&gr);
            let second = (second > 0).then_some(&g2);
            let options = Conv2dOptions { stride, padding, upsample, residual, second, norm, split, ..Default::default() };
            let out = rec.conv2d("conv", &gx, &gw, options).unwrap();
            assert_eq!(out.shape, expected.dims());
            let got = run(&ctx, rec, &out);
            check(&label, &got, &host(&expected));
            continue;
        }
        // Each tensor is channels [offset, offset + count) of a larger one; the output's other
        // channels must keep their values.
        let (x_whole, x_at) = embed_channels(&x, &[batch, cin, h, w], 2, 3);
        let (r_whole, r_at) = embed_channels(&residual_values, &[batch, cout, oh, ow], 1, 4);
        let (o_whole, o_at) = embed_channels(&vec![7.0; batch * cout * oh * ow], &[batch, cout, oh, ow], 3, 2);
        let gx = rec.upload("x", &x_whole, &[batch, cin + 5, h, w]).unwrap().channel_slice(x_at, cin).unwrap();
        let gr = rec.upload("residual", &r_whole, &[batch, cout + 5, oh, ow]).unwrap().channel_slice(r_at, cout).unwrap();
        let g2 = (second > 0).then(|| {
            let (s_whole, s_at) = embed_channels(&x2, &second_shape, 4, 1);
            rec.upload("second", &s_whole, &[batch, second + 5, oh, ow]).unwrap().channel_slice(s_at, second).unwrap()
        });
        let out_whole = rec.upload("out", &o_whole, &[batch, cout + 5, oh, ow]).unwrap();
        let into = out_whole.channel_slice(o_at, cout).unwrap();
        let (residual, second) = (residual.then_some(&gr), g2.as_ref());
        let options = Conv2dOptions { stride, padding, upsample, residual, output: Some(&into), second, norm, split };
        rec.conv2d("conv", &gx, &gw, options).unwrap();
        let got = run(&ctx, rec, &out_whole);
        let want = cpu(&o_whole, &[batch, cout + 5, oh, ow]).slice_assign(&[0..batch, o_at..o_at + cout, 0..oh, 0..ow], &expected).unwrap();
        check(&label, &got, &host(&want));
    }
}

/// conv2d normalises its input in its own dispatch where each workgroup's tiles belong to one
/// sample and the groups divide 64, else it records a group_norm first; both give the same
/// values, and so does a recorder told not to fuse. A wrong gamma/beta length is a shape error.
#[test]
fn conv2d_input_norm_fuses_where_it_fits() {
    let ctx = gpu();
    let record = |(batch, cin, h, w, cout, groups): (usize, usize, usize, usize, usize, usize), fuse: bool| -> (usize, Vec<f32>) {
        let mut rng = Rng::new(3);
        let mut rec = Recorder::new(&ctx);
        rec.set_fuse_input_norms(fuse);
        let x = rec.upload("x", &rng.uniform_vec(batch * cin * h * w, 1.0, 2.0), &[batch, cin, h, w]).unwrap();
        let affine = rec.upload("affine", &rng.uniform_vec(2 * cin, 1.0, 0.3), &[2 * cin]).unwrap();
        let weight = rng.uniform_vec(cout * cin * 9, 0.0, 0.1);
        let weights = rec.conv_weights("w", &weight, &[cout, cin, 3, 3], &rng.uniform_vec(cout, 0.0, 0.1)).unwrap();
        let norm = Some(InputNorm { affine: &affine, options: GroupNormOptions { groups, film: None, silu: true } });
        let out = rec.conv2d("conv", &x, &weights, Conv2dOptions { padding: 1, norm, split: Some(1), ..Default::default() }).unwrap();
        let (dispatches, _) = rec.finish();
        (dispatches.len(), pollster::block_on(readback::run(&ctx, &dispatches, &out)).unwrap())
    };
    // (batch, cin, h, w, cout, groups) and the dispatches it takes fused
    for (shape, fused_dispatches) in [((2, 32, 32, 32, 32, 8), 1), ((2, 8, 5, 7, 6, 4), 2), ((1, 12, 16, 16, 16, 3), 2)] {
        let (fused_count, fused) = record(shape, true);
        let (apart_count, apart) = record(shape, false);
        assert_eq!((fused_count, apart_count), (fused_dispatches, 2), "{shape:?}");
        check(&format!("conv2d input norm {shape:?}: fused vs group_norm first"), &fused, &apart);
    }

    let mut rec = Recorder::new(&ctx);
    let x = rec.upload("x", &[0.0; 2 * 8 * 16], &[2, 8, 4, 4]).unwrap();
    let short = rec.upload("affine", &[1.0; 8], &[8]).unwrap();
    let weights = rec.conv_weights("w", &[0.0; 4 * 8], &[4, 8, 1, 1], &[0.0; 4]).unwrap();
    let norm = Some(InputNorm { affine: &short, options: GroupNormOptions { groups: 4, film: None, silu: false } });
    let err = rec.conv2d("conv", &x, &weights, Conv2dOptions { norm, ..Default::default() }).expect_err("a shape error");
    assert!(matches!(err, Error::Shape(ref m) if m.contains("gamma and beta [8] should be [16]")), "{err:?}");
}

/// The automatic split-K rule, and the factors conv2d refuses.
#[test]
fn conv2d_split_rule() {
    use ops::conv_split;
    // 4x4 mid block, batch 2, 256 channels: 2 samples x 16 tiles x 4 strips, split to 8192;
    // with 128 channels, to 4 channels per split.
    assert_eq!(conv_split(2 * 16 * 4, 256), 64);
    assert_eq!(conv_split(2 * 8 * 4, 128), 32);
    // Enough tiles already, or too few input channels: unsplit.
    assert_eq!(conv_split(8192, 256), 1);
    assert_eq!(conv_split(16, 3), 1);
    assert_eq!(conv_split(16, 7), 1);
    // At least 4 input channels per split.
    assert_eq!(conv_split(16, 37), 8);
    assert_eq!(conv_split(2 * 4 * 16, 64), 16);
    assert_eq!(conv_split(2048, 256), 4);

    let ctx = gpu();
    let mut rec = Recorder::new(&ctx);
    let x = rec.upload("x", &[0.0; 4 * 9], &[1, 4, 3, 3]).unwrap();
    let w = rec.conv_weights("w", &[0.0; 4 * 4], &[4, 4, 1, 1], &[0.0; 4]).unwrap();
    for split in [0, 3, 128] {
        let options = Conv2dOptions { split: Some(split), ..Default::default() };
        let e = rec.conv2d("conv", &x, &w, options).unwrap_err().to_string();
        assert!(e.contains("split-K factor"), "{e}");
    }
}

/// A second input that does not fit the weights' second layer, or one where the weights have
/// none, and a second layer that is not 1×1 with the first's outputs: shape errors.
#[test]
fn conv2d_second_input_shape_errors() {
    let ctx = gpu();
    let mut rec = Recorder::new(&ctx);
    let x = rec.upload("x", &[0.0; 2 * 4 * 6 * 6], &[2, 4, 6, 6]).unwrap();
    let x2 = rec.upload("x2", &[0.0; 2 * 3 * 6 * 6], &[2, 3, 6, 6]).unwrap();
    let layer = ops::ConvLayer { weight: &[0.0; 8 * 4 * 9], shape: &[8, 4, 3, 3], bias: &[0.0; 8] };
    let skip = ops::ConvLayer { weight: &[0.0; 8 * 3], shape: &[8, 3, 1, 1], bias: &[0.0; 8] };
    let paired = rec.conv_weights_with_second("conv2", layer, skip).unwrap();
    let plain = rec.conv_weights("conv1", layer.weight, layer.shape, layer.bias).unwrap();
    let padded = Conv2dOptions { padding: 1, ..Default::default() };
    let expect_shape_error = |result: diffusion_lab::Result<GpuTensor>, words: &str| {
        let err = result.expect_err("a shape error");
        assert!(matches!(err, Error::Shape(ref m) if m.contains(words)), "{err:?}");
    };
    expect_shape_error(rec.conv2d("conv2", &x, &paired, padded), "needs a second input of shape [2, 3, 6, 6]");
    // The right channels, but with stride 2 not at the output's size.
    let strided = Conv2dOptions { stride: 2, second: Some(&x2), ..padded };
    expect_shape_error(rec.conv2d("conv2", &x, &paired, strided), "second input [2, 3, 6, 6] should be [2, 3, 3, 3]");
    expect_shape_error(rec.conv2d("conv2", &x, &paired, Conv2dOptions { second: Some(&x), ..padded }), "should be [2, 3, 6, 6]");
    expect_shape_error(rec.conv2d("conv1", &x, &plain, Conv2dOptions { second: Some(&x2), ..padded }), "no second layer");
    // A channel slice of the right shape fits.
    let slice = x.channel_slice(1, 3).unwrap();
    rec.conv2d("conv2", &x, &paired, Conv2dOptions { second: Some(&slice), ..padded }).unwrap();
    let three = ops::ConvLayer { weight: &[0.0; 8 * 3 * 9], shape: &[8, 3, 3, 3], bias: &[0.0; 8] };
    let fewer = ops::ConvLayer { weight: &[0.0; 5 * 3], shape: &[5, 3, 1, 1], bias: &[0.0; 5] };
    for bad in [three, fewer] {
        let err = rec.conv_weights_with_second("conv2", layer, bad).expect_err("a shape error");
        assert!(matches!(err, Error::Shape(ref m) if m.contains("should be (8, cin, 1, 1)")), "{err:?}");
    }
}

#[test]
fn group_norm_matches_candle() {
    let ctx = gpu();
    let mut rng = Rng::new(2);
    // (batch, channels, h, w, groups); the last has 8*32*32 values per group, more than one
    // pass of the 256-invocation workgroup.
    let shapes = [(2, 16, 8, 8, 4), (1, 24, 5, 7, 8), (2, 64, 32, 32, 8), (2, 128, 4, 4, 8)];
    for (batch, channels, h, w, groups) in shapes {
        for (film, silu) in [(false, false), (false, true), (true, false), (true, true)] {
            // An offset and a spread far from N(0, 1) test the mean and variance, not just the affine.
            let x = rng.uniform_vec(batch * channels * h * w, 3.0, 2.5);
            let gamma = rng.uniform_vec(channels, 1.0, 0.3);
            let beta = rng.uniform_vec(channels, 0.0, 0.3);
            // The block's 2C values sit at column 5 of a wider row, as in condition's output.
            let (offset, stride) = (5, 2 * channels + 9);
            let film_values = rng.uniform_vec(batch * stride, 0.0, 0.5);

            let norm = GroupNorm::new(cpu(&gamma, &[channels]), cpu(&beta, &[channels]), channels, groups, 1e-5).unwrap();
            let mut expected = norm.forward(&cpu(&x, &[batch, channels, h, w])).unwrap();
            if film {
                // As ResBlock::forward: h * (1 + scale) + shift.
                let film_t = cpu(&film_values, &[batch, stride]).narrow(1, offset, 2 * channels).unwrap();
                let scale = film_t.narrow(1, 0, channels).unwrap().unsqueeze(2).unwrap().unsqueeze(3).unwrap();
                let shift = film_t.narrow(1, channels, channels).unwrap().unsqueeze(2).unwrap().unsqueeze(3).unwrap();
                expected = expected.broadcast_mul(&(scale + 1.0).unwrap()).unwrap().broadcast_add(&shift).unwrap();
            }
            if silu {
                expected = expected.silu().unwrap();
            }

            let mut rec = Recorder::new(&ctx);
            // With FiLM and SiLU, the input is also read as a channel slice (the up path's [h | skip]).
            let sliced = film && silu;
            let gx = if sliced {
                let (whole, at) = embed_channels(&x, &[batch, channels, h, w], 3, 2);
                rec.upload("x", &whole, &[batch, channels + 5, h, w]).unwrap().channel_slice(at, channels).unwrap()
            } else {
                rec.upload("x", &x, &[batch, channels, h, w]).unwrap()
            };
            let ga = rec.norm_affine("affine", &gamma, &beta).unwrap();
            let gf = rec.upload("film", &film_values, &[batch, stride]).unwrap();
            let slice = FilmSlice { tensor: &gf, offset };
            let options = GroupNormOptions { groups, film: film.then_some(slice), silu };
            let out = rec.group_norm("norm", &gx, &ga, options).unwrap();
            let got = run(&ctx, rec, &out);
            check(
                &format!("group_norm ({batch},{channels},{h},{w}) groups {groups} film {film} silu {silu} slice {sliced}"),
                &got,
                &host(&expected),
            );
        }
    }
}

/// Shapes that do not fit an op are a shape error (code "shape"), not a GPU failure: the page
/// keeps the model loaded for those and drops it only for a GPU one.
#[test]
fn a_shape_mismatch_is_a_shape_error() {
    let ctx = gpu();
    let mut rec = Recorder::new(&ctx);
    let x = rec.upload("x", &[0.0; 2 * 7 * 4 * 4], &[2, 7, 4, 4]).unwrap();
    let weights = rec.conv_weights("proj", &[0.0; 5 * 8], &[5, 8, 1, 1], &[0.0; 5]).unwrap();
    let err = rec.conv2d("proj", &x, &weights, Conv2dOptions::default()).err().unwrap();
    assert!(matches!(err, Error::Shape(ref m) if m.contains("proj")), "{err:?}");
    assert_eq!(err.code(), "shape");
    let err = rec.upload("short", &[0.0; 3], &[2, 2]).err().unwrap();
    assert_eq!(err.code(), "shape", "{err}");
}

/// The conditioning (timestep embedding, time MLP, text projection, the stacked films) against
/// the reference's layers one by one.
#[test]
fn condition_matches_candle() {
    let ctx = gpu();
    let mut rng = Rng::new(3);
    // Integer, fractional, zero and the largest training timesteps: the angles reach ~1000 rad.
    let timesteps = [0.0f32, 1.0, 17.5, 250.25, 500.0, 998.7, 999.0, 0.001];
    // (batch, time_dim, cond_dim, text_dim, film_features): the bundled config's sizes (its
    // films: 1,408 rows, six workgroups), odd ones, and the largest dimensions the kernel holds.
    for (batch, time_dim, cond_dim, text_dim, films) in [(8, 64, 128, 384, 1408), (3, 10, 7, 5, 300), (1, 256, 256, 16, 256)] {
        let layer = |rng: &mut Rng, out: usize, input: usize| {
            (rng.uniform_vec(out * input, 0.0, 1.0 / (input as f32).sqrt()), rng.uniform_vec(out, 0.0, 0.5))
        };
        let (mlp0, mlp2, proj, film) = (
            layer(&mut rng, cond_dim, time_dim),
            layer(&mut rng, cond_dim, cond_dim),
            layer(&mut rng, cond_dim, text_dim),
            layer(&mut rng, films, cond_dim),
        );
        let t = &timesteps[..batch];
        let text = rng.uniform_vec(batch * text_dim, 0.0, 0.2);

        let linear = |(w, b): &(Vec<f32>, Vec<f32>), out: usize, input: usize| Linear::new(cpu(w, &[out, input]), Some(cpu(b, &[out])));
        let temb = timestep_embedding(&cpu(t, &[batch]), time_dim).unwrap();
        let hidden = linear(&mlp0, cond_dim, time_dim).forward(&temb).unwrap().silu().unwrap();
        let from_time = linear(&mlp2, cond_dim, cond_dim).forward(&hidden).unwrap();
        let cond = (from_time + linear(&proj, cond_dim, text_dim).forward(&cpu(&text, &[batch, text_dim])).unwrap()).unwrap();
        let expected = linear(&film, films, cond_dim).forward(&cond.silu().unwrap()).unwrap();

        for software in [true, false] {
            let mut rec = Recorder::new(&ctx);
            // one workgroup per sample (CPU adapters) and one per 256 films (GPUs)
            rec.set_software_adapter(software);
            let layers = ops::ConditionLayers {
                time_dim,
                cond_dim,
                text_dim,
                time_mlp0: (&mlp0.0, &mlp0.1),
                time_mlp2: (&mlp2.0, &mlp2.1),
                text_proj: (&proj.0, &proj.1),
                films: (&film.0, &film.1),
            };
            let weights = rec.condition_weights("condition", &layers).unwrap();
            let gt = rec.upload("t", t, &[batch]).unwrap();
            let gtext = rec.upload("text", &text, &[batch, text_dim]).unwrap();
            let out = rec.condition("condition", &gt, &gtext, &weights).unwrap();
            let got = run(&ctx, rec, &out);
            check(
                &format!("condition batch {batch} time {time_dim} cond {cond_dim} text {text_dim} films {films} software {software}"),
                &got,
                &host(&expected),
            );
        }
    }
}

/// The attention core of `SelfAttention::forward` (src/model/unet.rs), from the qkv output on.
fn reference_attention(qkv: &Tensor, heads: usize) -> Tensor {
    let (b, three_c, h, w) = qkv.dims4().unwrap();
    let c = three_c / 3;
    let d = c / heads;
    let qkv = qkv.reshape((b, 3, heads, d, h * w)).unwrap();
    let q = qkv.narrow(1, 0, 1).unwrap().squeeze(1).unwrap().transpose(2, 3).unwrap().contiguous().unwrap();
    let k = qkv.narrow(1, 1, 1).unwrap().squeeze(1).unwrap().contiguous().unwrap();
    let v = qkv.narrow(1, 2, 1).unwrap().squeeze(1).unwrap().transpose(2, 3).unwrap().contiguous().unwrap();
    let scores = (q.matmul(&k).unwrap() / (d as f64).sqrt()).unwrap();
    let attn = candle_nn::ops::softmax(&scores, D::Minus1).unwrap();
    let out = attn.matmul(&v).unwrap();
    out.transpose(2, 3).unwrap().reshape((b, c, h, w)).unwrap()
}

#[test]
fn attention_matches_candle() {
    let ctx = gpu();
    let mut rng = Rng::new(4);
    // (batch, channels, h, w, heads), the first is the UNet's middle block.
    for (batch, channels, h, w, heads) in [(2, 128, 8, 8, 4), (1, 16, 3, 5, 2), (2, 64, 4, 4, 1), (1, 96, 6, 6, 3)] {
        // Spread 3: scores of several units, so the softmax is peaked and the online rescaling
        // matters (a nearly uniform softmax would hide errors in it).
        for spread in [0.5, 3.0] {
            let qkv = rng.uniform_vec(batch * 3 * channels * h * w, 0.0, spread);
            let expected = reference_attention(&cpu(&qkv, &[batch, 3 * channels, h, w]), heads);

            let mut rec = Recorder::new(&ctx);
            let gq = rec.upload("qkv", &qkv, &[batch, 3 * channels, h, w]).unwrap();
            let out = rec.attention("attention", &gq, heads).unwrap();
            let got = run(&ctx, rec, &out);
            check(&format!("attention ({batch},{channels},{h},{w}) heads {heads} spread {spread}"), &got, &host(&expected));
        }
    }
}

/// The sampler's GPU step against the host's `StepCoefficients::apply`, over two steps (the
/// second reads the first's x0 for DPM-Solver++(2M)), guided (batch 2) and not, both predictions.
#[test]
fn sampler_step_matches_the_host_sampler() {
    let ctx = gpu();
    let mut rng = Rng::new(12);
    let len = 3 * 7 * 5;
    for kind in [SamplerKind::Ddim, SamplerKind::DpmSolver2M] {
        for prediction in [Prediction::V, Prediction::Eps] {
            for guidance in [None, Some(3.0f32)] {
                let copies = if guidance.is_some() { 2 } else { 1 };
                let sampler = Sampler::new(kind, Schedule::cosine(1000), prediction, 4, 1, len).unwrap();
                let mut rec = Recorder::new(&ctx);
                let x = rec.tensor("x", &[copies, 3, 7, 5]);
                let output = rec.tensor("output", &[copies, 3, 7, 5]);
                let step = rec.sampler_step("sampler step", &output, &x).unwrap();
                let mut host_x = rng.normal_vec(len);
                ctx.queue.write_buffer(&x.buffer, 0, bytemuck::cast_slice(&host_x.repeat(copies)));
                let mut host_prev: Option<Vec<f32>> = None;
                // the first two steps and the last (which lands on x0)
                for index in [0, 1, 3] {
                    let out = rng.normal_vec(copies * len);
                    ctx.queue.write_buffer(&output.buffer, 0, bytemuck::cast_slice(&out));
                    let c = sampler.coefficients(index).unwrap();
                    step.write(&ctx.queue, &c, guidance).unwrap();
                    let got = pollster::block_on(readback::run(&ctx, std::slice::from_ref(&step.dispatch), &step.step)).unwrap();
                    let guided = match guidance {
                        Some(g) => guide(&out[..len], &out[len..], g),
                        None => out.clone(),
                    };
                    let (x_next, eps, x0) = c.apply(&host_x, &guided, host_prev.as_deref());
                    let what = format!("sampler step {kind:?} {prediction:?} guidance {guidance:?} step {index}");
                    check(&what, &got, &[host_x.clone(), x_next.clone(), eps, x0.clone()].concat());
                    // the next sample is in every image of the denoiser's input
                    let x_on_gpu = pollster::block_on(readback::run(&ctx, &[], &x)).unwrap();
                    check(&format!("{what}, x written back"), &x_on_gpu, &x_next.repeat(copies));
                    host_x = got[len..2 * len].to_vec();
                    host_prev = Some(got[3 * len..].to_vec());
                }
                // a guided step needs a batch of two, an unguided one a batch of one
                let wrong = if guidance.is_some() { None } else { Some(2.0) };
                assert!(matches!(step.write(&ctx.queue, &sampler.coefficients(0).unwrap(), wrong), Err(Error::Input(_))));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the whole denoiser

fn config() -> UNetConfig {
    let text = std::fs::read_to_string(CONFIG_PATH).expect("www/models/denoiser.json");
    UNetConfig::from_json(&text).unwrap()
}

/// Deterministic weights for every tensor the candle UNet asks for (names and shapes come from
/// loading it once through a VarMap), scaled like PyTorch's default init so activations stay O(1).
fn random_weights(cfg: &UNetConfig, seed: u64) -> WeightMap {
    let varmap = VarMap::new();
    UNet::load(cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    let mut names: Vec<(String, Vec<usize>)> =
        varmap.data().lock().unwrap().iter().map(|(name, var)| (name.clone(), var.dims().to_vec())).collect();
    names.sort();
    let mut rng = Rng::new(seed);
    let mut map = WeightMap::new();
    for (name, shape) in names {
        let len: usize = shape.iter().product();
        let data = if shape.len() >= 2 {
            let fan_in: usize = shape[1..].iter().product();
            rng.uniform_vec(len, 0.0, 1.0 / (fan_in as f32).sqrt())
        } else if name.contains("norm") && name.ends_with(".weight") {
            rng.uniform_vec(len, 1.0, 0.2)
        } else {
            rng.uniform_vec(len, 0.0, 0.1)
        };
        map.insert(name, HostTensor { shape, data });
    }
    map
}

fn candle_unet(cfg: &UNetConfig, weights: &WeightMap) -> UNet {
    let tensors: HashMap<String, Tensor> = weights.iter().map(|(name, t)| (name.clone(), cpu(&t.data, &t.shape))).collect();
    UNet::load(cfg, VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)).unwrap()
}

/// Batch-2 inputs: a late and an early (fractional) timestep, one text embedding and one zero
/// (unconditional) embedding.
fn unet_inputs(cfg: &UNetConfig, rng: &mut Rng) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let batch = 2;
    let x = rng.uniform_vec(batch * cfg.image_len(), 0.0, 1.7);
    let t = vec![999.0, 17.5];
    let mut text = rng.uniform_vec(cfg.text_dim, 0.0, 0.1);
    text.extend(std::iter::repeat_n(0.0, cfg.text_dim));
    (x, t, text)
}

/// Compares the plan with the candle UNet on `weights`; prints the error and the timings.
fn compare_unet(ctx: &GpuContext, cfg: &UNetConfig, weights: &WeightMap, what: &str) {
    let batch = 2;
    let (x, t, text) = unet_inputs(cfg, &mut Rng::new(6));
    let s = cfg.image_size;

    let reference = candle_unet(cfg, weights);
    let x_cpu = cpu(&x, &[batch, cfg.in_channels, s, s]);
    let t_cpu = cpu(&t, &[batch]);
    let text_cpu = cpu(&text, &[batch, cfg.text_dim]);
    let expected = host(&reference.forward(&x_cpu, &t_cpu, &text_cpu).unwrap());

    let plan = UNetPlan::new(ctx, cfg, weights, what, batch).unwrap();
    let got = pollster::block_on(plan.forward(ctx, &x, &t, &text)).unwrap();
    check(&format!("UNet batch {batch}, {what}"), &got, &expected);
    // condition, conv_in, 2 per ResBlock (conv1 and conv2, each normalising its input, conv2 with
    // the skip: 2 per level and 2 in the middle), a down- and an upsampling per level but one,
    // the attention's 3 (qkv with the norm, attention, proj), out_conv with out_norm: 26 for
    // the bundled config.
    let levels = cfg.channels.len();
    assert_eq!(plan.dispatch_count(), 2 + 2 * (2 * levels + 2) + 2 * (levels - 1) + 3 + 1, "dispatches per pass");

    // Timings: one warm-up each above, then the mean of a few runs.
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        pollster::block_on(plan.forward(ctx, &x, &t, &text)).unwrap();
    }
    let gpu_ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    let start = Instant::now();
    for _ in 0..runs {
        reference.forward(&x_cpu, &t_cpu, &text_cpu).unwrap();
    }
    let cpu_ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!(
        "UNet batch {batch}, {what}: UNetPlan forward {gpu_ms:.1} ms on {} ({} dispatches, {:.1} MiB of buffers), \
         candle CPU forward {cpu_ms:.1} ms",
        ctx.adapter_name,
        plan.dispatch_count(),
        plan.buffer_bytes() as f64 / (1 << 20) as f64,
    );
}

/// The trained weights, read once. The training job rewrites the file every few minutes; if we
/// catch it mid-write the parse fails and we read again a moment later.
fn trained_weights() -> Option<WeightMap> {
    let path = std::path::Path::new(TRAINED_WEIGHTS_PATH);
    for attempt in 1..=5 {
        if !path.exists() {
            return None;
        }
        let bytes = std::fs::read(path).unwrap();
        match weights::read_safetensors("denoiser.safetensors", &bytes) {
            Ok(map) => return Some(map),
            Err(e) => {
                println!("denoiser.safetensors not readable (attempt {attempt}, probably being written): {e}");
                std::thread::sleep(std::time::Duration::from_secs(3));
            }
        }
    }
    panic!("www/models/denoiser.safetensors exists but stayed unreadable");
}

#[test]
fn unet_plan_matches_candle() {
    let ctx = gpu();
    let cfg = config();
    println!("adapter: {}", ctx.adapter_name);

    compare_unet(&ctx, &cfg, &random_weights(&cfg, 7), "pseudo-random weights");

    match trained_weights() {
        Some(trained) => compare_unet(&ctx, &cfg, &trained, "trained weights (www/models/denoiser.safetensors)"),
        None => {
            println!("www/models/denoiser.safetensors does not exist yet: only pseudo-random weights checked")
        }
    }
}

#[test]
fn unet_plan_reports_bad_inputs_and_weights() {
    let ctx = gpu();
    let cfg = config();
    let weights = random_weights(&cfg, 8);
    let plan = UNetPlan::new(&ctx, &cfg, &weights, "random weights", 2).unwrap();
    let (x, t, text) = unet_inputs(&cfg, &mut Rng::new(9));

    let short_x = pollster::block_on(plan.forward(&ctx, &x[1..], &t, &text));
    assert!(matches!(short_x, Err(Error::Input(ref m)) if m.contains("x has")), "{short_x:?}");
    let one_t = pollster::block_on(plan.forward(&ctx, &x, &t[..1], &text));
    assert!(matches!(one_t, Err(Error::Input(ref m)) if m.contains("t has")), "{one_t:?}");
    let long_text = pollster::block_on(plan.forward(&ctx, &x, &t, &[text.clone(), vec![0.0]].concat()));
    assert!(matches!(long_text, Err(Error::Input(ref m)) if m.contains("text has")), "{long_text:?}");

    let mut missing = weights.clone();
    missing.remove("mid.attn.qkv.weight");
    let err = UNetPlan::new(&ctx, &cfg, &missing, "student.safetensors", 2).err().expect("a missing tensor must be an error");
    assert!(matches!(err, Error::Weights(ref m) if m.contains("mid.attn.qkv.weight") && m.starts_with("student.safetensors")), "{err:?}");

    let mut reshaped = weights;
    let bias = reshaped.get_mut("out_conv.bias").unwrap();
    bias.shape = vec![1, 3];
    let err = UNetPlan::new(&ctx, &cfg, &reshaped, "random weights", 2).err().expect("a wrong shape must be an error");
    assert!(matches!(err, Error::Weights(ref m) if m.contains("out_conv.bias")), "{err:?}");

    // The plan still works after refusing bad calls.
    assert!(pollster::block_on(plan.forward(&ctx, &x, &t, &text)).is_ok());
}
