"""PyTorch side of bench/image-train.ts: image classifiers' training steps and evaluation on the CPU.

The runner's networks rebuilt layer for layer (random weights: the values do not change the cost):
- mobilenet_v1: MobileNet v1, width 0.75, Keras layout (conv-BN(eps 1e-3)-ReLU6, 13 depthwise-separable
  blocks), global average pooling, the fine-tune head (dropout 0.2, linear to 2 classes); 224x224.
- resnet18: the runner's ResNet-18 (7x7/2 stem + 3x3/2 max pool, four stages of two residual blocks,
  1x1 conv + BN shortcuts where the shape changes), global average pooling, linear; 224x224.
- small_cnn: three conv3x3-BN-ReLU-maxpool stages (32, 64, 128 channels), global average pooling, linear; 64x64.

Training: SGD (lr 0.002, weight decay 0.001, the head at 10x), cross-entropy, a DataLoader over an
in-memory TensorDataset with shuffling, the d2l step (zero_grad, forward, loss, backward, step, accuracy).
Evaluation: model.eval() under torch.no_grad(), batches of --eval-batch.

    python bench/image_train.py --model mobilenet_v1 --steps 5 [--warmup 2] [--eval-batches 2] [--json]
"""

import argparse
import json
import os
import time

import torch
from torch import nn

SIZES = {"mobilenet_v1": (224, 32), "resnet18": (224, 32), "small_cnn": (64, 64)}


def conv_bn(cin, cout, kernel, stride, groups=1, eps=1e-5, act=nn.ReLU):
    return [
        nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=eps, momentum=0.1),
        act(),
    ]


def mobilenet_v1(alpha=0.75, classes=2):
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    width = lambda f: max(1, int(f * alpha))
    layers = conv_bn(3, width(32), 3, 2, eps=1e-3, act=nn.ReLU6)
    cin = width(32)
    for filters, stride in blocks:
        layers += conv_bn(cin, cin, 3, stride, groups=cin, eps=1e-3, act=nn.ReLU6)
        layers += conv_bn(cin, width(filters), 1, 1, eps=1e-3, act=nn.ReLU6)
        cin = width(filters)
    body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return body, nn.Sequential(nn.Dropout(0.2), nn.Linear(cin, classes))


class Residual(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def resnet18(classes=2):
    layers = conv_bn(3, 64, 7, 2) + [nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, filters in enumerate([64, 128, 256, 512]):
        for block in range(2):
            layers.append(Residual(cin, filters, 2 if stage > 0 and block == 0 else 1))
            cin = filters
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Linear(cin, classes)


def small_cnn(classes=2):
    layers, cin = [], 3
    for filters in [32, 64, 128]:
        layers += conv_bn(cin, filters, 3, 1) + [nn.MaxPool2d(2)]
        cin = filters
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Linear(cin, classes)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=list(SIZES), default="mobilenet_v1")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--eval-batches", type=int, default=2, help="timed evaluation batches (0: none)")
    parser.add_argument("--eval-batch", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    size, batch = SIZES[args.model]
    body, head = {"mobilenet_v1": mobilenet_v1, "resnet18": resnet18, "small_cnn": small_cnn}[args.model]()
    net = nn.Sequential(body, head)
    n = batch * (args.steps + args.warmup)
    x = torch.rand(n, 3, size, size) * 2 - 1
    y = torch.randint(0, 2, (n,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch, shuffle=True)
    trainer = torch.optim.SGD(
        [{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.02}], lr=0.002, weight_decay=0.001
    )
    loss = nn.CrossEntropyLoss()
    net.train()
    times, correct = [], 0.0
    for features, labels in loader:
        start = time.perf_counter()
        trainer.zero_grad()
        pred = net(features)
        l = loss(pred, labels)
        l.backward()
        trainer.step()
        correct += float((pred.argmax(dim=1) == labels).sum())
        times.append(time.perf_counter() - start)
    timed = times[args.warmup :]
    result = {
        "framework": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "model": args.model,
        "batch": batch,
        "size": size,
        "steps": len(timed),
        "seconds_per_step": sum(timed) / len(timed),
        "examples_per_sec": batch * len(timed) / sum(timed),
    }
    if args.eval_batches > 0:
        net.eval()
        images = torch.rand(args.eval_batch, 3, size, size) * 2 - 1
        with torch.no_grad():
            net(images)  # warm-up
            start = time.perf_counter()
            for _ in range(args.eval_batches):
                float(net(images).argmax(dim=1).sum())
            seconds = time.perf_counter() - start
        result["eval_examples_per_sec"] = args.eval_batch * args.eval_batches / seconds
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
