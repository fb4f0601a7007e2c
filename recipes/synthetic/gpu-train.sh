#!/usr/bin/env bash
# Issue 7 on the GPU host (../shared/GPU.md): the big synthetic corpus, the kernels, the features, then a
# timed training run that ends by averaging and writing a float16 copy in parts small enough to come back
# (files from the host are capped at 16 MiB each).
#
# Here, beforehand:  recipes/synthetic/gpu-corpus.sh kit; node scripts/build-kernels.mjs --stage-headers
#                    .carry/node-api-headers; npm run build; a SentencePiece model of the corpus' train text
#                    in .carry/spm.model (nast prep --spm uses it: the host has no spm_train)
# On the host (carry .carry and dist):  bash recipes/synthetic/gpu-train.sh all
#   The host is given back 30 s after a call ends, and a call lasts at most 10 minutes: setup takes ~4 min
#   (corpus 3.3, features 0.75), so the first call fits TRAIN_SECONDS of ~300. Calling `all` again at once
#   (within 30 s) finds the corpus, features and kernels done and resumes the same run for TRAIN_SECONDS more
#   (~540 per call); every call ends with the averaged float16 parts in $OUT.
#   `start` (setup, then training in the background) + `collect` suit a machine held busy between the two.
# Environment: W (work folder, /tmp/nast-gpu), HOURS (45; the size is fixed when the TSV is made by
# `gpu-corpus.sh kit`), PRESET (small), TRAIN_SECONDS (600), LR (1e-3), WARMUP (800), VALID_EVERY (300),
# VALID_MAX (500 dev utterances), KEEP_BEST (5), CUDA_TESTS (1: run the op tests on CUDA during setup).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${W:-/tmp/nast-gpu}
HOURS=${HOURS:-45}
PRESET=${PRESET:-small}
TRAIN_SECONDS=${TRAIN_SECONDS:-600}
LR=${LR:-1e-3}
WARMUP=${WARMUP:-800}
VALID_EVERY=${VALID_EVERY:-300}
CORPUS=$W/corpus DATA=$W/data EXP=$W/exp
mkdir -p "$W/bin" "$W/ret"
[ -x "$W/bin/node" ] || { xz -dc .carry/node.xz > "$W/bin/node.tmp" && chmod +x "$W/bin/node.tmp" && mv "$W/bin/node.tmp" "$W/bin/node"; }
export PATH=$W/bin:$PATH

setup() {
  local t0=$SECONDS
  (WORK=$W/kit HOURS=$HOURS bash recipes/synthetic/gpu-corpus.sh remote "$CORPUS" > "$W/corpus.log" 2>&1; echo "corpus exit $?" >> "$W/corpus.log") &
  local corpus=$!
  if [ ! -f kernels/build/nast_torch.node ]; then
    NODE=$W/bin/node bash kernels/build-gpu.sh > "$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }
    tail -n 4 "$W/build.log"
  fi
  if [ "${CUDA_TESTS:-1}" = 1 ] && [ ! -f "$W/torch-cuda.log" ]; then
    # The op and gradient tests on CUDA (issue 2), while the corpus is being synthesized on the CPUs.
    NAST_TEST_DEVICE=cuda node --test --test-concurrency=1 $(ls .carry/torch-tests/*.test.js | grep -v native) > "$W/torch-cuda.log" 2>&1 || true
    grep -E '^# (tests|pass|fail)' "$W/torch-cuda.log" || true
    node dist/cli.js bench kernels --device cuda --json > "$W/bench-kernels-cuda.json" 2>&1 || true
  fi
  wait $corpus || true
  tail -n 6 "$W/corpus.log"
  echo "setup: corpus and kernels after $((SECONDS - t0)) s"
  node dist/cli.js prep --mustc "$CORPUS" --pair en-es -o "$DATA" --spm .carry/spm.model --jobs "$(nproc)" --fp16 \
    --splits train,dev,tst-COMMON,tst-HELDOUT > "$W/prep.log" 2>&1 || { tail -n 20 "$W/prep.log"; exit 1; }
  tail -n 6 "$W/prep.log"
  echo "setup: features after $((SECONDS - t0)) s"
}

# A machine is given back soon after a call ends (idle_release_s, 30 s): training must finish inside the
# call that runs it. `all` does everything in one call; `start` + `collect` suit a machine kept busy between.
start() {
  setup
  setsid nohup bash "$0" train > "$W/train.out" 2>&1 < /dev/null &
}

all() {
  setup
  train > "$W/train.out" 2>&1 || { tail -n 20 "$W/train.out"; exit 1; }
  tail -n 3 "$W/train.out"
  collect
}

train() {
  rm -f "$W/done"
  # --resume starts the run when EXP holds no checkpoint yet, and continues it when it does.
  timeout "$TRAIN_SECONDS" node dist/cli.js train --resume -c "$PRESET" -d "$DATA" -o "$EXP" --device cuda --lr "$LR" \
    --warmup "$WARMUP" --valid-every "$VALID_EVERY" --valid-max "${VALID_MAX:-500}" --keep-best "${KEEP_BEST:-5}" --no-progress || echo "train stopped: exit $?"
  node dist/cli.js average "$EXP" --best "${KEEP_BEST:-5}" -o "$W/avg.safetensors"
  python3 recipes/synthetic/st_precision.py --half "$W/avg.safetensors" "$W/avg-fp16.safetensors"
  split -b 15M -d "$W/avg-fp16.safetensors" "$W/ret/avg-fp16.part"
  touch "$W/done"
}

collect() {
  local out=${OUT:?collect writes to \$OUT}
  [ -f "$W/done" ] || { echo "training is not done yet"; tail -n 3 "$EXP/train.log.jsonl"; exit 1; }
  cp "$W"/ret/* "$out/"
  tar -C "$W" -cJf "$out/logs.tar.xz" exp/train.log.jsonl exp/config.json train.out corpus.log prep.log build.log \
    torch-cuda.log bench-kernels-cuda.json || true
  ls -la "$out"
}

"${1:?usage: gpu-train.sh all|start|train|collect}"
