"""The MuDiT / MuSiT backbone in PyTorch eager mode: the baseline of `mudit bench generator`.

    dit_eager.py WORK_DIR

Our own port of mudit::DiT's forward (src/models/dit.cpp). WORK_DIR holds what the C++ side
wrote: config.json (the DiTConfig fields under "dit"; "threads"; "train": the AdamW settings, or
null), weights.safetensors (the state dict, the C++ module names), sample_inputs.safetensors (a
DiTInputs: x, t, frame_mask, cond, cond_keep, lyrics, lyric_mask, lyrics_keep, known,
known_mask; a missing name is an undefined tensor), cpp_out.safetensors (`out`, the C++
output for those inputs) and, with training, train_inputs.safetensors (a DiTInputs plus
`target`). Serves (worker.py's protocol) "sample", the forward under inference_mode, and with
training "train" (zero_grad, forward, masked MSE, backward, AdamW step); the C++ side asks for
all sampling forwards first, as it runs its own. "done" answers {"max_abs_diff": |PyTorch - C++|
of the last forward, "first_loss": the loss of the first step}. Exits 77 when torch or
safetensors is missing.

The outputs agree to about an ulp, not bit for bit, for one reason: on inputs of more than two
dimensions LibTorch's C++ torch::nn::Linear multiplies and then adds the bias, where
torch.nn.Linear fuses the bias into addmm, and MKL rounds the two differently for the longer
inner dimensions (here the MLP's fc2, 4H). With the C++ form of Linear this port reproduces the
C++ output bit for bit.
"""
import json
import math
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


def timestep_embedding(t, dim, max_period):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t.reshape(-1, 1).float() * freqs[None]  # [B, half]
    emb = torch.cat([torch.cos(args), torch.sin(args)], -1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], -1)
    return emb


def per_token(v):
    return v.unsqueeze(1) if v.dim() == 2 else v  # [B, H] -> [B, 1, H]; [B, N, H] stays


def modulate(x, shift, scale):
    return x * (1 + per_token(scale)) + per_token(shift)


def apply_rope(x, theta):
    n, d = x.shape[-2], x.shape[-1]
    half = d // 2
    f = torch.float64 if x.dtype == torch.float64 else torch.float32
    inv = torch.pow(theta, -torch.arange(0, half, dtype=f) * 2.0 / d)  # [half]
    ang = torch.arange(0, n, dtype=f)[:, None] * inv[None]  # [N, half]
    cos = torch.cat([ang.cos(), ang.cos()], -1).to(x.dtype)  # [N, d]
    sin = torch.cat([ang.sin(), ang.sin()], -1).to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def layer_norm(hidden, affine):
    return torch.nn.LayerNorm(hidden, eps=1e-6, elementwise_affine=affine)


class TimestepEmbedder(torch.nn.Module):
    def __init__(self, hidden, frequency_size, max_period):
        super().__init__()
        self.frequency_size, self.max_period = frequency_size, max_period
        self.mlp = torch.nn.Sequential(torch.nn.Linear(frequency_size, hidden), torch.nn.SiLU(),
                                       torch.nn.Linear(hidden, hidden))

    def forward(self, t):
        freq = timestep_embedding(t, self.frequency_size, self.max_period)
        return self.mlp(freq.to(self.mlp[0].weight.dtype))


class SelfAttention(torch.nn.Module):
    def __init__(self, hidden, heads, rope, theta):
        super().__init__()
        self.heads, self.rope, self.theta = heads, rope, theta
        self.qkv = torch.nn.Linear(hidden, 3 * hidden)
        self.proj = torch.nn.Linear(hidden, hidden)

    def forward(self, x, mask):
        b, n, h = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, heads, N, d]
        if self.rope:
            q, k = apply_rope(q, self.theta), apply_rope(k, self.theta)
        m = None if mask is None else mask.reshape(b, 1, 1, n)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        return self.proj(o.transpose(1, 2).reshape(b, n, h))


