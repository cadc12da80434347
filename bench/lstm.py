# The PyTorch side of bench/lstm.ts: d2l's BiRNN (embedding, 2-layer bidirectional nn.LSTM, first and
# last outputs concatenated, linear), Adam, cross-entropy. A server: bench/lstm.ts starts it, sends
# one command per line on stdin and reads one JSON line back per command, so the two frameworks
# take turns on the same cores in one run:
#   setup <batch> <seq> <embed> <hiddens> <layers> <vocab> <lr>
#   train <steps>   ->  {"seconds": ...}     training steps (forward, backward, Adam)
#   eval <steps>    ->  {"seconds": ...}     forward passes under torch.no_grad()
#   rss             ->  {"max_rss_mb": ...}  peak resident memory of this process
import json
import resource
import sys
import time

import torch
from torch import nn


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
        encoding = torch.cat((outputs[0], outputs[-1]), dim=1)
        return self.decoder(encoding)


def main():
    torch.manual_seed(0)
    state = {}
    reply = lambda value: print(json.dumps(value), flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == 'setup':
            batch, seq, embed, hiddens, layers, vocab = map(int, args[:6])
            net = BiRNN(vocab, embed, hiddens, layers)
            state.update(
                net=net,
                optimizer=torch.optim.Adam(net.parameters(), lr=float(args[6])),
                loss=nn.CrossEntropyLoss(),
                x=torch.randint(0, vocab, (batch, seq)),
                y=torch.randint(0, 2, (batch,)),
            )
            reply({'torch': torch.__version__, 'threads': torch.get_num_threads()})
        elif command == 'train':
            net, optimizer, loss, x, y = (state[k] for k in ('net', 'optimizer', 'loss', 'x', 'y'))
            net.train()
            start = time.perf_counter()
            for _ in range(int(args[0])):
                optimizer.zero_grad()
                value = loss(net(x), y)
                value.backward()
                optimizer.step()
            value.item()
            reply({'seconds': time.perf_counter() - start})
        elif command == 'eval':
            net, x = state['net'], state['x']
            net.eval()
            start = time.perf_counter()
            with torch.no_grad():
                for _ in range(int(args[0])):
                    net(x).argmax(1).tolist()
            reply({'seconds': time.perf_counter() - start})
        elif command == 'rss':
            reply({'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        else:
            reply({'error': f'unknown command {command}'})


if __name__ == '__main__':
    main()
