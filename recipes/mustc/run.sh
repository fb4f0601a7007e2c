#!/usr/bin/env bash
# MuST-C speech-translation recipe for nast: prepare, train CTC-NAST (+LiSA), average, export, evaluate.
#
#   recipes/mustc/run.sh --corpus-root /data/MUSTC_v1.0 --pair en-de --preset small --device cuda
#   recipes/mustc/run.sh --stage 3 --stop-stage 5            # average, export and evaluate again
#
# The corpus root holds <pair>/data/{train,dev,tst-COMMON}/{wav,txt} as MuST-C distributes it (or a corpus
# built by `nast corpus synth`). Stages (icefall/ESPnet conventions, style-anchors.md §3):
#   1 prep     nast prep: feature stores + SentencePiece          -> $data_dir            (.prep.done)
#   2 train    nast train (resumes from the last checkpoint)      -> $exp_dir/checkpoints (.train.done)
#   3 average  nast average of the best $n_average by dev BLEU    -> $exp_dir/avg-best$n_average.safetensors
#   4 export   nast export to an ONNX model package               -> $exp_dir/model       (.export.done)
#   5 eval     nast eval on each of $test_sets                    -> $exp_dir/eval-<set>  (.eval.done)
# Each stage is skipped when its output is complete; a killed stage reruns (training resumes). Deleting
# $data_dir or $exp_dir and rerunning is always safe.
set -euo pipefail

# ---- settings (each one is also a --flag: --corpus-root, --pair, ...) ----
corpus_root=           # MuST-C root (required for stages 1 and 5)
pair=en-de             # language pair, a MuST-C directory name
preset=small           # model preset (tiny|small|base|repro) or a config JSON file
device=cpu             # cpu | cuda
stage=1
stop_stage=5
vocab=8000             # SentencePiece vocabulary size
data_dir=              # default: data/<pair>-v<vocab>
exp_dir=               # default: exp/<pair>-<preset>-<device>
n_average=10           # checkpoints averaged in stage 3 (the reference recipe: best 10)
test_sets="tst-COMMON"
train_args=""          # extra `nast train` flags, e.g. "--max-steps 20000 --lr 1e-3"
prep_args=""           # extra `nast prep` flags
eval_args=""           # extra `nast eval` flags
nast="${NAST:-}"       # the nast command; default: bin/nast.js of this checkout

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
parse_settings "corpus_root pair preset device stage stop_stage vocab data_dir exp_dir n_average test_sets train_args prep_args eval_args nast" "$@"

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$recipe_dir/../.." && pwd)
[ -n "$nast" ] || nast="node $repo/bin/nast.js"
preset_tag=$(basename "$preset" .json)
[ -n "$data_dir" ] || data_dir="data/${pair}-v${vocab}"
[ -n "$exp_dir" ] || exp_dir="exp/${pair}-${preset_tag}-${device}"
start_time=$(date +%s)

need_corpus() {
  if [ -z "$corpus_root" ]; then
    echo "run.sh: stage $1 needs --corpus-root DIR (a MuST-C root holding $pair/data/)" >&2
    exit 2
  fi
}

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: prepare $corpus_root ($pair) -> $data_dir"
  if [ -f "$data_dir/.prep.done" ]; then
    log "Stage 1: $data_dir/.prep.done exists, skipping"
  else
    need_corpus 1
    # shellcheck disable=SC2086  # *_args are word lists by design
    $nast prep --mustc "$corpus_root" --pair "$pair" -o "$data_dir" --vocab "$vocab" $prep_args
    touch "$data_dir/.prep.done"
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: train $preset on $device -> $exp_dir"
  if [ -f "$exp_dir/.train.done" ]; then
    log "Stage 2: $exp_dir/.train.done exists, skipping"
  else
    mkdir -p "$exp_dir"
    resume=""
    if [ -f "$exp_dir/checkpoints/latest.json" ]; then
      resume="--resume"
      log "Stage 2: resuming from $exp_dir/checkpoints/latest.json"
    fi
    # The exact command, so that this stage can be replayed by hand (ESPnet writes <exp>/run.sh the same way).
    cmd="$nast train -c $preset -d $data_dir -o $exp_dir --device $device $train_args"
    printf '#!/usr/bin/env bash\n# Replays stage 2 of %s; add --resume to continue a stopped run.\n%s "$@"\n' "$0" "$cmd" > "$exp_dir/train.sh"
    # shellcheck disable=SC2086
    $cmd $resume
    touch "$exp_dir/.train.done"
  fi
fi

avg="$exp_dir/avg-best${n_average}.safetensors"
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: average the best $n_average checkpoints -> $avg"
  if [ -f "$avg" ] && [ "$avg" -nt "$exp_dir/.train.done" ]; then
    log "Stage 3: $avg is up to date, skipping"
  else
    $nast average "$exp_dir" --best "$n_average" -o "$avg"
  fi
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: export $avg -> $exp_dir/model"
  if [ -f "$exp_dir/model/.export.done" ] && [ "$exp_dir/model/.export.done" -nt "$avg" ]; then
    log "Stage 4: $exp_dir/model is up to date, skipping"
  else
    $nast export "$avg" -o "$exp_dir/model" --spm "$data_dir/spm.model"
    touch "$exp_dir/model/.export.done"
  fi
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for set in $test_sets; do
    out="$exp_dir/eval-$set"
    log "Stage 5: evaluate $exp_dir/model on $set -> $out"
    if [ -f "$out/.eval.done" ] && [ "$out/.eval.done" -nt "$exp_dir/model/.export.done" ]; then
      log "Stage 5: $out is up to date, skipping"
      continue
    fi
    need_corpus 5
    # shellcheck disable=SC2086
    $nast eval --mustc "$corpus_root" --pair "$pair" --split "$set" -m "$exp_dir/model" -o "$out" $eval_args
    mkdir -p "$out"
    touch "$out/.eval.done"
  done
fi

log "Successfully finished. [elapsed=$(( $(date +%s) - start_time ))s]"
