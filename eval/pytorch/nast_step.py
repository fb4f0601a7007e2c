#!/usr/bin/env python3
"""CTC-NAST (+LiSA) training step in plain PyTorch: the yardstick for `nast bench train` on the GPU.

The same architecture as src/model (docs/model.md §1-§5, §7.2), the same config file
(models/configs/<preset>.json), the same state-dict names, the same synthetic batch as
src/train/bench.ts (utterances of --utt-frames frames filling --max-frames), the same step: curriculum
pass 1 without grad + Viterbi oracle + pass 2, the CTC losses of docs/model.md §5.1, Adam(0.9, 0.98), clip-norm 10,
bf16 autocast on CUDA. Prints ms/step and frames/s (one JSON line with --json).

  python3 eval/pytorch/nast_step.py --config models/configs/small.json --device cuda --max-frames 40000
  python3 eval/pytorch/nast_step.py --config tiny --device cpu --steps 3 --json

--dump-logits CKPT FEATS.f32 FRAMES OUT.f32 runs the eval-mode forward on a checkpoint written by
`nast train` (safetensors) and writes the target logits, so that a test can check that this script
computes the same function as the TypeScript model.
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e9
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------------------------------------
# Config: models/configs/*.json, with the layer-set strings and "auto" values src/model/config.ts accepts.

def parse_layers(value):
    if isinstance(value, list):
        return sorted(set(int(v) for v in value))
    out = set()
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"bad layer set {value!r}")
        lo = int(m.group(1))
        hi = int(m.group(2) or lo)
        out.update(range(lo, hi + 1))
    return sorted(out)


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def load_config(source):
    path = source if os.path.exists(source) else os.path.join(REPO, "models", "configs", f"{source}.json")
    with open(path) as f:
        raw = json.load(f)
    if "extends" in raw:
        parent = raw.pop("extends")
        raw = merge(load_config(parent), raw)
    return raw


def resolve(cfg):
    cfg = json.loads(json.dumps(cfg))
    cfg["acoustic"]["interCtcLayers"] = parse_layers(cfg["acoustic"]["interCtcLayers"])
    cfg["textual"]["interCtcLayers"] = parse_layers(cfg["textual"]["interCtcLayers"])
    lisa = cfg["lisa"]
    lisa["acoustic"] = parse_layers(lisa["acoustic"])
    lisa["textual"] = parse_layers(lisa["textual"])
    d, h = cfg["dModel"], cfg["heads"]
    if lisa["rank"] == "auto":
        lisa["rank"] = max(h, round(d / 6 / h) * h)
    if lisa["ffnDim"] == "auto":
        lisa["ffnDim"] = 2 * h
    return cfg


# ---------------------------------------------------------------------------------------------------
# Model. Attribute names reproduce the state-dict names of src/model/params.ts.

def rel_positions(t, d, device, dtype):
    """ESPnet RelPositionalEncoding: (1, 2T-1, d), row k <-> offset T-1-k, sin/cos interleaved."""
    offsets = torch.arange(t - 1, -t, -1, device=device, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * -(math.log(10000.0) / d))
    pe = torch.zeros(2 * t - 1, d, device=device)
    pe[:, 0::2] = torch.sin(offsets * div)
    pe[:, 1::2] = torch.cos(offsets * div)
    return pe.unsqueeze(0).to(dtype)


def rel_shift(x):
    """(B,H,T,2T-1) over offsets -> (B,H,T,T): out[b,h,i,j] = x[b,h,i,T-1-i+j] (Transformer-XL)."""
    b, h, t, n = x.shape
    x = torch.cat([x.new_zeros(b, h, t, 1), x], dim=-1).view(b, h, n + 1, t)
    return x[:, :, 1:].reshape(b, h, t, n)[:, :, :, :t]


def gelu(x):
    """Exact GELU. On CPU written out with erf: libtorch 1.13's CPU gelu backward is wrong when the incoming
    gradient is not contiguous, which is what the head-alignment matmul hands it (measured: errors of
    O(1) to inf); CUDA builds are not affected and use the fused kernel."""
    return F.gelu(x) if x.is_cuda else 0.5 * x * (1.0 + torch.erf(x * 2 ** -0.5))


class FFN(nn.Module):
    def __init__(self, d, f, act, cfg):
        super().__init__()
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, f), nn.Linear(f, d)
        self.act, self.cfg = act, cfg

    def forward(self, x):
        h = self.fc1(self.norm(x))
        h = F.silu(h) if self.act == "swish" else F.relu(h)
        h = F.dropout(h, self.cfg["activationDropout"], self.training)
        return F.dropout(self.fc2(h), self.cfg["dropout"], self.training)


class Lisa(nn.Module):
    """Head alignment FFN over the head axis + low-rank Q'K' difference (docs/model.md §7.2)."""

    def __init__(self, cfg):
        super().__init__()
        d, h, r, hf = cfg["dModel"], cfg["heads"], cfg["lisa"]["rank"], cfg["lisa"]["ffnDim"]
        self.head_fc1, self.head_fc2 = nn.Linear(h, hf), nn.Linear(hf, h)
        self.q_lr, self.k_lr = nn.Linear(d, r, bias=False), nn.Linear(d, r, bias=False)
        self.u = nn.Parameter(torch.zeros(h, r // h))
        self.cfg = cfg

    def forward(self, prev, x):
        h = self.cfg["heads"]
        rh = self.cfg["lisa"]["rank"] // h
        st = prev.transpose(1, 2)  # (B,T,H,T)
        pre = self.head_fc1.weight @ st + self.head_fc1.bias.view(-1, 1)
        act = gelu(pre) if self.cfg["lisa"]["activation"] == "gelu" else F.silu(pre)
        mix = self.head_fc2.weight @ act + self.head_fc2.bias.view(-1, 1)
        aligned = prev + mix.transpose(1, 2)
        b, t, _ = x.shape
        q = (self.q_lr(x).view(b, t, h, rh) + self.u).transpose(1, 2)
        k = self.k_lr(x).view(b, t, h, rh).permute(0, 2, 3, 1)
        return aligned + (q @ k) * rh ** -0.5


class SelfAttention(nn.Module):
    def __init__(self, cfg, relpos, lisa):
        super().__init__()
        d, h = cfg["dModel"], cfg["heads"]
        self.cfg, self.relpos, self.is_lisa = cfg, relpos, lisa
        if lisa:
            self.lisa = Lisa(cfg)
        else:
            self.q, self.k = nn.Linear(d, d), nn.Linear(d, d)
            if relpos:
                self.pos = nn.Linear(d, d, bias=False)
                self.pos_bias_u = nn.Parameter(torch.zeros(h, d // h))
                self.pos_bias_v = nn.Parameter(torch.zeros(h, d // h))
        self.v, self.out = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x, key_mask, pos, prev):
        b, t, d = x.shape
        h = self.cfg["heads"]
        dh = d // h
        if self.is_lisa:
            logits = self.lisa(prev, x)
        elif self.relpos:
            q = self.q(x).view(b, t, h, dh)
            k = self.k(x).view(b, t, h, dh).permute(0, 2, 3, 1)
            p = self.pos(pos).view(1, -1, h, dh).permute(0, 2, 3, 1)
            content = (q + self.pos_bias_u).transpose(1, 2) @ k
            position = rel_shift((q + self.pos_bias_v).transpose(1, 2) @ p)
            logits = (content + position) * dh ** -0.5
        else:
            q = (self.q(x) * dh ** -0.5).view(b, t, h, dh).transpose(1, 2)
            logits = q @ self.k(x).view(b, t, h, dh).permute(0, 2, 3, 1)
        if self.cfg["lisa"]["shareSpace"] == "logits" or not self.is_lisa:
            probs = torch.softmax(logits.masked_fill(key_mask, MASK_VALUE), -1)
            shared = logits if self.cfg["lisa"]["shareSpace"] == "logits" else probs
        else:
            w = F.relu(logits).masked_fill(key_mask, 0)
            probs = w / (w.sum(-1, keepdim=True) + 1e-9)
            shared = probs
        v = self.v(x).view(b, t, h, dh).transpose(1, 2)
        ctx = F.dropout(probs, self.cfg["attentionDropout"], self.training) @ v
        return self.out(ctx.transpose(1, 2).reshape(b, t, d)), shared


class CrossAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["dModel"]
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
        self.cfg = cfg

    def forward(self, x, mem, key_mask):
        b, t, d = x.shape
        h = self.cfg["heads"]
        dh = d // h
        q = (self.q(x) * dh ** -0.5).view(b, t, h, dh).transpose(1, 2)
        k = self.k(mem).view(b, t, h, dh).permute(0, 2, 3, 1)
        v = self.v(mem).view(b, t, h, dh).transpose(1, 2)
        probs = torch.softmax((q @ k).masked_fill(key_mask, MASK_VALUE), -1)
        ctx = F.dropout(probs, self.cfg["attentionDropout"], self.training) @ v
        return self.out(ctx.transpose(1, 2).reshape(b, t, d))


class ConvModule(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, k = cfg["dModel"], cfg["acoustic"]["convKernel"]
        self.norm = nn.LayerNorm(d)
        self.pw1 = nn.Conv1d(d, 2 * d, 1, bias=False)
        self.dw = nn.Conv1d(d, d, k, padding=(k - 1) // 2, groups=d, bias=False)
        self.bn = nn.BatchNorm1d(d)
        self.pw2 = nn.Conv1d(d, d, 1, bias=False)
        self.cfg = cfg

    def forward(self, x, mask):
        y = self.norm(x).masked_fill(mask.unsqueeze(2), 0).transpose(1, 2)
        y = self.bn(self.dw(F.glu(self.pw1(y), dim=1)))
        y = F.relu(y) if self.cfg["acoustic"]["convActivation"] == "relu" else F.silu(y)
        y = self.pw2(y).transpose(1, 2).masked_fill(mask.unsqueeze(2), 0)
        return F.dropout(y, self.cfg["dropout"], self.training)


class ConformerLayer(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        d, f = cfg["dModel"], cfg["acoustic"]["ffnDim"]
        self.ffn_macaron, self.ffn = FFN(d, f, "swish", cfg), FFN(d, f, "swish", cfg)
        self.attn_norm = nn.LayerNorm(d)
        self.attn = SelfAttention(cfg, True, (i + 1) in cfg["lisa"]["acoustic"])
        self.conv = ConvModule(cfg)
        self.final_norm = nn.LayerNorm(d)
        if (i + 1) in cfg["acoustic"]["interCtcLayers"]:
            self.inter_norm = nn.LayerNorm(d)
        self.cfg = cfg

    def forward(self, x, pos, mask, key_mask, prev):
        x = x + 0.5 * self.ffn_macaron(x)
        a, shared = self.attn(self.attn_norm(x), key_mask, pos, prev)
        x = x + F.dropout(a, self.cfg["dropout"], self.training)
        x = x + self.conv(x, mask)
        x = x + 0.5 * self.ffn(x)
        return self.final_norm(x), shared


class TextualLayer(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        d, f = cfg["dModel"], cfg["textual"]["ffnDim"]
        cla = cfg["textual"]["cla"]
        self.attn_norm = nn.LayerNorm(d)
        self.attn = SelfAttention(cfg, False, (i + 1) in cfg["lisa"]["textual"])
        self.is_cla = cla["enabled"] and i + 1 > cla["memoryLayer"]
        if self.is_cla:
            self.cross_norm, self.cross = nn.LayerNorm(d), CrossAttention(cfg)
        self.ffn = FFN(d, f, "relu", cfg)
        if (i + 1) in cfg["textual"]["interCtcLayers"]:
            self.inter_norm = nn.LayerNorm(d)
        self.cfg = cfg

    def forward(self, x, mem, key_mask, prev):
        a, shared = self.attn(self.attn_norm(x), key_mask, None, prev)
        a = F.dropout(a, self.cfg["dropout"], self.training)
        if self.is_cla:
            p = self.cfg["textual"]["cla"]["dropNet"]
            if not (self.training and p > 0 and torch.rand(()).item() < p):
                x = x + a
            x = x + F.dropout(self.cross(self.cross_norm(x), mem, key_mask), self.cfg["dropout"], self.training)
        else:
            x = x + a
        return x + self.ffn(x), shared


class Ctc(nn.Module):
    def __init__(self, v, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(v, d) * d ** -0.5)
        self.src_bias = nn.Parameter(torch.zeros(v))
        self.tgt_bias = nn.Parameter(torch.zeros(v))


class Tables(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v, d = cfg["vocabSize"], cfg["dModel"]
        if cfg["acoustic"]["pae"] and cfg["acoustic"]["interCtcLayers"]:
            self.src = nn.Parameter(torch.randn(v, d) * d ** -0.5)
        if cfg["textual"]["pae"] and cfg["textual"]["interCtcLayers"]:
            self.tgt = nn.Parameter(torch.randn(v, d) * d ** -0.5)


class Adapter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(cfg["vocabSize"], cfg["dModel"]) * cfg["dModel"] ** -0.5)


class Encoder(nn.Module):
    def __init__(self, layers, final_norm, memory_norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.final_norm = final_norm
        if memory_norm is not None:
            self.memory_norm = memory_norm


class Subsampler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        s = cfg["subsampler"]
        convs = []
        for i in range(s["layers"]):
            cin = cfg["inputDim"] if i == 0 else s["channels"] // 2
            cout = 2 * cfg["dModel"] if i == s["layers"] - 1 else s["channels"]
            convs.append(nn.Conv1d(cin, cout, s["kernel"], stride=2, padding=(s["kernel"] - 1) // 2))
        self.conv = nn.ModuleList(convs)


def init_like_nast(model):
    """The initialisation of src/model/params.ts: LiSA starts as the identity (zero head_fc2, q_lr, u),
    xavier for the textual attention (q/k/v gain 1/sqrt(2)) and FFNs, xavier position biases; torch
    defaults elsewhere (CTC/PAE/adapter tables are N(0, d^-0.5) from their constructors)."""
    for name, mod in model.named_modules():
        if isinstance(mod, Lisa):
            for t in (mod.head_fc2.weight, mod.head_fc2.bias, mod.q_lr.weight, mod.u):
                nn.init.zeros_(t)
            nn.init.xavier_uniform_(mod.k_lr.weight)
        elif isinstance(mod, SelfAttention) and mod.relpos and not mod.is_lisa:
            nn.init.xavier_uniform_(mod.pos_bias_u)
            nn.init.xavier_uniform_(mod.pos_bias_v)
        if name.startswith("textual.layers."):
            if isinstance(mod, (SelfAttention, CrossAttention)):
                for proj in ("q", "k", "v"):
                    if hasattr(mod, proj):
                        nn.init.xavier_uniform_(getattr(mod, proj).weight, gain=2 ** -0.5)
                nn.init.xavier_uniform_(mod.out.weight)
                nn.init.zeros_(mod.out.bias)
            elif isinstance(mod, FFN):
                for fc in (mod.fc1, mod.fc2):
                    nn.init.xavier_uniform_(fc.weight)
                    nn.init.zeros_(fc.bias)


def padding_mask(lengths, t):
    return torch.arange(t, device=lengths.device).unsqueeze(0) >= lengths.unsqueeze(1)


class Nast(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["dModel"]
        self.cfg = cfg
        self.subsampler = Subsampler(cfg)
        self.embed_norm = nn.LayerNorm(d)
        self.acoustic = Encoder([ConformerLayer(cfg, i) for i in range(cfg["acoustic"]["layers"])], nn.LayerNorm(d))
        self.ctc = Ctc(cfg["vocabSize"], d)
        self.pae = Tables(cfg)
        if cfg["adapter"]:
            self.adapter = Adapter(cfg)
        cla = cfg["textual"]["cla"]
        self.textual = Encoder(
            [TextualLayer(cfg, i) for i in range(cfg["textual"]["layers"])],
            nn.LayerNorm(d),
            nn.LayerNorm(d) if cla["enabled"] else None,
        )

    def ctc_logits(self, x, bias):
        return F.linear(F.dropout(x, self.cfg["dropout"], self.training), self.ctc.weight, bias)

    def inter(self, x, norm, bias, table, oracle=None):
        n = norm(x)
        z = self.ctc_logits(n, bias)
        if table is None:
            return x, z
        expected = torch.softmax(z, -1) @ table
        if oracle is not None:
            mask, ids, s = oracle
            smoothed = table[ids] * (1 - s) + table.sum(0) / self.cfg["vocabSize"] * s
            expected = torch.where(mask.unsqueeze(2), smoothed.to(expected.dtype), expected)
        return n + expected, z

    def forward(self, feats, lengths, oracle=None):
        cfg = self.cfg
        k = cfg["subsampler"]["kernel"]
        x = feats.masked_fill(padding_mask(lengths, feats.shape[1]).unsqueeze(2), 0).transpose(1, 2)
        for conv in self.subsampler.conv:
            x = F.glu(conv(x), dim=1)
            lengths = torch.div(lengths + 2 * ((k - 1) // 2) - k, 2, rounding_mode="floor") + 1
            x = x.masked_fill(padding_mask(lengths, x.shape[2]).unsqueeze(1), 0)
        x = x.transpose(1, 2)  # (B,T',d)
        mask = padding_mask(lengths, x.shape[1])
        key_mask = mask.unsqueeze(1).unsqueeze(1)
        x = F.dropout(self.embed_norm(x), cfg["dropout"], self.training)
        pos = rel_positions(x.shape[1], cfg["dModel"], x.device, x.dtype)
        inter_src, inter_tgt, shared = [], [], None
        for i, layer in enumerate(self.acoustic.layers):
            x, shared = layer(x, pos, mask, key_mask, shared)
            if i + 1 in cfg["acoustic"]["interCtcLayers"]:
                x, z = self.inter(x, layer.inter_norm, self.ctc.src_bias, self.pae.src if cfg["acoustic"]["pae"] else None)
                inter_src.append(z)
        h = self.acoustic.final_norm(x)
        src = self.ctc_logits(h, self.ctc.src_bias)
        x = h + torch.softmax(src, -1) @ self.adapter.embed if cfg["adapter"] else h
        mem, shared = None, None
        for i, layer in enumerate(self.textual.layers):
            x, shared = layer(x, mem, key_mask, shared)
            if cfg["textual"]["cla"]["enabled"] and i + 1 == cfg["textual"]["cla"]["memoryLayer"]:
                mem = self.textual.memory_norm(x)
            if i + 1 in cfg["textual"]["interCtcLayers"]:
                x, z = self.inter(x, layer.inter_norm, self.ctc.tgt_bias, self.pae.tgt if cfg["textual"]["pae"] else None, oracle)
                inter_tgt.append(z)
        tgt = self.ctc_logits(self.textual.final_norm(x), self.ctc.tgt_bias)
        return src, tgt, lengths, inter_src, inter_tgt


# ---------------------------------------------------------------------------------------------------
# Curriculum (docs/model.md §5.2-§5.3): batched Viterbi CTC alignment on the device.

def viterbi_oracle(logp, lengths, targets, target_lengths, blank=0):
    """logp (B,T,V) log-softmax; targets (B,U) padded. Returns oracle ids (B,T), blank where infeasible/padded."""
    b, t, _ = logp.shape
    u = targets.shape[1]
    s = 2 * u + 1
    labels = torch.full((b, s), blank, dtype=torch.long, device=logp.device)
    labels[:, 1::2] = targets
    em = logp.gather(2, labels.unsqueeze(1).expand(b, t, s))  # (B,T,S)
    states = torch.arange(s, device=logp.device)
    valid_state = states.unsqueeze(0) < (2 * target_lengths + 1).unsqueeze(1)
    skip = torch.zeros(b, s, dtype=torch.bool, device=logp.device)
    skip[:, 3::2] = targets[:, 1:] != targets[:, :-1]
    neg = torch.tensor(float("-inf"), device=logp.device)
    alpha = torch.full((b, s), float("-inf"), device=logp.device)
    alpha[:, 0] = em[:, 0, 0]
    alpha[:, 1] = torch.where(target_lengths > 0, em[:, 0, 1], neg)
    back = torch.zeros(b, t, s, dtype=torch.long, device=logp.device)
    for step in range(1, t):
        stay = alpha
        prev1 = F.pad(alpha, (1, 0), value=float("-inf"))[:, :s]
        prev2 = torch.where(skip, F.pad(alpha, (2, 0), value=float("-inf"))[:, :s], neg)
        cand = torch.stack([stay, prev1, prev2], 2)
        best, arg = cand.max(2)
        new = torch.where(valid_state, best + em[:, step], neg)
        active = (step < lengths).unsqueeze(1)
        alpha = torch.where(active, new, alpha)
        back[:, step] = states - arg
    last = 2 * target_lengths
    a_last = alpha.gather(1, last.unsqueeze(1)).squeeze(1)
    a_prev = alpha.gather(1, (last - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    state = torch.where((target_lengths > 0) & (a_prev > a_last), last - 1, last)
    feasible = torch.maximum(a_last, torch.where(target_lengths > 0, a_prev, neg)) > float("-inf")
    path = torch.zeros(b, t, dtype=torch.long, device=logp.device)
    for step in range(t - 1, -1, -1):
        inside = step < lengths
        path[:, step] = torch.where(inside, state, torch.zeros_like(state))
        prev_state = back[:, step].gather(1, state.unsqueeze(1)).squeeze(1)
        state = torch.where(inside & (step > 0), prev_state, state)
    ids = torch.where(path % 2 == 1, targets.gather(1, ((path - 1) // 2).clamp(min=0, max=max(u - 1, 0))), torch.full_like(path, blank))
    inside = torch.arange(t, device=logp.device).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.where(inside & feasible.unsqueeze(1), ids, torch.full_like(ids, blank)), inside & feasible.unsqueeze(1)


# ---------------------------------------------------------------------------------------------------
# The training step and the benchmark.

def ctc(logits, lengths, targets, target_lengths):
    logp = torch.log_softmax(logits.float(), -1).transpose(0, 1)
    return F.ctc_loss(logp, targets, lengths, target_lengths, blank=0, reduction="sum", zero_infinity=True)


def synthetic_batch(cfg, max_frames, utt_frames, device, seed):
    """As src/train/bench.ts: floor(max_frames / utt_frames) utterances of utt_frames frames; targets of
    T'/5 tokens (source and target), ids uniform in 1..V-1."""
    g = torch.Generator().manual_seed(seed)
    b = max(1, max_frames // utt_frames)
    feats = torch.randn(b, utt_frames, cfg["inputDim"], generator=g)
    lengths = torch.full((b,), utt_frames, dtype=torch.long)
    t_out = utt_frames
    for _ in range(cfg["subsampler"]["layers"]):
        t_out = (t_out - 1) // 2 + 1
    u = max(1, t_out // 5)
    src = torch.randint(1, cfg["vocabSize"], (b, u), generator=g)
    tgt = torch.randint(1, cfg["vocabSize"], (b, u), generator=g)
    ul = torch.full((b,), u, dtype=torch.long)
    return [x.to(device) for x in (feats, lengths, src, ul, tgt, ul)]


def train_step(model, opt, batch, curriculum, autocast_dtype, device):
    feats, lengths, src, src_len, tgt, tgt_len = batch
    cfg = model.cfg
    oracle = None
    replaced = 0.0
    with torch.autocast(device_type=device.split(":")[0], dtype=autocast_dtype, enabled=autocast_dtype is not None):
        if curriculum:
            with torch.no_grad():
                _, z, out_len, _, _ = model(feats, lengths)
                logp = torch.log_softmax(z.float(), -1)
                ids, ok = viterbi_oracle(logp, out_len, tgt, tgt_len)
                mistakes = (logp.argmax(-1) != ids) & ok
                mask = (torch.rand(ids.shape, device=ids.device) < cfg["curriculum"]["ratio"]) & mistakes
                replaced = mask.float().mean()
                oracle = (mask, ids, cfg["curriculum"]["smoothing"])
        src_z, tgt_z, out_len, inter_src, inter_tgt = model(feats, lengths, oracle)
    loss = ctc(src_z, out_len, src, src_len) + ctc(tgt_z, out_len, tgt, tgt_len)
    if inter_src:
        loss = loss + sum(ctc(z, out_len, src, src_len) for z in inter_src) / len(inter_src)
    if inter_tgt:
        loss = loss + sum(ctc(z, out_len, tgt, tgt_len) for z in inter_tgt) / len(inter_tgt)
    loss = loss / tgt_len.sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
    opt.step()
    return loss, gnorm, replaced


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "F64": torch.float64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out, header.get("__metadata__", {})


def dump_logits(ckpt, feats_path, frames, out_path):
    tensors, meta = read_safetensors(ckpt)
    cfg = resolve(json.loads(meta["nast.config"]))
    model = Nast(cfg)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    model.eval()
    feats = torch.from_numpy(__import__("numpy").fromfile(feats_path, dtype="<f4")).reshape(1, frames, cfg["inputDim"])
    with torch.no_grad():
        _, tgt, _, _, _ = model(feats, torch.tensor([frames]))
    tgt.float().numpy().astype("<f4").tofile(out_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="small", help="preset name or models/configs-style JSON file")
    ap.add_argument("--vocab", type=int, help="override vocabSize")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max-frames", type=int, default=40000)
    ap.add_argument("--utt-frames", type=int, default=600)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--no-curriculum", action="store_true")
    ap.add_argument("--precision", choices=["bf16", "fp32", "tf32"], default=None, help="default: bf16 on CUDA, fp32 on CPU")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dump-logits", nargs=4, metavar=("CKPT", "FEATS", "FRAMES", "OUT"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.dump_logits:
        ckpt, feats, frames, out = args.dump_logits
        dump_logits(ckpt, feats, int(frames), out)
        return
    torch.manual_seed(args.seed)
    cfg = resolve(load_config(args.config))
    if args.vocab:
        cfg["vocabSize"] = args.vocab
    precision = args.precision or ("bf16" if args.device.startswith("cuda") else "fp32")
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
    autocast_dtype = torch.bfloat16 if precision == "bf16" else None
    model = Nast(cfg)
    init_like_nast(model)
    model = model.to(args.device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8)
    batch = synthetic_batch(cfg, args.max_frames, args.utt_frames, args.device, args.seed)
    curriculum = cfg["curriculum"]["enabled"] and not args.no_curriculum
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    for _ in range(args.warmup):
        train_step(model, opt, batch, curriculum, autocast_dtype, args.device)
    sync()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss, gnorm, _ = train_step(model, opt, batch, curriculum, autocast_dtype, args.device)
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    ms = times[len(times) // 2]
    frames = batch[0].shape[0] * batch[0].shape[1]
    params = sum(p.numel() for p in model.parameters())
    result = {
        "engine": "pytorch",
        "torch": torch.__version__,
        "config": args.config,
        "device": args.device,
        "precision": precision,
        "curriculum": curriculum,
        "params": params,
        "batch": {"utterances": batch[0].shape[0], "frames": frames, "uttFrames": args.utt_frames},
        "msPerStep": ms,
        "msPerStepMean": sum(times) / len(times),
        "framesPerSecond": frames / (ms / 1000),
        "loss": float(loss),
        "gradNorm": float(gnorm),
        "peakMemoryMiB": torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"pytorch {torch.__version__} {args.config} on {args.device} ({precision}, curriculum {'on' if curriculum else 'off'}): "
              f"{params / 1e6:.1f}M params, {result['batch']['utterances']}x{args.utt_frames} frames, "
              f"{ms:.1f} ms/step (median of {args.steps}), {result['framesPerSecond'] / 1000:.1f}k frames/s, loss {float(loss):.3f}")


if __name__ == "__main__":
    main()
