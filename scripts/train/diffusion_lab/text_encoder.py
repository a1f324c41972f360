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
    def __init__(self, weights_path, tokenizer_path, config_path, device="cpu"):
        self.w = {k: torch.from_numpy(v).to(device) for k, v in dequantize(load_file(weights_path)).items()}
        self.device = torch.device(device)
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
        return self.encode_many([text])[0]

    @torch.no_grad()
    def encode_many(self, texts, batch=512):
        """One embedding per text (a [len(texts), hidden] tensor on the CPU). Texts of the same
        token count run as one batch, so no padding or attention mask is needed and each result
        is the single-text one (up to float summation order)."""
        ids = [self.tok.encode(t).ids for t in texts]
        out = torch.empty(len(texts), self.cfg["hidden_size"])
        by_len = {}
        for i, seq in enumerate(ids):
            by_len.setdefault(len(seq), []).append(i)
        for rows in by_len.values():
            for s in range(0, len(rows), batch):
                chunk = rows[s:s + batch]
                x = self._forward(torch.tensor([ids[i] for i in chunk], device=self.device))
                out[chunk] = x.float().cpu()
        return out

    def _forward(self, ids):
        b, n = ids.shape
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        heads = self.cfg["num_attention_heads"]
        d = x.shape[-1] // heads
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (self._lin(x, p + f"attention.self.{m}").view(b, n, heads, d).transpose(1, 2)
                       for m in ("query", "key", "value"))
            a = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d), dim=-1) @ v
            a = a.transpose(1, 2).reshape(b, n, -1)
            x = self._ln(x + self._lin(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = F.gelu(self._lin(x, p + "intermediate.dense"))
            x = self._ln(x + self._lin(h, p + "output.dense"), p + "output.LayerNorm")
        return F.normalize(x.mean(dim=1), dim=1)
