"""Tiny llama-architecture models for Thicket, in PyTorch (Debian's python3-torch 1.13, CPU; run with /usr/bin/python3).

The architecture is the one llama.cpp runs as `llama`: token embedding, N blocks of (RMSNorm -> attention with
RoPE -> residual, RMSNorm -> SwiGLU feed-forward -> residual), a final RMSNorm and an untied output matrix, no
biases. RoPE rotates ADJACENT pairs (x0, x1), (x2, x3), ... — llama.cpp's "norm" RoPE for this architecture —
so no q/k permutation is needed on export (Hugging Face rotates halves, which is why its converters permute).
Attention is written out: torch 1.13 has no scaled_dot_product_attention.

The vocabulary is the project's fixture vocabulary (src/models/llama/fixture.ts): <unk>=0, <s>=1, </s>=2, the
256 byte tokens <0x00>..<0xFF> at 3..258 and the SPM space piece "▁" at 259. `encode` tokenizes as llama.cpp
does with that vocabulary (no space prefix): every byte is its byte token, except a space, which is "▁".

Export: `export(model, folder)` writes `weights.bin` (float32, little endian, tensors one after another) and
`manifest.json` (shape, hyper-parameters, and per tensor its GGUF name, GGUF dims — innermost first — and offset).
The TypeScript side (src/models/llama/trained-model.ts) turns them into a GGUF with the project's own writer.
"""
import json
import math
import os
import struct
import sys

import torch
from torch import nn

VOCAB_SIZE = 260
BOS, EOS, SPACE = 1, 2, 259


def encode(text, bos=True):
    ids = [BOS] if bos else []
    for byte in text.encode("utf-8"):
        ids.append(SPACE if byte == 0x20 else 3 + byte)
    return ids


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, base):
    """x: [batch, heads, seq, head_dim]; rotates adjacent pairs by position * base^(-2i/head_dim)."""
    _, _, seq, dim = x.shape
    inv = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    angles = torch.arange(seq, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = angles.cos(), angles.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


class Block(nn.Module):
    def __init__(self, dim, heads, ff, eps, rope_base):
        super().__init__()
        self.heads, self.rope_base = heads, rope_base
        self.attn_norm = RMSNorm(dim, eps)
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)
        self.ffn_norm = RMSNorm(dim, eps)
        self.gate = nn.Linear(dim, ff, bias=False)
        self.up = nn.Linear(dim, ff, bias=False)
        self.down = nn.Linear(ff, dim, bias=False)

    def forward(self, x):
        batch, seq, dim = x.shape
        head_dim = dim // self.heads
        h = self.attn_norm(x)
        split = lambda t: t.view(batch, seq, self.heads, head_dim).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        q, k = rope(q, self.rope_base), rope(k, self.rope_base)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
        mask = torch.full((seq, seq), float("-inf")).triu(1)
        attended = torch.softmax(scores + mask, dim=-1) @ v
        x = x + self.o(attended.transpose(1, 2).reshape(batch, seq, dim))
        h = self.ffn_norm(x)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


class TinyLlama(nn.Module):
    def __init__(self, dim=64, blocks=2, heads=4, ff=128, eps=1e-5, rope_base=10000.0, context=512):
        super().__init__()
        self.config = dict(dim=dim, blocks=blocks, heads=heads, ff=ff, eps=eps, rope_base=rope_base, context=context)
        self.embed = nn.Embedding(VOCAB_SIZE, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, ff, eps, rope_base) for _ in range(blocks))
        self.norm = RMSNorm(dim, eps)
        self.output = nn.Linear(dim, VOCAB_SIZE, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x)
        return self.output(self.norm(x))


