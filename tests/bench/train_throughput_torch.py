#!/usr/bin/python3
"""Training throughput of the same CIFAR-style ResNets as EdgeTune's model zoo, in PyTorch eager.

Run with Debian's python3-torch: /usr/bin/python3 tests/bench/train_throughput_torch.py --arch resnet20 --batch 128
--threads 2 --steps 20 --rounds 3 --image 28 --channels 1. Prints one line "images_per_second <median>" (for
--arch bert: examples are sequences of --seq-len tokens).
Architectures match core/zoo: the ResNets (3x3 stem stride 1, BasicBlocks, 1x1 conv+BN projection shortcuts, no conv
bias, GlobalAveragePool, Linear) and the BERT encoder (word + position + token-type embeddings and LayerNorm, post-LN
layers with multi-head attention and an exact-GELU FFN of 4x hidden, additive attention-mask bias, tanh pooler on the
first token, linear classifier; no dropout, as the zoo exports none). The step is the trainer's: forward,
cross-entropy, backward, then SGD Nesterov momentum 0.9 with weight decay 5e-4 (ResNets) or AdamW with weight decay
0.01 (BERT).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, widths, blocks, channels, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for stage, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, w, 2 if stage > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(hidden, hidden) for _ in range(4))
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.fc1 = nn.Linear(hidden, 4 * hidden)
        self.fc2 = nn.Linear(4 * hidden, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, bias):
        b, t, h = x.shape
        d = h // self.heads

        def split(z):
            return z.view(b, t, self.heads, d).transpose(1, 2)

        scores = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / d ** 0.5 + bias
        context = (torch.softmax(scores, -1) @ split(self.v(x))).transpose(1, 2).reshape(b, t, h)
        x = self.ln1(x + self.o(context))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Bert(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, positions, classes):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(positions, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, ids, mask, types):
        positions = torch.arange(ids.shape[1])
        x = self.ln(self.word(ids) + self.position(positions) + self.token_type(types))
        bias = (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def build(arch, channels, classes):
    if arch == "resnet18":
        return ResNet([64, 128, 256, 512], [2, 2, 2, 2], channels, classes)
    depth = int(arch[len("resnet"):])
    n = (depth - 2) // 6
    return ResNet([16, 32, 64], [n, n, n], channels, classes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet20")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--image", type=int, default=28)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--vocab", type=int, default=8000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.arch == "bert":
        model = Bert(a.vocab, a.hidden, a.layers, a.heads, a.seq_len, a.classes)
        opt = torch.optim.AdamW(model.parameters(), lr=4e-4, weight_decay=0.01)
        inputs = (torch.randint(0, a.vocab, (a.batch, a.seq_len)), torch.ones(a.batch, a.seq_len, dtype=torch.int64),
                  torch.zeros(a.batch, a.seq_len, dtype=torch.int64))
    else:
        model = build(a.arch, a.channels, a.classes)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
        inputs = (torch.randn(a.batch, a.channels, a.image, a.image),)
    model.train()
    y = torch.randint(0, a.classes, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(*inputs), y)
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up
        step()
    rates = []
    for _ in range(a.rounds):
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps * a.batch / (time.perf_counter() - start))
    print("images_per_second %.2f" % statistics.median(rates))


if __name__ == "__main__":
    main()
