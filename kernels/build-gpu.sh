#!/usr/bin/env bash
# Builds kernels/build/nast_torch.node on a host that has g++, a CUDA PyTorch (python3 -c 'import torch')
# and a node binary, but no npm, node-gyp or Node headers (the GPU host of docs/gpu.md).
#
# On a machine with the repository's node_modules, first stage the N-API headers the build needs:
#   node scripts/build-kernels.mjs --stage-headers .carry/node-api-headers
# carry .carry/ to the GPU host with the working tree, then there:
#   NODE=/path/to/node kernels/build-gpu.sh
# Options through the environment: NODE (node binary, default `node`), PYTHON (the interpreter whose torch to
# build against, default python3), LIBTORCH (a libtorch root instead of Python's), NODE_API_HEADERS.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE="${NODE:-node}"
export NODE_API_HEADERS="${NODE_API_HEADERS:-$PWD/.carry/node-api-headers}"
if [ ! -f "$NODE_API_HEADERS/napi.h" ] || [ ! -f "$NODE_API_HEADERS/node_api.h" ]; then
  echo "kernels/build-gpu.sh: no N-API headers in $NODE_API_HEADERS;" \
    "run 'node scripts/build-kernels.mjs --stage-headers .carry/node-api-headers' where npm ci was run, and carry .carry/" >&2
  exit 1
fi
exec "$NODE" scripts/build-kernels.mjs
