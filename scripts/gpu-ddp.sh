#!/usr/bin/env bash
# Data-parallel checks on a GPU host (docs/gpu.md §6; the host of docs/gpu.md: CUDA PyTorch, g++, no Node):
#   1. `nast bench train --ddp`: updates through a one-rank NCCL group alternating with plain ones (the ratio);
#   2. `nast train` on the carried tiny data, plain and through NCCL with world size 1 (--nproc 1);
#   3. two ranks sharing the one GPU through NCCL (NCCL may refuse: its message is the result).
# Here, first: node scripts/build-kernels.mjs --stage-headers .carry/node-api-headers; npm run build;
# xz -6 -c "$(readlink -f "$(command -v node)")" > .carry/node.xz; a prepared data dir as .carry/tiny-data
# (optional). Carry .carry/ and dist/ with the tree. There: OUT=DIR scripts/gpu-ddp.sh [PRESET]
# Everything goes to $OUT (default ./gpu-ddp-out): JSON of each benchmark, logs, and summary.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
preset=${1:-small}
out=${OUT:-gpu-ddp-out}
mkdir -p "$out"
node=${NODE:-$PWD/.carry/node}
if [ ! -x "$node" ]; then
  python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' .carry/node.xz "$node" && chmod +x "$node"
fi
say() { echo "$*" | tee -a "$out/summary.txt"; }

NODE="$node" kernels/build-gpu.sh > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
grep -E "distributed|CUDA available" "$out/build.log" | tee -a "$out/summary.txt"

# 1. The wrapper's cost: plain and one-rank NCCL updates alternate on the same weights.
"$node" dist/cli.js bench train --device cuda --presets "$preset" --ddp --steps 40 --warmup 5 --json > "$out/bench-ddp.json" 2> "$out/bench-ddp.err"
say "bench --ddp ($preset): $("$node" -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results[0], d = r.ddp;
  console.log(`plain ${r.msPerStep.toFixed(1)} ms/step, ${d.backend} world size 1 ${d.msPerStep.toFixed(1)} ms/step (ratio ${d.ratio.toFixed(3)}), all-reduce ${d.commMs.toFixed(2)} ms in ${d.buckets} buckets`)' "$out/bench-ddp.json" 2>&1 || tail -5 "$out/bench-ddp.err")"
"$node" dist/cli.js bench train --device cuda --presets "$preset" --steps 40 --warmup 5 > "$out/bench-plain.txt" 2>&1
say "bench plain ($preset): $(head -1 "$out/bench-plain.txt")"

# 2. nast train through NCCL with one rank, beside the plain run.
if [ -d .carry/tiny-data ]; then
  common=(-c tiny -d .carry/tiny-data --device cuda --max-steps 20 --valid-every 10 --valid-max 2 --no-progress --max-frames 1200)
  rm -rf "$out/train-plain" "$out/train-nccl1"
  "$node" dist/cli.js train "${common[@]}" -o "$out/train-plain" > "$out/train-plain.txt" 2>&1
  "$node" dist/cli.js train "${common[@]}" -o "$out/train-nccl1" --nproc 1 > "$out/train-nccl1.txt" 2>&1
  say "train plain: $(tail -1 "$out/train-plain.txt")"
  say "train --nproc 1 (NCCL): $(tail -1 "$out/train-nccl1.txt")"
fi

# 3. Two ranks on the one GPU (cuda:0 for both).
timeout 300 "$node" dist/cli.js bench train --device cuda:0 --presets "$preset" --nproc 2 --steps 20 --warmup 3 > "$out/bench-2ranks-1gpu.txt" 2>&1
say "two ranks on one GPU (exit $?): $(grep -E 'data parallel|Error|error|nast:' "$out/bench-2ranks-1gpu.txt" | head -3)"
