#!/usr/bin/env bash
# Issue 7 on the GPU host (../shared/GPU.md): the big synthetic corpus, the kernels, the features, then a
# timed training run that ends by averaging and writing a float16 copy in parts small enough to come back
# (files from the host are capped at 16 MiB each).
#
# Here, beforehand:  recipes/synthetic/gpu-corpus.sh kit; node scripts/build-kernels.mjs --stage-headers
#                    .carry/node-api-headers; npm run build; a SentencePiece model of the corpus' train text
#                    in .carry/spm.model (nast prep --spm uses it: the host has no spm_train)
# On the host (carry .carry and dist):  bash recipes/synthetic/gpu-train.sh all
#   The host is given back 30 s after a call ends, and a call lasts at most 10 minutes: setup takes ~4 min on
#   16 cores (corpus 3.3, features 0.75), so the first call fits TRAIN_SECONDS of ~300. Calling `all` again at
#   once (within 30 s) finds the corpus, features and kernels done and resumes the same runs for TRAIN_SECONDS
#   more (~540 per call); every call ends with main's averaged float16 parts and every run's log in $OUT.
#   On nvidia-h200-x4 the ablations (runs(), below) train on GPUs 1-3 beside main; on one GPU only main runs.
#   To continue the shipped model (INIT=models/default), the kit and a tree holding model.onnx do not fit in
#   one call's 64 MiB: move model.onnx aside and call `start` carrying the kit (setup runs on in the
#   background), then, within 30 s, put it back and call `all` carrying only dist (it waits for the setup).
# Environment: W (work folder, /tmp/nast-gpu), HOURS (45; the size is fixed when the TSV is made by
# `gpu-corpus.sh kit`), PRESET (small), TRAIN_SECONDS (600), LR (1e-3), WARMUP (800), VALID_EVERY (300),
# CALL_SECONDS (unset; when set, TRAIN_SECONDS is what is left of it after setup), VALID_MAX (500 dev
# utterances), KEEP_BEST (5), SHIP (main: the run whose averaged weights come back), ABLATIONS (1),
# UNFREEZE (300: the retro-fit trains only the LiSA parameters for this many updates), INIT (unset: main
# starts from these weights, e.g. models/default, instead of random ones), CUDA_TESTS (1: run the op tests
# on CUDA during setup).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${W:-/tmp/nast-gpu}
HOURS=${HOURS:-45}
PRESET=${PRESET:-small}
TRAIN_SECONDS=${TRAIN_SECONDS:-600}
LR=${LR:-1e-3}
WARMUP=${WARMUP:-800}
VALID_EVERY=${VALID_EVERY:-300}
CORPUS=$W/corpus DATA=$W/data
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

# The runs: NAME GPU CONFIG [FLAGS...], one line each. `main` has every component on; SHIP names the run
# whose averaged weights come back (main by default). With ABLATIONS=1 (and the GPUs for it: nvidia-h200-x4)
# the issue-7 ablations train beside it on the same data and settings, two to a GPU where the step is
# host-bound (one run leaves most of an H200 idle at 40k frames). `lisa-retrofit` starts once `no-lisa` has a
# checkpoint: LiSA retro-fitted onto that model, to compare with `main` (LiSA from scratch) at the same total
# number of updates.
runs() {
  echo "main 0 $PRESET${INIT:+ --init $INIT}"
  [ "${ABLATIONS:-1}" = 1 ] || return 0
  echo "no-pae 1 models/configs/ablations/no-pae.json"
  echo "no-cla 1 models/configs/ablations/no-cla.json"
  echo "no-curriculum 2 $PRESET --no-curriculum"
  echo "no-lisa 3 models/configs/ablations/no-lisa.json"
  local base=$W/exp-no-lisa/retrofit-base.safetensors last
  if [ ! -f "$base" ]; then
    last=$(ls "$W"/exp-no-lisa/checkpoints/ckpt-*[0-9].safetensors 2>/dev/null | sort -t- -k2 -n | tail -n 1 || true)
    # The base must be fixed once: the no-lisa run prunes its checkpoints as it goes on.
    [ -n "$last" ] && cp "$last" "$base.tmp" && mv "$base.tmp" "$base" && basename "$last" > "$base.from"
  fi
  [ -f "$base" ] && echo "lisa-retrofit 2 $PRESET --retrofit-lisa $base --unfreeze-after ${UNFREEZE:-300}"
  return 0
}

