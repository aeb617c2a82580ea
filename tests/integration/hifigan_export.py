"""Writes a HiFi-GAN generator state dict the way the official training saves it.

    hifigan_export.py dict|zip|legacy WEIGHTS.safetensors OUT

`zip`: torch.save({'generator': OrderedDict}) in the zip format (PyTorch >= 1.6), as the official
training writes it; `dict`: the same with a plain dict; `legacy`: the OrderedDict in the pre-1.6
pickle format of the original 2020 checkpoints.
Exits 77 when torch or safetensors is missing.
"""
import collections
import sys

try:
    import torch
    from safetensors.torch import load_file
except ImportError:
    sys.exit(77)

mode, weights, out = sys.argv[1:4]
state = collections.OrderedDict(sorted(load_file(weights).items()))
if mode == "dict":
    state = dict(state)
torch.save({"generator": state}, out, _use_new_zipfile_serialization=(mode != "legacy"))
