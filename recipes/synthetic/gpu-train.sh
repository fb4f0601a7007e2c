#!/usr/bin/env bash
# On the GPU host (no Node, no apt; kernels/README.md): the synthetic corpus, the real-speech corpus, the
# kernels and the features, then a timed training run that ends by averaging and writing a float16 copy in
# parts small enough to come back (files from the host are capped at 16 MiB each).
#
# Here, beforehand:  recipes/synthetic/gpu-corpus.sh kit; node scripts/build-kernels.mjs --stage-headers
#                    .carry/node-api-headers; npm run build; and, for real speech, the recordings as
#                    .carry/speech/<source>/{manifest.tsv,*.opus} plus .carry/speech/speech.tsv (`nast corpus
#                    speech --from DIR --text-only --tsv ...`: apertium runs here); for the real-speech
#                    curve, a prepared test split as .carry/tst-AST.tar.xz (`nast prep ... --spm` of `nast
#                    corpus asterisk`, its tst-AST folder's files); an asset kit (`nast corpus assets`) in
#                    .carry/assets for the augmentation. The SentencePiece model is .carry/spm.model, else models/default/spm.model.
# On the host (carry .carry and dist):  bash recipes/synthetic/gpu-train.sh all
#   A call lasts at most 10 minutes and the host is given back 30 s after a call ends, so a longer run is
#   a chain of calls: `start` runs setup in the background and returns; a later call that brings more
#   (the TTS prefix, the real speech: each call carries at most 64 MiB; WAIT_FOR lists them) runs `ready
#   NAME` when its files are there, and setup waits for what it needs; `launch` starts training in
#   the background once setup is done; `watch N` watches it for N seconds; `collect` waits for the end and
#   copies the averaged float16 parts and every log to $OUT. `all` is setup, train and collect in one call.
#   Every run resumes: calling the same chain again continues the same training.
#   On nvidia-h200-x4 the ablations (runs(), below) train on GPUs 1-3 beside main; on one GPU only main runs.
# Environment: W (work folder, /tmp/nast-gpu), HOURS (45: synthetic hours; the text is fixed when the TSV is
# made by `gpu-corpus.sh kit`), PRESET (small), TRAIN_SECONDS (600), LR (1e-3), WARMUP (800), VALID_EVERY
# (300), CALL_SECONDS (unset; when set, TRAIN_SECONDS is what is left of it after setup), VALID_MAX (500
# utterances), KEEP_BEST (5), SHIP (main: the run whose averaged weights come back), ABLATIONS (1),
# UNFREEZE (300: the retro-fit trains only the LiSA parameters for this many updates), INIT (unset: main
# starts from these weights, e.g. models/default, instead of random ones), MAIN_FLAGS (more `nast train`
# flags for main, e.g. --no-curriculum), SPEECH (.carry/speech when it holds speech.tsv: the real-speech
# corpus is made and trained on; validation ranks by its held-out speakers, dev-real), COPIES (3: times each
# real train talk is written, each copy after the first augmented), CUDA_TESTS (1: run the op tests on CUDA
# during setup).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${W:-/tmp/nast-gpu}
HOURS=${HOURS:-45}
PRESET=${PRESET:-small}
TRAIN_SECONDS=${TRAIN_SECONDS:-600}
LR=${LR:-1e-3}
WARMUP=${WARMUP:-800}
VALID_EVERY=${VALID_EVERY:-300}
CORPUS=$W/corpus DATA=$W/data REAL=$W/real
SPEECH=${SPEECH:-.carry/speech}
SPM=.carry/spm.model
[ -f "$SPM" ] || SPM=models/default/spm.model
mkdir -p "$W/bin" "$W/ret"
[ -x "$W/bin/node" ] || { xz -dc .carry/node.xz > "$W/bin/node.tmp" && chmod +x "$W/bin/node.tmp" && mv "$W/bin/node.tmp" "$W/bin/node"; }
export PATH=$W/bin:$PATH

setup() {
  local t0=$SECONDS
  local assets=""
  [ ! -f .carry/assets/manifest.tsv ] || assets=$PWD/.carry/assets
  (need prefix; WORK=$W/kit HOURS=$HOURS AUG_ASSETS=$assets bash recipes/synthetic/gpu-corpus.sh remote "$CORPUS" > "$W/corpus.log" 2>&1; echo "corpus exit $?" >> "$W/corpus.log") &
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
  local roots=(--mustc "$CORPUS") splits=train,dev,tst-COMMON,tst-HELDOUT
  if [ -n "$WITH_SPEECH" ]; then
    need speech
    # opusdec comes from the corpus kit's prefix (gpu-corpus.sh remote unpacked it under $W/kit/tts).
    node .carry/nast-corpus.mjs speech --from "$SPEECH" --tsv "$SPEECH/speech.tsv" -o "$REAL" --copies "${COPIES:-3}" \
      --tools "$W/kit/tts" --jobs "$(nproc)" ${assets:+--aug-assets "$assets"} > "$W/speech.log" 2>&1 || { tail -n 20 "$W/speech.log"; exit 1; }
    tail -n 4 "$W/speech.log"
    roots+=(--mustc "$REAL") splits+=,dev-real
    echo "setup: real speech after $((SECONDS - t0)) s"
  fi
  node dist/cli.js prep "${roots[@]}" --pair en-es -o "$DATA" --spm "$SPM" --jobs "$(nproc)" --fp16 \
    --splits "$splits" > "$W/prep.log" 2>&1 || { tail -n 20 "$W/prep.log"; exit 1; }
  tail -n 6 "$W/prep.log"
  # A prepared real-speech test split, for its learning curve (never trained on): .carry/tst-AST.tar.xz.
  if [ -f .carry/tst-AST.tar.xz ] && [ ! -f "$DATA/tst-AST/COMPLETE" ]; then
    rm -rf "$DATA/tst-AST.tmp" && mkdir -p "$DATA/tst-AST.tmp" &&
      python3 -c 'import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])' .carry/tst-AST.tar.xz "$DATA/tst-AST.tmp" &&
      mv "$DATA/tst-AST.tmp" "$DATA/tst-AST"
  fi
  echo "setup: features after $((SECONDS - t0)) s"
  touch "$W/setup.done"
}

