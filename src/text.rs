//! Prompt → sentence embedding: `tokenizers` WordPiece + candle-transformers' BERT
//! (all-MiniLM-L6-v2), mean pooling and L2 normalisation, as sentence-transformers does.
//! Runs on the CPU (in wasm too); it is small next to the denoiser's many steps.
//!
//! The encoder is English-trained: "Hund" and "dog" do not land close together. The denoiser is
//! trained on German *and* English captions, so it learns both embeddings for the same image.

use std::collections::VecDeque;
use std::sync::Mutex;

use candle_core::{Device, Tensor};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use crate::limits::MAX_PROMPT_CHARS;
use crate::{Error, Result};

/// Tokens the encoder sees at most; longer prompts are cut (scripts/train uses the same limit).
pub const MAX_TOKENS: usize = 64;

/// Trims the prompt and refuses empty or overlong ones with a message a learner understands.
pub fn validate_prompt(prompt: &str) -> Result<&str> {
    let p = prompt.trim();
    if p.is_empty() {
        return Err(Error::Input("the prompt is empty: type what the image should show, e.g. \"Hund\" or \"a dog\"".into()));
    }
    let n = p.chars().count();
    if n > MAX_PROMPT_CHARS {
        return Err(Error::Input(format!("the prompt has {n} characters; at most {MAX_PROMPT_CHARS} are allowed")));
    }
    Ok(p)
}

/// Embeddings kept for the most recent prompts (a few KB each).
const CACHED_PROMPTS: usize = 32;

/// The embeddings of the last prompts, most recent first: a learner re-runs a prompt with other
/// seeds, steps or models, or flips between teacher and student, and then the six BERT layers
/// on the CPU are skipped.
#[derive(Default)]
struct PromptCache {
    entries: VecDeque<(String, Vec<f32>)>,
}

impl PromptCache {
    fn get(&mut self, prompt: &str) -> Option<Vec<f32>> {
        let i = self.entries.iter().position(|(p, _)| p == prompt)?;
        let entry = self.entries.remove(i)?;
        let embedding = entry.1.clone();
        self.entries.push_front(entry);
        Some(embedding)
    }

    fn insert(&mut self, prompt: &str, embedding: &[f32]) {
        self.entries.push_front((prompt.to_string(), embedding.to_vec()));
        self.entries.truncate(CACHED_PROMPTS);
    }
}

pub struct TextEncoder {
    bert: BertModel,
    tokenizer: Tokenizer,
    pub dim: usize,
    cache: Mutex<PromptCache>,
}

impl TextEncoder {
    pub fn from_bytes(config_json: &[u8], weights: Vec<u8>, tokenizer_json: &[u8]) -> Result<Self> {
        let config: Config = serde_json::from_slice(config_json).map_err(|e| Error::Weights(format!("text_encoder.json: {e}")))?;
        let dim = config.hidden_size;
        let vb = crate::weights::var_builder("text_encoder.safetensors", &weights)?;
        let bert = BertModel::load(vb, &config).map_err(|e| Error::Weights(format!("text_encoder.safetensors: {e}")))?;
        let mut tokenizer = Tokenizer::from_bytes(tokenizer_json).map_err(|e| Error::Weights(format!("tokenizer.json: {e}")))?;
        // the packaged tokenizer pads to 128; we encode one prompt at a time, unpadded
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| Error::Weights(format!("tokenizer.json: {e}")))?;
        Ok(Self { bert, tokenizer, dim, cache: Mutex::default() })
    }

    /// The unit-length embedding of a prompt (validated first; the last prompts' are cached).
    pub fn encode(&self, prompt: &str) -> Result<Vec<f32>> {
        let prompt = validate_prompt(prompt)?;
        if let Some(hit) = self.cache.lock().ok().and_then(|mut c| c.get(prompt)) {
            return Ok(hit);
        }
        let embedding = self.encode_uncached(prompt)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(prompt, &embedding);
        }
        Ok(embedding)
    }

    fn encode_uncached(&self, prompt: &str) -> Result<Vec<f32>> {
        let enc = self.tokenizer.encode(prompt, true).map_err(|e| Error::Input(format!("the prompt could not be tokenized: {e}")))?;
        let ids = enc.get_ids();
        let n = ids.len();
        let input = Tensor::from_slice(ids, (1, n), &Device::Cpu)?;
        let types = input.zeros_like()?;
        let hidden = self.bert.forward(&input, &types, None)?; // (1, n, dim)
        let pooled = hidden.mean(1)?.squeeze(0)?;
        let norm = pooled.sqr()?.sum_all()?.sqrt()?.to_scalar::<f32>()?.max(1e-12);
        Ok((pooled / norm as f64)?.to_vec1::<f32>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_trimmed_and_bounded() {
        assert_eq!(validate_prompt("  Hund \n").unwrap(), "Hund");
        assert!(validate_prompt("   ").unwrap_err().to_string().contains("empty"));
        let long = "a".repeat(10_000);
        assert!(validate_prompt(&long).unwrap_err().to_string().contains("10000 characters"));
        // counted in characters, not bytes: 1000 emoji are fine
        assert!(validate_prompt(&"🐶".repeat(1000)).is_ok());
    }

    #[test]
    fn the_prompt_cache_keeps_the_most_recently_used() {
        let mut cache = PromptCache::default();
        for i in 0..CACHED_PROMPTS {
            cache.insert(&format!("p{i}"), &[i as f32]);
        }
        assert_eq!(cache.get("p0"), Some(vec![0.0])); // now the most recent
        cache.insert("new", &[-1.0]); // evicts the least recently used: p1
        assert_eq!(cache.get("p1"), None);
        assert_eq!(cache.get("p0"), Some(vec![0.0]));
        assert_eq!(cache.get("new"), Some(vec![-1.0]));
        assert_eq!(cache.entries.len(), CACHED_PROMPTS);
    }
}
