"""The reference SFT step of `npm run bench` in PyTorch, for comparison only (never a dependency).

Same sizes as the llava workload: batch B, 32x32 images in 4x4 patches (64 visual tokens, no
merge), text length L, width d, 4 heads, one ViT block + 3 LM blocks, MLP ratio 4, vocabulary V,
cross-entropy on every text position, Adam; the last LM block computes the text rows only, as
the TF.js model does. One thread, as one wasm worker uses one core.
Prints one JSON object: the median step's ms and samples/s, and the torch version. Run with Debian's python3-torch:
  /usr/bin/python3 scripts/bench/torch_step.py --batch 32 --text 12 --vocab 60
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=32)
p.add_argument("--text", type=int, default=12)
p.add_argument("--vocab", type=int, default=60)
p.add_argument("--width", type=int, default=64)
p.add_argument("--iterations", type=int, default=30)
p.add_argument("--warmup", type=int, default=20)
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(1)
d, heads, patch, size = a.width, 4, 4, 32
n_vis = (size // patch) ** 2


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, causal, start=0):
        """The output rows from `start` on: every row's keys and values, those rows' queries and MLP (models/layers.ts rowsFrom)."""
        b, s, _ = x.shape
        t = s - start
        h = self.ln1(x)
        w, bias = self.qkv.weight, self.qkv.bias
        q = F.linear(h[:, start:], w[:d], bias[:d]).view(b, t, heads, d // heads).transpose(1, 2)
        k, v = F.linear(h, w[d:], bias[d:]).view(b, s, 2, heads, d // heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) / (d // heads) ** 0.5
        if causal:
            att = att.masked_fill(torch.ones(s, s, dtype=torch.bool).triu(1)[start:], float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x[:, start:] + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class Llava(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Linear(patch * patch * 3, d)
        self.vit_pos = nn.Parameter(torch.randn(1, n_vis, d) * 0.02)
        self.vit, self.vit_ln = Block(), nn.LayerNorm(d)
        self.proj1, self.proj2 = nn.Linear(d, d), nn.Linear(d, d)
        self.tok = nn.Embedding(a.vocab, d)
        self.pos = nn.Parameter(torch.randn(1, n_vis + a.text, d) * 0.02)
        self.lm = nn.ModuleList(Block() for _ in range(3))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, a.vocab)

    def forward(self, images, tokens):
        b = images.shape[0]
        x = images.view(b, size // patch, patch, size // patch, patch, 3).permute(0, 1, 3, 2, 4, 5).reshape(b, n_vis, -1)
        x = self.vit_ln(self.vit(self.patch((x - 0.5) * 4) + self.vit_pos, False))
        x = torch.cat([self.proj2(F.gelu(self.proj1(x))), self.tok(tokens)], 1) + self.pos
        # The last block computes the text rows only, as models/causalLm.ts does: the logits read nothing else.
        for i, blk in enumerate(self.lm):
            x = blk(x, True, n_vis if i == len(self.lm) - 1 else 0)
        return self.head(self.ln(x))


model = Llava()
opt = torch.optim.Adam(model.parameters(), 1e-3)
images = torch.rand(a.batch, size, size, 3)
tokens = torch.randint(0, a.vocab, (a.batch, a.text))
targets = torch.randint(0, a.vocab, (a.batch, a.text))


def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(images, tokens).reshape(-1, a.vocab), targets.reshape(-1))
    loss.backward()
    opt.step()


for _ in range(a.warmup):
    step()
times = []
for _ in range(a.iterations):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1000)
ms = sorted(times)[len(times) // 2]  # the median step, as the TF.js side reports it
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": sum(p.numel() for p in model.parameters()), "stepMs": ms, "samplesPerSec": a.batch * 1000 / ms}))
