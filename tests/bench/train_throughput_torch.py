#!/usr/bin/python3
"""Training throughput of the same CIFAR-style ResNets as EdgeTune's model zoo, in PyTorch eager.

Run with Debian's python3-torch: /usr/bin/python3 tests/bench/train_throughput_torch.py --arch resnet20 --batch 128
--threads 2 --steps 20 --rounds 3 --image 28 --channels 1. Prints one line "images_per_second <median>".
Architectures match core/zoo (3x3 stem stride 1, BasicBlocks, 1x1 conv+BN projection shortcuts, no conv bias,
GlobalAveragePool, Linear). The step is the trainer's: forward, cross-entropy, backward, SGD Nesterov momentum 0.9
with weight decay 5e-4.
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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.arch, a.channels, a.classes)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(a.batch, a.channels, a.image, a.image)
    y = torch.randint(0, a.classes, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
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
