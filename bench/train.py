"""PyTorch side of bench/train.ts: the lesson's TextCNN / BiRNN training steps on the CPU, d2l style.

Same shapes as the runner's side: token ids [N, 500] from a 46,152-word vocabulary, batch 64, two
classes, Adam, cross-entropy; a DataLoader over an in-memory TensorDataset with shuffling and the
train_batch_ch13 step (forward, loss.sum().backward(), step, accuracy), as in d2l.

    python bench/train.py --model textcnn --steps 30 [--warmup 3] [--json]

TextCNN pools with max over time, like the runner (d2l's PyTorch code says max-over-time but uses
AdaptiveAvgPool1d; the cost of a step is the same).
"""

import argparse
import json
import os
import time

import torch
from torch import nn


class TextCNN(nn.Module):
    def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding.weight.requires_grad = False
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(sum(num_channels), 2)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.relu = nn.ReLU()
        self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k) for c, k in zip(num_channels, kernel_sizes))

    def forward(self, inputs):
        embeddings = torch.cat((self.embedding(inputs), self.constant_embedding(inputs)), dim=2).permute(0, 2, 1)
        encoding = torch.cat([torch.squeeze(self.pool(self.relu(conv(embeddings))), dim=-1) for conv in self.convs], dim=1)
        return self.decoder(self.dropout(encoding))


class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers, bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)

    def forward(self, inputs):
        embeddings = self.embedding(inputs.T)
        self.encoder.flatten_parameters()
        outputs, _ = self.encoder(embeddings)
        return self.decoder(torch.cat((outputs[0], outputs[-1]), dim=1))


def init_weights(module):
    if type(module) in (nn.Linear, nn.Conv1d):
        nn.init.xavier_uniform_(module.weight)
    if type(module) == nn.LSTM:
        for name in module._flat_weights_names:
            if "weight" in name:
                nn.init.xavier_uniform_(module._parameters[name])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["textcnn", "birnn"], default="textcnn")
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=46152)
    parser.add_argument("--len", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    n = args.batch * (args.steps + args.warmup)
    x = torch.randint(0, args.vocab, (n, args.len))
    y = torch.randint(0, 2, (n,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), args.batch, shuffle=True)
    if args.model == "textcnn":
        net, lr = TextCNN(args.vocab, 100, [3, 4, 5], [100, 100, 100]), 0.001
    else:
        net, lr = BiRNN(args.vocab, 100, 100, 2), 0.01
    net.apply(init_weights)
    trainer = torch.optim.Adam((p for p in net.parameters() if p.requires_grad), lr=lr)
    loss = nn.CrossEntropyLoss(reduction="none")
    net.train()
    times = []
    correct = 0.0
    for step, (features, labels) in enumerate(loader):
        start = time.perf_counter()
        trainer.zero_grad()
        pred = net(features)
        l = loss(pred, labels)
        l.sum().backward()
        trainer.step()
        correct += float((pred.argmax(dim=1) == labels).sum())
        times.append(time.perf_counter() - start)
    timed = times[args.warmup :]
    result = {
        "framework": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "model": args.model,
        "steps": len(timed),
        "seconds_per_step": sum(timed) / len(timed),
        "examples_per_sec": args.batch * len(timed) / sum(timed),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
