"""Writes a libFuzzer seed corpus: one file per input, a control byte then the stream."""
import os


def write_corpus(out, inputs):
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        os.remove(os.path.join(out, old))
    for name, control, stream in inputs:
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([control]) + stream)
    print(f"wrote {len(inputs)} inputs to {out}")
