"""Python reference of the IMDb data pipeline, the d2l lesson's steps, for bench/pipeline.ts.

read the reviews from aclImdb_v1.tar.gz → tokenize (lower-case, split on whitespace) → vocabulary
from the training split (min_freq 5, <unk> and <pad>) → truncate/pad to 500 → tensors, train + test.

The steps are d2l's own (read_imdb, tokenize, Vocab, truncate_pad, torch.tensor), except that the
reviews come straight out of the archive (as the runner reads them) and are lower-cased.

    python bench/pipeline.py ARCHIVE [--repeat N] [--json]
    python bench/pipeline.py ARCHIVE --vocab-report      # vocabulary sizes of the d2l variants
"""

import argparse
import collections
import json
import re
import sys
import tarfile
import time

MEMBER = re.compile(r"^(?:[^/]+/)?(train|test)/(pos|neg)/[^/]+\.txt$")


def read_imdb(archive):
    """Both splits as (texts, labels), files in name order, neg before pos; newlines removed."""
    splits = {"train": {"neg": [], "pos": []}, "test": {"neg": [], "pos": []}}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            match = MEMBER.match(member.name)
            if member.isfile() and match:
                text = tar.extractfile(member).read().decode("utf-8").replace("\n", "")
                splits[match.group(1)][match.group(2)].append((member.name, text))
    out = {}
    for split, classes in splits.items():
        texts, labels = [], []
        for label, name in enumerate(("neg", "pos")):
            for _, text in sorted(classes[name]):
                texts.append(text)
                labels.append(label)
        out[split] = (texts, labels)
    return out


def tokenize(lines, lower=True):
    """d2l.tokenize(token='word'): line.split(), here on the lower-cased line."""
    return [line.lower().split() if lower else line.split() for line in lines]


class Vocab:
    """d2l.Vocab: tokens seen at least min_freq times, plus <unk> and the reserved tokens."""

    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        counter = collections.Counter(token for line in tokens for token in line)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = list(
            sorted(set(["<unk>"] + list(reserved_tokens) + [t for t, f in self.token_freqs if f >= min_freq]))
        )
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.token_to_idx["<unk>"])
        return [self.__getitem__(token) for token in tokens]


def truncate_pad(line, num_steps, padding_token):
    """d2l.truncate_pad."""
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def to_tensor(rows):
    try:
        import torch

        return torch.tensor(rows)
    except ImportError:
        import numpy

        return numpy.array(rows, dtype=numpy.int64)


def pipeline(archive, num_steps=500, min_freq=5):
    """The whole pipeline; returns the vocabulary and the four tensors."""
    data = read_imdb(archive)
    train_tokens = tokenize(data["train"][0])
    test_tokens = tokenize(data["test"][0])
    vocab = Vocab(train_tokens, min_freq=min_freq, reserved_tokens=["<pad>"])
    pad = vocab["<pad>"]
    train_x = to_tensor([truncate_pad(vocab[line], num_steps, pad) for line in train_tokens])
    test_x = to_tensor([truncate_pad(vocab[line], num_steps, pad) for line in test_tokens])
    return vocab, train_x, to_tensor(data["train"][1]), test_x, to_tensor(data["test"][1])


def vocab_report(archive):
    """Vocabulary sizes of the lesson's variants on the training split, and what separates them."""
    train = read_imdb(archive)["train"][0]
    cased = tokenize(train, lower=False)
    lower = tokenize(train, lower=True)
    report = {
        "d2l load_data_imdb (cased, <unk> only)": len(Vocab(cased, min_freq=5)),
        "d2l 16.1 text (cased, <unk> + <pad>)": len(Vocab(cased, min_freq=5, reserved_tokens=["<pad>"])),
        "lower-cased, str.split(), <unk> + <pad>": len(Vocab(lower, min_freq=5, reserved_tokens=["<pad>"])),
    }
    js_split = re.compile("[\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
    js_lower = [[t for t in js_split.split(line.lower()) if t] for line in train]
    js_vocab = Vocab(js_lower, min_freq=5, reserved_tokens=["<pad>"])
    report["lower-cased, split on JavaScript's \\s (as the runner)"] = len(js_vocab)
    py_vocab = set(Vocab(lower, min_freq=5, reserved_tokens=["<pad>"]).idx_to_token)
    report["only with str.split()"] = sorted(py_vocab - set(js_vocab.idx_to_token))
    report["only with JavaScript's \\s"] = sorted(set(js_vocab.idx_to_token) - py_vocab)
    # Python's str.split() and JavaScript's /\s+/ disagree on a few characters: which occur here?
    py_only = "\x1c\x1d\x1e\x1f\x85"
    js_only = "\ufeff"
    text = "".join(train)
    report["chars Python splits on but JS does not"] = {hex(ord(c)): text.count(c) for c in py_only if c in text}
    report["chars JS splits on but Python does not"] = {hex(ord(c)): text.count(c) for c in js_only if c in text}
    report["tokens in training"] = sum(len(line) for line in lower)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON line (for bench/pipeline.ts)")
    parser.add_argument("--vocab-report", action="store_true")
    args = parser.parse_args()
    if args.vocab_report:
        print(json.dumps(vocab_report(args.archive), indent=2))
        return
    times, cpu = [], []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        vocab, train_x, train_y, test_x, test_y = pipeline(args.archive)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    result = {
        "seconds": times,
        "best": min(times),
        "cpu": cpu,
        "vocab": len(vocab),
        "train_shape": list(train_x.shape),
        "test_shape": list(test_x.shape),
        "train_checksum": int(train_x.sum()),
        "test_checksum": int(test_x.sum()),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"python pipeline: best {result['best']:.2f} s of {args.repeat}, vocabulary {len(vocab)}", file=sys.stderr)


if __name__ == "__main__":
    main()
