#!/usr/bin/env bash
# Synthetic en-es recipe: make a speech-translation corpus with Debian's TTS engines and apertium, then
# prepare, train, average, export and evaluate exactly as the MuST-C recipe does (recipes/mustc/run.sh,
# which stages 1-5 call with this corpus as its root).
#
#   recipes/synthetic/run.sh --hours 1 --preset tiny                 # a small corpus and model, CPU
#   recipes/synthetic/run.sh --hours 45 --preset small --device cuda # the shipped model's corpus (see gpu-corpus.sh)
#   recipes/synthetic/run.sh --stage 5 --stop-stage 5                # evaluate again
#
# Stages:
#   0 corpus   nast corpus synth (resumes a killed run)  -> $corpus_dir/en-es/data/{train,dev,tst-COMMON,tst-HELDOUT} (.corpus.done)
#   1 prep     nast prep --mustc $corpus_dir --pair en-es -o $data_dir --vocab $vocab
#   2 train    nast train -c $preset -d $data_dir -o $exp_dir --device $device
#   3 average  nast average $exp_dir --best $n_average -o $exp_dir/avg-best$n_average.safetensors
#   4 export   nast export <avg> -o $exp_dir/model
#   5 eval     nast eval --mustc $corpus_dir --pair en-es --split <set> -m $exp_dir/model, for tst-COMMON
#              and tst-HELDOUT (tst-COMMON's sentences spoken by the held-out engine: the stand-in for
#              speech from voices the model never heard)
# Requires (Debian): espeak-ng festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite sox
# apertium-eng-spa fortunes wordnet-base.
set -euo pipefail

# ---- settings (each one is also a --flag: --hours, --seed, ...) ----
hours=1                # hours of speech in train+dev+tst-COMMON
seed=1
engines=espeak,festival,flite
holdout_engine=festival  # spoken only in tst-HELDOUT; "" keeps every engine in training
tsv=                   # sentences + translations from `nast corpus text` (skips apertium)
jobs=                  # parallel synthesis processes (default: all cores)
corpus_dir=            # default: data/synthetic-<hours>h-s<seed>
preset=tiny            # model preset (tiny|small|base|repro) or a config JSON file
device=cpu             # cpu | cuda
stage=0
stop_stage=5
vocab=4000             # SentencePiece vocabulary size (the shipped model's: 4000)
data_dir=              # default: data/synthetic-<hours>h-s<seed>-v<vocab>
exp_dir=               # default: exp/synthetic-<hours>h-<preset>-<device>
n_average=10
train_args=""          # extra `nast train` flags
nast="${NAST:-}"       # the nast command; default: bin/nast.js of this checkout

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
parse_settings "hours seed engines holdout_engine tsv jobs corpus_dir preset device stage stop_stage vocab data_dir exp_dir n_average train_args nast" "$@"

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$recipe_dir/../.." && pwd)
[ -n "$nast" ] || nast="node $repo/bin/nast.js"
[ -n "$corpus_dir" ] || corpus_dir="data/synthetic-${hours}h-s${seed}"
[ -n "$data_dir" ] || data_dir="${corpus_dir}-v${vocab}"
[ -n "$exp_dir" ] || exp_dir="exp/synthetic-${hours}h-$(basename "$preset" .json)-${device}"
test_sets="tst-COMMON"
[ -z "$holdout_engine" ] || test_sets="tst-COMMON tst-HELDOUT"
start_time=$(date +%s)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: synthesize ${hours} h (seed $seed, engines $engines, held out: ${holdout_engine:-none}) -> $corpus_dir"
  if [ -f "$corpus_dir/en-es/.corpus.done" ]; then
    log "Stage 0: $corpus_dir/en-es/.corpus.done exists, skipping"
  else
    args=(corpus synth -o "$corpus_dir" --pair en-es --hours "$hours" --seed "$seed" --engines "$engines")
    [ -z "$holdout_engine" ] || args+=(--holdout-engine "$holdout_engine")
    [ -z "$tsv" ] || args+=(--tsv "$tsv")
    [ -z "$jobs" ] || args+=(--jobs "$jobs")
    $nast "${args[@]}"
    touch "$corpus_dir/en-es/.corpus.done"
  fi
fi

if [ "$stop_stage" -ge 1 ]; then
  first=$(( stage > 1 ? stage : 1 ))
  log "Stages $first-$stop_stage: recipes/mustc/run.sh on $corpus_dir"
  "$repo/recipes/mustc/run.sh" --corpus-root "$corpus_dir" --pair en-es --preset "$preset" --device "$device" \
    --stage "$first" --stop-stage "$stop_stage" --vocab "$vocab" --data-dir "$data_dir" --exp-dir "$exp_dir" \
    --n-average "$n_average" --test-sets "$test_sets" --train-args "$train_args" --nast "$nast"
fi

log "Successfully finished. [elapsed=$(( $(date +%s) - start_time ))s]"
