"""all-MiniLM-L6-v2 sentence embeddings (BERT, mean pooling, L2 norm) in plain PyTorch.

Reads the converted www/models/text_encoder.safetensors (int8 + f16, the file the browser loads) so that
training sees exactly the embeddings the candle encoder (src/text.rs) computes; a fixture test
binds the two.
"""
import json
import math

import torch
import torch.nn.functional as F
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from .quantize import dequantize

MAX_TOKENS = 64  # the same limit as src/text.rs


class TextEncoder:
    def __init__(self, weights_path, tokenizer_path, config_path):
        self.w = {k: torch.from_numpy(v) for k, v in dequantize(load_file(weights_path)).items()}
        with open(config_path) as f:
            self.cfg = json.load(f)
        self.tok = Tokenizer.from_file(tokenizer_path)
        self.tok.no_padding()
        self.tok.enable_truncation(MAX_TOKENS)

    def _ln(self, x, name):
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.cfg["layer_norm_eps"])

    def _lin(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    @torch.no_grad()
    def encode(self, text):
        ids = torch.tensor(self.tok.encode(text).ids)
        n = ids.shape[0]
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        heads = self.cfg["num_attention_heads"]
        d = x.shape[-1] // heads
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q = self._lin(x, p + "attention.self.query").view(n, heads, d).transpose(0, 1)
            k = self._lin(x, p + "attention.self.key").view(n, heads, d).transpose(0, 1)
            v = self._lin(x, p + "attention.self.value").view(n, heads, d).transpose(0, 1)
            a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1) @ v
            a = a.transpose(0, 1).reshape(n, -1)
            x = self._ln(x + self._lin(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = F.gelu(self._lin(x, p + "intermediate.dense"))
            x = self._ln(x + self._lin(h, p + "output.dense"), p + "output.LayerNorm")
        return F.normalize(x.mean(dim=0), dim=0)