def gguf_tensors(model):
    """(GGUF name, tensor) in the order llama.cpp lists them; Linear weights [out, in] are written row-major,
    which GGUF reads as dims [in, out] (innermost first)."""
    yield "token_embd.weight", model.embed.weight
    for index, block in enumerate(model.blocks):
        prefix = f"blk.{index}."
        yield prefix + "attn_norm.weight", block.attn_norm.weight
        yield prefix + "attn_q.weight", block.q.weight
        yield prefix + "attn_k.weight", block.k.weight
        yield prefix + "attn_v.weight", block.v.weight
        yield prefix + "attn_output.weight", block.o.weight
        yield prefix + "ffn_norm.weight", block.ffn_norm.weight
        yield prefix + "ffn_gate.weight", block.gate.weight
        yield prefix + "ffn_up.weight", block.up.weight
        yield prefix + "ffn_down.weight", block.down.weight
    yield "output_norm.weight", model.norm.weight
    yield "output.weight", model.output.weight


def export(model, folder, name):
    os.makedirs(folder, exist_ok=True)
    tensors, offset = [], 0
    with open(os.path.join(folder, "weights.bin"), "wb") as out:
        for gguf_name, tensor in gguf_tensors(model):
            data = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
            out.write(data)
            tensors.append({"name": gguf_name, "dims": list(reversed(tensor.shape)), "offset": offset, "bytes": len(data)})
            offset += len(data)
    manifest = {"name": name, "vocabulary": "thicket-bytes-v1", "config": model.config, "tensors": tensors}
    with open(os.path.join(folder, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=1)
        out.write("\n")


PARITY_PROMPTS = ["What is 17*23?", "12+7=", "(3+4)*5 = 35. Answer:"]


def parity(folder, seed=7):
    """A seeded, untrained model (its conventions are what is checked): exported, with the next-token
    probabilities after each parity prompt, the top 16 of them (what the engine must reproduce)."""
    torch.manual_seed(seed)
    model = TinyLlama()
    with torch.no_grad():
        # Larger weights than the default init, so the distribution is far from uniform and a convention error
        # (RoPE layout, a transposed matrix) moves it visibly.
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.mul_(3.0)
    model.eval()
    export(model, folder, f"thicket-parity-seed{seed}")
    cases = []
    with torch.no_grad():
        for prompt in PARITY_PROMPTS:
            ids = encode(prompt)
            probabilities = torch.softmax(model(torch.tensor([ids]))[0, -1].double(), dim=-1)
            top = torch.topk(probabilities, 16)
            cases.append({"prompt": prompt, "tokens": ids, "top": [[int(t), float(p)] for p, t in zip(top.values, top.indices)]})
    with open(os.path.join(folder, "expected.json"), "w") as out:
        json.dump({"seed": seed, "cases": cases}, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "parity":
        parity(sys.argv[2])
    else:
        print("usage: /usr/bin/python3 training/tiny_llama.py parity <folder>", file=sys.stderr)
        sys.exit(2)


def read_gguf_tensors(path):
    """F32 tensors of a GGUF file by name, as flat float32 tensors (warm starts from a shipped model).

    GGUF v3 as llama.cpp defines it: header, metadata key/values (skipped), tensor infos, aligned data.
    """
    import struct

    with open(path, "rb") as source:
        data = source.read()
    position = 0

    def take(fmt):
        nonlocal position
        values = struct.unpack_from("<" + fmt, data, position)
        position += struct.calcsize("<" + fmt)
        return values[0]

    def string():
        nonlocal position
        length = take("Q")
        text = data[position : position + length].decode()
        position += length
        return text

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            item_kind, count = take("I"), take("Q")
            return [value(item_kind) for _ in range(count)]
        return take(sizes[kind])

    if data[:4] != b"GGUF":
        raise SystemExit(f"{path} is not a GGUF file")
    position = 4
    take("I")
    tensor_count, kv_count = take("Q"), take("Q")
    alignment = 32
    for _ in range(kv_count):
        key = string()
        kind = take("I")
        item = value(kind)
        if key == "general.alignment":
            alignment = item
    infos = []
    for _ in range(tensor_count):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        kind, offset = take("I"), take("Q")
        if kind != 0:
            raise SystemExit(f"{name} in {path} is not F32")
        infos.append((name, dims, offset))
    start = (position + alignment - 1) // alignment * alignment
    tensors = {}
    for name, dims, offset in infos:
        count = 1
        for dim in dims:
            count *= dim
        begin = start + offset
        tensors[name] = torch.frombuffer(bytearray(data[begin : begin + 4 * count]), dtype=torch.float32)
    return tensors
