#!/usr/bin/env bash
# Evaluates an exported model package on MuST-C (or any corpus in MuST-C layout): every YAML segment of
# each test set translated, BLEU/chrF2/TER with sacreBLEU signatures, source WER, speed (nast eval).
#   recipes/mustc/eval.sh --corpus-root /data/MUST-C --model exp/en-es-base-cuda/model
#   recipes/mustc/eval.sh --corpus-root ROOT --model models/default --test-sets "dev tst-COMMON" --eval-args "--beam 5"
# Writes <out_dir>/<set>/{hyp.<tgt>, hyp.<src>, report.json, report.md} and prints a summary table.
# A set whose report is newer than the model is skipped (delete <out_dir>/<set>/.eval.done to redo it).
# Paths may hold spaces; nast, test_sets and eval_args are word lists (split on whitespace, never glob-expanded).
set -euo pipefail

# ---- settings
corpus_root=           # MuST-C root holding <pair>/data/<set>/ (required)
pair=en-es             # language pair
model=                 # model package written by `nast export` (default: models/default)
test_sets=tst-COMMON   # space-separated splits
out_dir=               # default: <model>/eval
eval_args=""           # extra `nast eval` flags, e.g. "--beam 5 --threads 2"
nast="${NAST:-}"       # the nast command; default: bin/nast.js of this checkout

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
parse_settings "corpus_root pair model test_sets out_dir eval_args nast" "$@"

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$recipe_dir/../.." && pwd)
words() { read -r -d '' -a "$1" <<< "$2" || true; }
if [ -n "$nast" ]; then words nast_cmd "$nast"; else nast_cmd=(node "$repo/bin/nast.js"); fi
words eval_extra "$eval_args"
words sets "$test_sets"
[ -n "$model" ] || model="$repo/models/default"
[ -n "$out_dir" ] || out_dir="$model/eval"
if [ -z "$corpus_root" ]; then
  echo "eval.sh: --corpus-root DIR is required (a MuST-C root holding $pair/data/)" >&2
  exit 2
fi
if [ ! -f "$model/model.onnx" ]; then
  echo "eval.sh: $model/model.onnx not found; export a checkpoint first: nast export CKPT -o $model" >&2
  exit 2
fi

status=0
for set in "${sets[@]}"; do
  out="$out_dir/$set"
  if [ -f "$out/.eval.done" ] && [ "$out/.eval.done" -nt "$model/model.onnx" ]; then
    log "$set: up to date ($out/report.md)"
    continue
  fi
  log "$set: nast eval -> $out"
  if "${nast_cmd[@]}" eval --mustc "$corpus_root" --pair "$pair" --split "$set" -m "$model" -o "$out" "${eval_extra[@]}" > /dev/null; then
    touch "$out/.eval.done"
  else
    log "$set: nast eval failed or some talks could not be read (see $out/report.md)"
    status=1
  fi
done

printf '\n| set | BLEU | chrF2 | TER | src WER | RTF | segments/s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for set in "${sets[@]}"; do
  report="$out_dir/$set/report.json"
  [ -f "$report" ] || continue
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const m = r.metrics;
    console.log(`| ${process.argv[2]} | ${m.bleu.score.toFixed(2)} | ${m.chrf.score.toFixed(2)} | ${m.ter.score.toFixed(2)} | ${r.sourceWer.wer.toFixed(2)} | ${r.speed.realTimeFactor.toFixed(4)} | ${r.speed.segmentsPerSecond.toFixed(2)} |`);
  ' "$report" "$set"
done
printf '\nBLEU signature: %s\n' "$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.metrics.bleu.signature)' "$out_dir/${sets[0]:-}/report.json" 2>/dev/null || echo n/a)"
exit $status
