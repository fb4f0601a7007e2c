#!/usr/bin/env bash
# MuST-C speech-translation recipe for nast: prepare, train CTC-NAST (+LiSA), average, export, evaluate.
#
#   recipes/mustc/run.sh --corpus-root /data/MUSTC_v1.0 --pair en-de --preset small --device cuda
#   recipes/mustc/run.sh --stage 3 --stop-stage 5            # average, export and evaluate again
#
# The corpus root holds <pair>/data/{train,dev,tst-COMMON}/{wav,txt} as MuST-C distributes it (or a corpus
# built by `nast corpus synth`). Stages (icefall/ESPnet conventions, docs/design.md §8):
#   1 prep     nast prep: feature stores + SentencePiece          -> $data_dir            (.prep.done)
#   2 train    nast train (resumes from the last checkpoint)      -> $exp_dir/checkpoints (.train.done)
#   3 average  nast average of the best $n_average by dev BLEU    -> $exp_dir/avg-best$n_average.safetensors
#   4 export   nast export to an ONNX model package               -> $exp_dir/model       (.export.done)
#   5 eval     nast eval on each of $test_sets                    -> $exp_dir/eval-<set>  (.eval.done)
# Each stage is skipped when its output is complete; a killed stage reruns (training resumes). Deleting
# $data_dir or $exp_dir and rerunning is always safe. Stage 2 is complete only when training reached its end
# (--max-steps or --max-epochs): a training stopped by Ctrl-C or SIGTERM (nast train exits 130 or 143 after
# its checkpoint) stops the recipe with that status, and one that used up a --max-seconds slot (in
# train_args; nast train exits 0) ends the recipe after stage 2 with status 0; either way the next run resumes it.
# Paths may hold spaces or any other character; nast, train_args, prep_args, eval_args and test_sets are
# word lists (split on whitespace, never glob-expanded).
set -euo pipefail

# ---- settings (each one is also a --flag: --corpus-root, --pair, ...) ----
corpus_root=           # MuST-C root (required for stages 1 and 5)
pair=en-de             # language pair, a MuST-C directory name
preset=small           # model preset (tiny|small|base|repro) or a config JSON file
device=cpu             # cpu | cuda
nproc=1                # training ranks on this host, one per GPU (nast train --nproc)
max_frames=40000       # padded frames per micro-batch (the reference's 40k per GPU)
update_frames=320000   # frames per update over all ranks (the reference's 8 GPUs x 40k): --accum is
                       # update_frames / (max_frames x nproc), so the update is the same whatever the GPU count
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
parse_settings "corpus_root pair preset device nproc max_frames update_frames stage stop_stage vocab data_dir exp_dir n_average test_sets train_args prep_args eval_args nast" "$@"

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$recipe_dir/../.." && pwd)
# The word lists as arrays: split on whitespace (newlines included) only, so that no * or ? in them is expanded.
words() { read -r -d '' -a "$1" <<< "$2" || true; }
if [ -n "$nast" ]; then words nast_cmd "$nast"; else nast_cmd=(node "$repo/bin/nast.js"); fi
words train_extra "$train_args"
words prep_extra "$prep_args"
words eval_extra "$eval_args"
words sets "$test_sets"
preset_tag=$(basename "$preset" .json)
[ -n "$data_dir" ] || data_dir="data/${pair}-v${vocab}"
[ -n "$exp_dir" ] || exp_dir="exp/${pair}-${preset_tag}-${device}"
start_time=$(date +%s)

# Micro-batches per update on each rank: the global batch is update_frames whatever nproc is.
if ! [[ "$nproc" =~ ^[1-9][0-9]*$ && "$max_frames" =~ ^[1-9][0-9]*$ && "$update_frames" =~ ^[1-9][0-9]*$ ]] ||
   [ $((update_frames % (max_frames * nproc))) -ne 0 ]; then
  echo "run.sh: --update-frames ($update_frames) must be a multiple of --max-frames ($max_frames) x --nproc ($nproc)" >&2
  exit 2
