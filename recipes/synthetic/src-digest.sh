#!/usr/bin/env bash
# The SHA-256 of the tree's TypeScript sources (src/**/*.ts, names and contents), with no git needed: the GPU
# host gets a copy of the tree, not the repository. gpu-corpus.sh's bundle stage writes it into the first line
# of .carry/nast-corpus.mjs, and gpu-train.sh's start refuses a bundle made from other sources: a stale bundle
# once made a real-speech corpus without its dev-real-unseen split, and the run trained unranked (2026-12-03).
set -euo pipefail
cd "$(dirname "$0")/../../src"
find . -type f -name '*.ts' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64
