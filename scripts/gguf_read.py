#!/usr/bin/env python3
"""Reads a GGUF file with the `gguf` Python package (llama.cpp's own reader)
and prints what it finds as JSON: alignment, metadata (type and value), and
every tensor dequantized by gguf.quants. The Rust tests use it as the
independent reader of files gptlens writes; it needs only gguf and numpy
(.ci/run installs them in ~/.cache/gptlens/venv).

    python scripts/gguf_read.py FILE.gguf > out.json
"""

import json
import sys

import gguf
import numpy as np


def main():
    r = gguf.GGUFReader(sys.argv[1])
    meta = {}
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue  # the header, exposed as pseudo-fields
        types = [t.name for t in field.types]
        try:
            value = field.contents()
        except Exception:  # nested arrays: contents() does not unpack them
            value = None
        if isinstance(value, np.generic):
            value = value.item()
        meta[name] = {"types": types, "value": value}
    tensors = []
    for t in r.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "dims": [int(d) for d in t.shape],
            "values": values.ravel().tolist(),
        })
    json.dump({"alignment": int(r.alignment), "data_offset": int(r.data_offset), "metadata": meta,
               "tensors": tensors}, sys.stdout)


if __name__ == "__main__":
    main()
