"""Trains one tiny model (issue 18) on token ids written by make-data.ts, and exports it for the GGUF writer.

    /usr/bin/python3 training/train.py --data training/data/reasoning.jsonl --out training/build/reasoning-small \
        --name tiny-reasoning-small --dim 128 --blocks 4 --heads 4 --ff 384 --steps 3000 --batch 64 --seed 1

Data rows are `{p, c}` (loss on the completion c) or `{x, m}` (loss where the mask m has a 1).

Recipe: AdamW (betas 0.9/0.98, weight decay 0.05), linear warm-up then cosine decay to 10% of the peak rate,
gradient clipping at 1.0, loss on completion tokens only (the prompt is context, not a target). Batches are
drawn with a seeded generator and right-padded (padding is masked out of the loss; causal attention never lets
a real position see it). Deterministic for a given seed and thread count. Writes `manifest.json` and
`weights.bin` (tiny_llama.export) plus `train-log.json` (recipe, parameter count, steps, wall time, losses).
"""
import argparse
import json
import math
import os
import time

import torch

from tiny_llama import TinyLlama, export, gguf_tensors, read_gguf_tensors

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
parser.add_argument("--dim", type=int, default=128)
parser.add_argument("--blocks", type=int, default=4)
parser.add_argument("--heads", type=int, default=4)
parser.add_argument("--ff", type=int, default=384)
parser.add_argument("--context", type=int, default=256)
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--lr", type=float, default=3e-3)
parser.add_argument("--warmup", type=int, default=100)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--log-every", type=int, default=100)
parser.add_argument("--init", help="warm start: a folder exported by an earlier run or a shipped .gguf (same shape; the context may differ)")
args = parser.parse_args()

torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)
examples = []
with open(args.data) as source:
    for line in source:
        row = json.loads(line)
        if "x" in row:
            # Masked rows (make-thread-data.ts): all tokens, and "1" where a token is a target.
            examples.append((row["x"], [index for index, flag in enumerate(row["m"]) if flag == "1"]))
        else:
            prompt, completion = row["p"], row["c"]
            examples.append((prompt + completion, list(range(len(prompt), len(prompt) + len(completion)))))
longest = max(len(ids) for ids, _ in examples)
if longest > args.context:
    raise SystemExit(f"an example has {longest} tokens, more than the context ({args.context})")

model = TinyLlama(dim=args.dim, blocks=args.blocks, heads=args.heads, ff=args.ff, context=args.context)
parameters = sum(p.numel() for p in model.parameters())
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98)
)


def load_exported(folder, model):
    """The state dict of an exported model (manifest.json + weights.bin) or of a shipped GGUF, mapped back through gguf_tensors' names."""
    ids = {id(parameter): name for name, parameter in model.named_parameters()}
    if folder.endswith(".gguf"):
        tensors = read_gguf_tensors(folder)
        state = {}
        for gguf_name, parameter in gguf_tensors(model):
            if tensors[gguf_name].numel() != parameter.numel():
                raise SystemExit(f"--init {folder}: {gguf_name} has {tensors[gguf_name].numel()} values, not {parameter.numel()}")
            state[ids[id(parameter)]] = tensors[gguf_name].reshape(parameter.shape).clone()
        return state
    with open(os.path.join(folder, "manifest.json")) as source:
        manifest = json.load(source)
    # The context only sizes RoPE tables (no learnt positions), so a warm start may change it.
    same = {k: v for k, v in manifest["config"].items() if k != "context"} == {k: v for k, v in model.config.items() if k != "context"}
    if not same:
        raise SystemExit(f"--init {folder} has config {manifest['config']}, not {model.config}")
    with open(os.path.join(folder, "weights.bin"), "rb") as source:
        weights = source.read()
    by_name = {tensor["name"]: tensor for tensor in manifest["tensors"]}
    state = {}
    for gguf_name, parameter in gguf_tensors(model):
        entry = by_name[gguf_name]
        data = torch.frombuffer(bytearray(weights[entry["offset"] : entry["offset"] + entry["bytes"]]), dtype=torch.float32)
        state[ids[id(parameter)]] = data.reshape(parameter.shape).clone()
    return state


if args.init:
    model.load_state_dict(load_exported(args.init, model))


def rate(step):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


generator = torch.Generator().manual_seed(args.seed)


def batch():
    picks = torch.randint(len(examples), (args.batch,), generator=generator).tolist()
    rows = [examples[i] for i in picks]
    width = max(len(ids) for ids, _ in rows) - 1
    inputs = torch.zeros((len(rows), width), dtype=torch.long)
    targets = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (ids, targeted) in enumerate(rows):
        inputs[row, : len(ids) - 1] = torch.tensor(ids[:-1])
        # Position t predicts token t+1: only the targeted tokens (a completion, or what the model decodes) count.
        at = torch.tensor(targeted, dtype=torch.long)
        targets[row, at - 1] = torch.tensor(ids, dtype=torch.long)[at]
    return inputs, targets


print(f"{args.name}: {parameters:,} parameters, {len(examples):,} examples, {args.steps} steps × {args.batch}", flush=True)
started = time.time()
losses = []
window = []
model.train()
for step in range(args.steps):
    for group in optimizer.param_groups:
        group["lr"] = rate(step)
    inputs, targets = batch()
    logits = model(inputs)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    window.append(loss.item())
    if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
        mean = sum(window) / len(window)
        losses.append([step + 1, round(mean, 5)])
        window = []
        elapsed = time.time() - started
        print(f"step {step + 1}/{args.steps} loss {mean:.4f} {(step + 1) / elapsed:.2f} steps/s {elapsed:.0f}s", flush=True)

model.eval()
export(model, args.out, args.name)
log = {
    "name": args.name,
    "parameters": parameters,
    "recipe": {k: v for k, v in vars(args).items() if k not in ("out", "log_every")},
    "examples": len(examples),
    "steps": args.steps,
    "wallSeconds": round(time.time() - started, 1),
    "torch": torch.__version__,
    "losses": losses,
}
with open(os.path.join(args.out, "train-log.json"), "w") as out:
    json.dump(log, out, indent=1)
    out.write("\n")
print(f"exported {args.out} in {log['wallSeconds']}s", flush=True)
