//! The operations of the GPU path, one file each with its uniform block (`Params`, bound to its
//! shader's by a test below), shape checks, dispatch grid and FLOP count.

pub mod attention;
pub mod condition;
pub mod conv2d;
pub mod group_norm;
pub mod sampler_step;

pub use attention::ATTENTION_MAX_HEAD_DIM;
pub use condition::{ConditionLayers, ConditionWeights, CONDITION_MAX_DIM};
pub use conv2d::{
    conv_split, plan_conv_split, plan_fuse_norms, Conv2dOptions, ConvLayer, ConvWeights, CONV_MAX_SPLIT, CONV_SPLIT_ENV, FUSE_NORMS_ENV,
};
pub use group_norm::{FilmSlice, GroupNormOptions, InputNorm};
pub use sampler_step::SamplerStep;

#[cfg(test)]
mod tests {
    use super::attention::AttentionParams;
    use super::condition::ConditionParams;
    use super::conv2d::Conv2dParams;
    use super::group_norm::GroupNormParams;
    use super::sampler_step::SamplerStepParams;

    /// `struct Params` of a shader as (name, type) pairs.
    fn shader_params(source: &str) -> Vec<(String, String)> {
        let body = &source[source.find("struct Params {").expect("the shader declares struct Params") + 15..];
        body[..body.find('}').unwrap()]
            .lines()
            .map(|line| line.split("//").next().unwrap().trim().trim_end_matches(','))
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (name, ty) = line.split_once(':').unwrap();
                (name.trim().to_string(), ty.trim().to_string())
            })
            .collect()
    }

    /// The Rust fields with `[u32; N]` padding spelled out as the shaders write it.
    fn rust_params(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, ty) in fields {
            let ty = ty.replace(' ', "");
            match ty.strip_prefix("[u32;").and_then(|n| n.strip_suffix(']')) {
                Some(n) => (0..n.parse().unwrap()).for_each(|i| out.push((format!("{name}{i}"), "u32".to_string()))),
                None => out.push((name.to_string(), ty)),
            }
        }
        out
    }

    #[test]
    fn params_match_the_shaders() {
        for (shader, source, fields) in [
            ("conv2d", include_str!("../shaders/conv2d.wgsl"), Conv2dParams::FIELDS),
            ("group_norm", include_str!("../shaders/group_norm.wgsl"), GroupNormParams::FIELDS),
            ("attention", include_str!("../shaders/attention.wgsl"), AttentionParams::FIELDS),
            ("condition", include_str!("../shaders/condition.wgsl"), ConditionParams::FIELDS),
            ("sampler_step", include_str!("../shaders/sampler_step.wgsl"), SamplerStepParams::FIELDS),
        ] {
            assert_eq!(rust_params(fields), shader_params(source), "{shader}.wgsl's Params and the Rust struct differ");
        }
    }
}