# Setup in the background: for a call that must return at once, e.g. one that carries the kit while the
# next call carries a tree too big to travel beside it (models/default/model.onnx for INIT). The machine
# keeps running it between calls; `all` waits for it.
start() {
  setsid nohup bash "$0" setup > "$W/setup.log" 2>&1 < /dev/null &
  echo $! > "$W/setup.pid"
  echo "setup running in the background (log: $W/setup.log)"
}

all() {
  local pid
  pid=$(cat "$W/setup.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "waiting for the background setup (pid $pid)"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
    tail -n 3 "$W/setup.log"
  fi
  setup
  train
  collect
}

train() {
  rm -f "$W/done"
  # CALL_SECONDS: the call's whole limit; training gets what setup left, less ~75 s for the last validation,
  # checkpoint, average and copy.
  [ -z "${CALL_SECONDS:-}" ] || TRAIN_SECONDS=$((CALL_SECONDS - SECONDS - 75))
  echo "train: $TRAIN_SECONDS s"
  local gpus pids=() name gpu config flags
  gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")
  while read -r name gpu config flags; do
    [ "$gpu" -lt "$gpus" ] || { echo "$name: skipped (GPU $gpu of $gpus)"; continue; }
    # --resume starts the run when its folder holds no checkpoint yet, and continues it when it does;
    # --max-seconds ends it cleanly (checkpoint included) before the call's limit, timeout is the safety net.
    CUDA_VISIBLE_DEVICES=$gpu timeout $((TRAIN_SECONDS + 120)) node dist/cli.js train --resume -c "$config" -d "$DATA" \
      -o "$W/exp-$name" --device cuda --threads 2 --lr "$LR" --warmup "$WARMUP" --valid-every "$VALID_EVERY" \
      --valid-max "${VALID_MAX:-500}" --keep-best "${KEEP_BEST:-5}" --max-seconds "$TRAIN_SECONDS" --no-progress $flags \
      > "$W/train-$name.out" 2>&1 &
    pids+=($!)
    echo "$name: GPU $gpu, $config $flags"
  done < <(runs)
  for p in "${pids[@]}"; do wait "$p" || true; done
  for name in $(runs | cut -d' ' -f1); do
    [ -f "$W/exp-$name/train.log.jsonl" ] && echo "$name: $(grep '"valid"' "$W/exp-$name/train.log.jsonl" | tail -n 1 | cut -c1-160)"
  done
  node dist/cli.js average "$W/exp-${SHIP:-main}" --best "${KEEP_BEST:-5}" -o "$W/avg.safetensors"
  python3 recipes/synthetic/st_precision.py --half "$W/avg.safetensors" "$W/avg-fp16.safetensors"
  rm -f "$W"/ret/avg-fp16.part*
  split -b 15M -d "$W/avg-fp16.safetensors" "$W/ret/avg-fp16.part"
  touch "$W/done"
}

collect() {
  local out=${OUT:?collect writes to \$OUT}
  [ -f "$W/done" ] || { echo "training is not done yet"; exit 1; }
  cp "$W"/ret/* "$out/"
  (cd "$W" && tar -cJf "$out/logs.tar.xz" exp-*/train.log.jsonl exp-*/config.json exp-no-lisa/retrofit-base.safetensors.from \
    train-*.out corpus.log prep.log build.log 2>/dev/null) || true
  ls -la "$out"
}

"${1:?usage: gpu-train.sh all|start|setup|train|collect}"
