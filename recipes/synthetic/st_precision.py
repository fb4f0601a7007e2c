#!/usr/bin/env python3
"""Rewrite a safetensors checkpoint with its float32 tensors as float16 (--half) or back (--float).

Files that come back from the GPU host are capped at 16 MiB each and 64 MiB together, and the small preset's
float32 weights are ~93 MB: the trained checkpoint travels as float16 parts and is widened again here.
Metadata (the model config under "nast.config") is kept as it is. Needs only numpy.
"""
import json
import struct
import sys

import numpy as np


def convert(src: str, dst: str, to_half: bool) -> None:
    with open(src, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        body = f.read()
    meta = header.pop("__metadata__", None)
    src_dtype, dst_dtype = ("F32", "F16") if to_half else ("F16", "F32")
    np_dst = np.float16 if to_half else np.float32
    out_header, chunks, offset = {}, [], 0
    for name in sorted(header, key=lambda k: header[k]["data_offsets"][0]):
        info = header[name]
        a, b = info["data_offsets"]
        raw = body[a:b]
        dtype = info["dtype"]
        if dtype == src_dtype:
            raw = np.frombuffer(raw, dtype=np.float32 if to_half else np.float16).astype(np_dst).tobytes()
            dtype = dst_dtype
        out_header[name] = {"dtype": dtype, "shape": info["shape"], "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if meta is not None:
        out_header["__metadata__"] = meta
    text = json.dumps(out_header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("--half", "--float"):
        sys.exit("usage: st_precision.py --half|--float SRC DST")
    convert(sys.argv[2], sys.argv[3], sys.argv[1] == "--half")
