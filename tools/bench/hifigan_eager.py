"""The HiFi-GAN generator in PyTorch eager mode: the baseline of `mudit bench vocoder`.

    hifigan_eager.py WORK_DIR

WORK_DIR holds what the C++ side wrote: config.json (the generator's shape, threads),
weights.safetensors (weight norm folded into plain `weight`s, the official names),
mel.safetensors (`mel` [1, M, N]) and cpp_out.safetensors (`audio`, the C++ output). Serves the
operation "forward" (worker.py's protocol); "done" answers {"max_abs_diff": |PyTorch - C++|} of
the last forward. Exits 77 when torch or safetensors is missing.
"""
import json
import os
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file
except ImportError:
    sys.exit(77)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from worker import serve  # noqa: E402

LRELU = 0.1


def same_padding(kernel, dilation):
    return (kernel * dilation - dilation) // 2


class ResBlock(torch.nn.Module):
    """Type "1": two convs per dilation (convs1 dilated, convs2 not); type "2": one (convs)."""

    def __init__(self, kind, channels, kernel, dilations):
        super().__init__()
        self.kind = kind
        dilated = torch.nn.ModuleList(
            torch.nn.Conv1d(channels, channels, kernel, dilation=d, padding=same_padding(kernel, d))
            for d in dilations)
        if kind == "1":
            self.convs1 = dilated
            self.convs2 = torch.nn.ModuleList(
                torch.nn.Conv1d(channels, channels, kernel, padding=same_padding(kernel, 1))
                for _ in dilations)
        else:
            self.convs = dilated

    def forward(self, x):
        if self.kind == "1":
            for c1, c2 in zip(self.convs1, self.convs2):
                x = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU)), LRELU)) + x
        else:
            for c in self.convs:
                x = c(F.leaky_relu(x, LRELU)) + x
        return x


class Generator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = cfg["upsample_initial_channel"]
        self.kernels = len(cfg["resblock_kernel_sizes"])
        self.conv_pre = torch.nn.Conv1d(cfg["num_mels"], ch, 7, padding=3)
        self.ups = torch.nn.ModuleList()
        self.resblocks = torch.nn.ModuleList()
        for u, k in zip(cfg["upsample_rates"], cfg["upsample_kernel_sizes"]):
            self.ups.append(torch.nn.ConvTranspose1d(ch, ch // 2, k, u, padding=(k - u) // 2))
            ch //= 2
            for rk, rd in zip(cfg["resblock_kernel_sizes"], cfg["resblock_dilation_sizes"]):
                self.resblocks.append(ResBlock(cfg["resblock"], ch, rk, rd))
        self.conv_post = torch.nn.Conv1d(ch, 1, 7, padding=3)

    def forward(self, x):
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU))
            xs = None
            for j in range(self.kernels):
                r = self.resblocks[i * self.kernels + j](x)
                xs = r if xs is None else xs + r
            x = xs / self.kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


def main():
    work = sys.argv[1]
    with open(os.path.join(work, "config.json")) as f:
        cfg = json.load(f)
    torch.set_num_threads(cfg["threads"])
    model = Generator(cfg["generator"]).eval()
    model.load_state_dict(load_file(os.path.join(work, "weights.safetensors")), strict=True)
    mel = load_file(os.path.join(work, "mel.safetensors"))["mel"]
    state = {}

    def forward():
        with torch.inference_mode():
            state["out"] = model(mel)

    def finish():
        ref = load_file(os.path.join(work, "cpp_out.safetensors"))["audio"]
        return {"max_abs_diff": float((state["out"] - ref).abs().max())}

    serve({"forward": forward}, finish)


if __name__ == "__main__":
    main()