fi
accum=$((update_frames / (max_frames * nproc)))
ranks=()
[ "$nproc" -gt 1 ] && ranks=(--nproc "$nproc")

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
    "${nast_cmd[@]}" prep --mustc "$corpus_root" --pair "$pair" -o "$data_dir" --vocab "$vocab" "${prep_extra[@]}"
    touch "$data_dir/.prep.done"
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: train $preset on $device ($nproc rank(s) x $accum micro-batch(es) of $max_frames frames per update) -> $exp_dir"
  if [ -f "$exp_dir/.train.done" ]; then
    log "Stage 2: $exp_dir/.train.done exists, skipping"
  else
    mkdir -p "$exp_dir"
    resume=()
    if [ -f "$exp_dir/checkpoints/latest.json" ]; then
      resume=(--resume)
      log "Stage 2: resuming from $exp_dir/checkpoints/latest.json"
    fi
    train_cmd=("${nast_cmd[@]}" train -c "$preset" -d "$data_dir" -o "$exp_dir" --device "$device" "${ranks[@]}"
      --max-frames "$max_frames" --accum "$accum" "${train_extra[@]}")
    # The exact command, so that this stage can be replayed by hand (ESPnet writes <exp>/run.sh the same way):
    # every word quoted with printf %q, so that replaying it runs nothing a path holds; relative paths are
    # relative to the directory the recipe ran in.
    {
      printf '#!/usr/bin/env bash\n# Replays stage 2 of %s; add --resume to continue a stopped run.\n' "$(printf '%q' "$0")"
      printf 'cd %q || exit\n' "$PWD"
      printf '%q ' "${train_cmd[@]}"
      printf '"$@"\n'
    } > "$exp_dir/train.sh"
    # A failed or signalled training (exit 130/143 after its checkpoint) stops the recipe here (set -e).
    "${train_cmd[@]}" "${resume[@]}"
    # Exit 0 and a --max-seconds stop: the slot is used up, the training is not finished (its last log record
    # says why it stopped).
    last=$(tail -n 1 "$exp_dir/train.log.jsonl" 2>/dev/null || true)
    if [[ "$last" == *'"event":"done"'*'"reason":"reached --max-seconds'* ]]; then
      log "Stage 2: training stopped at its --max-seconds slot, not finished; run the recipe again to resume it"
      exit 0
    fi
    touch "$exp_dir/.train.done"
  fi
fi

avg="$exp_dir/avg-best${n_average}.safetensors"
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: average the best $n_average checkpoints -> $avg"
  if [ -f "$avg" ] && [ "$avg" -nt "$exp_dir/.train.done" ]; then
    log "Stage 3: $avg is up to date, skipping"
  else
    "${nast_cmd[@]}" average "$exp_dir" --best "$n_average" -o "$avg"
  fi
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: export $avg -> $exp_dir/model"
  if [ -f "$exp_dir/model/.export.done" ] && [ "$exp_dir/model/.export.done" -nt "$avg" ]; then
    log "Stage 4: $exp_dir/model is up to date, skipping"
  else
    "${nast_cmd[@]}" export "$avg" -o "$exp_dir/model" --spm "$data_dir/spm.model" --force
    touch "$exp_dir/model/.export.done"
  fi
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  for set in "${sets[@]}"; do
    out="$exp_dir/eval-$set"
    log "Stage 5: evaluate $exp_dir/model on $set -> $out"
    if [ -f "$out/.eval.done" ] && [ "$out/.eval.done" -nt "$exp_dir/model/.export.done" ]; then
      log "Stage 5: $out is up to date, skipping"
      continue
    fi
    need_corpus 5
    "${nast_cmd[@]}" eval --mustc "$corpus_root" --pair "$pair" --split "$set" -m "$exp_dir/model" -o "$out" "${eval_extra[@]}"
    mkdir -p "$out"
    touch "$out/.eval.done"
  done
fi

log "Successfully finished. [elapsed=$(( $(date +%s) - start_time ))s]"