class CrossAttention(torch.nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.q = torch.nn.Linear(hidden, hidden)
        self.kv = torch.nn.Linear(hidden, 2 * hidden)
        self.proj = torch.nn.Linear(hidden, hidden)

    def forward(self, x, context, context_mask):
        b, n, h = x.shape
        l, d = context.shape[1], h // self.heads
        q = self.q(x).reshape(b, n, self.heads, d).transpose(1, 2)  # [B, heads, N, d]
        kv = self.kv(context).reshape(b, l, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        m = None if context_mask is None else context_mask.reshape(b, 1, 1, l)
        o = F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask=m)
        return self.proj(o.transpose(1, 2).reshape(b, n, h))


class Mlp(torch.nn.Module):
    def __init__(self, hidden, inner):
        super().__init__()
        self.fc1 = torch.nn.Linear(hidden, inner)
        self.fc2 = torch.nn.Linear(inner, hidden)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class DiTBlock(torch.nn.Module):
    def __init__(self, c, cross_attention):
        super().__init__()
        h = c["hidden_size"]
        self.norm1 = layer_norm(h, False)
        self.attn = SelfAttention(h, c["num_heads"], c["rope"], c["rope_theta"])
        if cross_attention:
            self.norm_cross = layer_norm(h, True)
            self.cross_attn = CrossAttention(h, c["num_heads"])
        else:
            self.cross_attn = None
        self.norm2 = layer_norm(h, False)
        self.mlp = Mlp(h, int(h * c["mlp_ratio"]))
        self.adaLN_modulation = torch.nn.Sequential(torch.nn.SiLU(), torch.nn.Linear(h, 6 * h))

    def forward(self, x, c, mask, context, context_mask):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = \
            self.adaLN_modulation(c).chunk(6, -1)
        y = x + per_token(gate_msa) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa),
                                                mask)
        if self.cross_attn is not None and context is not None:
            y = y + self.cross_attn(self.norm_cross(y), context, context_mask)
        return y + per_token(gate_mlp) * self.mlp(modulate(self.norm2(y), shift_mlp, scale_mlp))


class FinalLayer(torch.nn.Module):
    def __init__(self, hidden, out):
        super().__init__()
        self.norm_final = layer_norm(hidden, False)
        self.linear = torch.nn.Linear(hidden, out)
        self.adaLN_modulation = torch.nn.Sequential(torch.nn.SiLU(),
                                                    torch.nn.Linear(hidden, 2 * hidden))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, -1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        h, p, C = c["hidden_size"], c["patch"], c["latent_dim"]
        self.x_embedder = torch.nn.Linear(p * (2 * C + 1 if c["in_context"] else C), h)
        self.t_embedder = TimestepEmbedder(h, c["frequency_embedding_size"], c["max_period"])
        self.cond_embedder = torch.nn.Linear(c["cond_dim"], h)
        self.null_cond = torch.nn.Parameter(torch.zeros(h))
        if c["lyrics"]:
            self.lyric_embedder = torch.nn.Embedding(c["lyric_vocab"], h, padding_idx=0)
            self.lyric_pos = torch.nn.Parameter(torch.zeros(c["lyric_max_tokens"], h))
            self.null_lyrics = torch.nn.Parameter(torch.zeros(h))
        self.blocks = torch.nn.ModuleList(DiTBlock(c, c["lyrics"]) for _ in range(c["depth"]))
        self.final_layer = FinalLayer(h, p * C)

    def forward(self, inp):
        c = self.c
        x = inp["x"]
        b, t, p = x.shape[0], x.shape[1], c["patch"]
        frames = inp["frame_mask"].bool() if "frame_mask" in inp else \
            torch.ones(b, t, dtype=torch.bool)
        # Input channels: x_t and, in context, the known latents and their mask.
        if c["in_context"]:
            km = inp["known_mask"].to(x.dtype) if "known_mask" in inp else \
                torch.zeros(b, t, dtype=x.dtype)  # [B, T]
            known = inp["known"] * km[..., None] if "known" in inp else torch.zeros_like(x)
            x = torch.cat([x, known, km[..., None]], -1)  # [B, T, 2C + 1]
        # Patches: pad to a whole number of tokens (padding is masked).
        n = (t + p - 1) // p
        pad = n * p - t
        fm = frames
        if pad > 0:
            x = F.pad(x, (0, 0, 0, pad))
            fm = F.pad(frames.to(torch.uint8), (0, pad)).bool()
        token_mask = fm.reshape(b, n, p).any(-1)  # [B, N]
        h = self.x_embedder(x.reshape(b, n, p * x.shape[-1]))  # [B, N, H]

        # Conditioning vector: timestep + ChinMu condition (or its learned null).
        t_emb = self.t_embedder(inp["t"])  # [B, H]
        if "cond" in inp:
            cond = self.cond_embedder(inp["cond"].to(x.dtype))  # [B, H] or [B, F, H]
            if cond.dim() == 3 and cond.shape[1] != n:  # per-frame: resampled onto the tokens
                cond = F.interpolate(cond.transpose(1, 2), size=n, mode="linear",
                                     align_corners=False).transpose(1, 2)
        else:
            cond = self.null_cond.expand(b, c["hidden_size"])
        if "cond_keep" in inp:
            keep = inp["cond_keep"].bool().reshape((b, 1, 1) if cond.dim() == 3 else (b, 1))
            cond = torch.where(keep, cond, self.null_cond.to(cond.dtype))
        cvec = t_emb[:, None] + cond if cond.dim() == 3 else t_emb + cond

        # Lyrics: a learned null token, then phoneme embeddings + positions; a song without
        # lyrics, or with them dropped, attends to the null token alone.
        context = context_mask = None
        if c["lyrics"]:
            ids = inp["lyrics"] if "lyrics" in inp else torch.zeros(b, 0, dtype=torch.long)
            l = ids.shape[1]
            real = inp["lyric_mask"].bool() if "lyric_mask" in inp else ids.ne(0)  # [B, L]
            none = real.any(1).logical_not()  # [B]
            if "lyrics_keep" in inp:
                none = none | inp["lyrics_keep"].bool().logical_not()
            real = real & none.logical_not()[:, None]
            tokens = self.lyric_embedder(ids) + self.lyric_pos[:l][None]  # [B, L, H]
            context = torch.cat(
                [self.null_lyrics.to(tokens.dtype).expand(b, 1, c["hidden_size"]), tokens], 1)
            context_mask = torch.cat([none[:, None], real], 1)  # [B, L + 1]

        for block in self.blocks:
            h = block(h, cvec, token_mask, context, context_mask)
        out = self.final_layer(h, cvec)  # [B, N, p C]
        out = out.reshape(b, n * p, c["latent_dim"])[:, :t]
        return out * frames[..., None].to(out.dtype)


