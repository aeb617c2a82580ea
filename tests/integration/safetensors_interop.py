"""Cross-checks mudit's safetensors files with Python's `safetensors` package.

  safetensors_interop.py check FILE   -- FILE (written by mudit) holds the tensors of expected()
  safetensors_interop.py write FILE   -- writes expected() for mudit to read
Exit 77 when torch or safetensors is missing (the test then skips).
"""
import sys

try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file
except ImportError as e:  # pragma: no cover
    print(f"skip: {e}")
    sys.exit(77)


def expected():
    return {
        "f64": torch.arange(6, dtype=torch.float64).reshape(2, 3) / 7,
        "f32": torch.linspace(-1, 1, 10, dtype=torch.float32),
        "f16": torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.25, 1e30], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**63), 2**63 - 1], dtype=torch.int64),
        "i32": torch.tensor([-7, 7], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "empty": torch.zeros(0, 3),
    }


def main():
    mode, path = sys.argv[1], sys.argv[2]
    want = expected()
    if mode == "write":
        save_file(want, path, metadata={"writer": "python", "unicode": "歌"})
        return 0
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
        got = {k: f.get_tensor(k) for k in f.keys()}
    assert meta == {"writer": "mudit", "unicode": "歌"}, meta
    assert set(got) == set(want), sorted(got)
    for k, v in want.items():
        assert got[k].dtype == v.dtype, (k, got[k].dtype, v.dtype)
        assert torch.equal(got[k], v), (k, got[k], v)
    print(f"python read {len(got)} tensors written by mudit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