# WAIT_FOR lists what later calls bring (prefix: .carry/tts-prefix.tar.xz; speech: $SPEECH; model: INIT's
# package), each call then saying `ready NAME`; setup waits for a listed part only where it needs it.
need() {
  case " ${WAIT_FOR:-} " in *" $1 "*) ;; *) return 0 ;; esac
  [ -f "$W/ready-$1" ] && return 0
  echo "setup: waiting for a call to bring $1 (gpu-train.sh ready $1)"
  while [ ! -f "$W/ready-$1" ]; do sleep 2; done
}
ready() { touch "$W/ready-${1:?ready NAME}"; echo "ready: $1"; }
WITH_SPEECH=""
case " ${WAIT_FOR:-} " in *" speech "*) WITH_SPEECH=1 ;; esac
[ -f "$SPEECH/speech.tsv" ] && WITH_SPEECH=1

# The runs: NAME GPU CONFIG [FLAGS...], one line each. `main` has every component on; SHIP names the run
# whose averaged weights come back (main by default). With ABLATIONS=1 (and the GPUs for it: nvidia-h200-x4)
# the issue-7 ablations train beside it on the same data and settings, two to a GPU where the step is
# host-bound (one run leaves most of an H200 idle at 40k frames). `lisa-retrofit` starts once `no-lisa` has a
# checkpoint: LiSA retro-fitted onto that model, to compare with `main` (LiSA from scratch) at the same total
# number of updates.
runs() {
  local real=""
  [ -z "$WITH_SPEECH" ] || real="--valid-split dev-real --also-validate dev$([ -f "$DATA/tst-AST/COMPLETE" ] && echo ,tst-AST)"
  echo "main 0 $PRESET${INIT:+ --init $INIT} $real ${MAIN_FLAGS:-}"
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

wait_setup() {
  local pid
  pid=$(cat "$W/setup.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "waiting for the background setup (pid $pid)"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
    tail -n 3 "$W/setup.log"
  fi
}

all() {
  wait_setup
  setup
  train
  collect
}

# Training in the background (`setsid`): it runs on between calls while the host is held.
launch() {
  [ -z "${INIT:-}" ] || [ -f "${INIT%/}/model.onnx" ] || [ -f "$INIT" ] || { echo "launch: $INIT is not here"; exit 1; }
  setsid nohup bash -c "bash '$0' wait_setup; { [ -f '$W/setup.done' ] || bash '$0' setup; } && bash '$0' train" > "$W/launch.log" 2>&1 < /dev/null &
  echo $! > "$W/launch.pid"
  echo "training launched in the background (log: $W/launch.log)"
}

watch() { # SECONDS: watch the background run, at most this long
  local until=$((SECONDS + ${1:?watch SECONDS}))
  while [ $SECONDS -lt "$until" ] && [ ! -f "$W/done" ]; do sleep 10; done
  tail -n 5 "$W/launch.log"
  for name in $(runs | cut -d' ' -f1); do
    [ -f "$W/exp-$name/train.log.jsonl" ] && grep -E '"valid(_extra)?"' "$W/exp-$name/train.log.jsonl" | tail -n 3 | cut -c1-200
  done
  return 0
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
  local pid
  pid=$(cat "$W/launch.pid" 2>/dev/null || true)
  while [ -n "$pid" ] && [ ! -f "$W/done" ] && kill -0 "$pid" 2>/dev/null; do sleep 5; done
  [ -f "$W/done" ] || { echo "training is not done yet"; exit 1; }
  cp "$W"/ret/* "$out/"
  (cd "$W" && tar -cJf "$out/logs.tar.xz" exp-*/train.log.jsonl exp-*/config.json exp-no-lisa/retrofit-base.safetensors.from \
    train-*.out corpus.log speech.log prep.log build.log setup.log launch.log 2>/dev/null) || true
  ls -la "$out"
}

cmd=${1:?usage: gpu-train.sh all|start|ready NAME|launch|watch SECONDS|collect|setup|train}
shift
"$cmd" "$@"