def load(work, name):
    """A safetensors file's tensors, copied: load_file leaves them at the file's offsets, not
    64-byte aligned as torch (and the C++ side) allocates, and MKL's small matrix products round
    differently on unaligned data."""
    return {k: v.clone() for k, v in load_file(os.path.join(work, name)).items()}


def masked_mse(out, target, mask):
    """diffusion::masked_mean of the squared error per song, then the batch mean."""
    terms = (out - target).pow(2)
    m = mask.to(terms.dtype)[..., None].expand_as(terms)
    return ((terms * m).sum((1, 2)) / m.sum((1, 2)).clamp_min(1)).mean()


def main():
    work = sys.argv[1]
    with open(os.path.join(work, "config.json")) as f:
        cfg = json.load(f)
    torch.set_num_threads(cfg["threads"])
    with torch.device("meta"):
        model = DiT(cfg["dit"])
    model.load_state_dict(load(work, "weights.safetensors"), strict=True, assign=True)
    inp = load(work, "sample_inputs.safetensors")
    state = {}

    def sample():
        model.eval()
        with torch.inference_mode():
            state["out"] = model(inp)

    ops = {"sample": sample}
    train = cfg["train"]
    if train:
        batch = load(work, "train_inputs.safetensors")
        target = batch.pop("target")
        scored = batch["frame_mask"] & batch["known_mask"].logical_not()
        opt = torch.optim.AdamW(model.parameters(), lr=train["lr"], betas=tuple(train["betas"]),
                                eps=train["eps"], weight_decay=train["weight_decay"])

        def step():
            model.train()
            opt.zero_grad()
            loss = masked_mse(model(batch), target, scored)
            loss.backward()
            opt.step()
            state.setdefault("first_loss", loss.item())

        ops["train"] = step

    def finish():
        ref = load(work, "cpp_out.safetensors")["out"]
        result = {"max_abs_diff": float((state["out"] - ref).abs().max())}
        if "first_loss" in state:
            result["first_loss"] = state["first_loss"]
        return result

    serve(ops, finish)


if __name__ == "__main__":
    main()
