#!/usr/bin/env bash
# On the GPU host (no Node, no apt; kernels/README.md): the synthetic corpus, the real-speech corpus, the
# kernels and the features, then a timed training run that ends by averaging and writing a float16 copy in
# parts small enough to come back (files from the host are capped at 16 MiB each, 8 files a call).
#
# Here, beforehand:  recipes/synthetic/gpu-corpus.sh kit (or only its `bundle` stage when only src/ changed:
#                    `start` refuses a nast-corpus.mjs made from other sources); node scripts/build-kernels.mjs
#                    --stage-headers .carry/node-api-headers; npm run build; and, for real speech, the recordings as
#                    .carry/speech/<source>/{manifest.tsv,*.opus} plus .carry/speech/speech.tsv (`nast corpus
#                    speech --from DIR --text-only --tsv ...`: apertium runs here); for the real-speech
#                    curve, a prepared test split as .carry/tst-AST.tar.xz (`nast prep ... --spm SPM` of `nast
#                    corpus asterisk`, its tst-AST folder's files; used only when its spmSha256 is that of
#                    the SPM below); an asset kit (`nast corpus assets`) in .carry/assets for the augmentation.
#
# THE CALL PLAN for one nvidia-h200 session (30 device minutes in all, the machine's start included; each
# call at most 10 minutes, 8 carried paths and 64 MiB = 67.1 MB with the working tree). The host is GIVEN
# BACK 30 s AFTER A CALL ENDS (and 30 minutes after it started, whatever runs): make every call right after
# the previous one returns, with nothing in between (the last attempt lost the machine, and the corpus it
# had half made, that way). What a call carries stays on the host for the later ones (ignored paths are
# kept there), and so does $W. Every call's command starts with the same exports, since each stage reads
# its own part of them:
#   export W=/tmp/nast-gpu INIT=models/default MAIN_FLAGS=--no-curriculum LR=5e-4 WARMUP=500 WAIT_FOR='prefix speech' \
#     CUDA_TESTS=0 ABLATIONS=0 TRAIN_END=1450 VALID_EVERY=400 KEEP_BEST=5 SKIP_FAILED=1 SEED=2 \
#     SPEECH=/tmp/nast-gpu/speech COPIES_OF=ljspeech_fixtures=8,dc_tts_philipp=8,hifitts_6097_whispercpp=8,misc_fixtures=8 \
#     SHIP='main ar' EXTRA_RUNS='ar 0 ar-small --init-encoder /tmp/nast-gpu/init --lr 1e-3 --warmup 800 --valid-split dev-real-unseen --also-validate dev-real,dev,tst-AST' \
#     TRAIN_SENTENCES=20000 HOURS=20; bash recipes/synthetic/gpu-train.sh STAGE
# (main ranks its checkpoints by dev-real-unseen when the speech corpus has it, as `nast corpus speech` now
# writes it; an EXTRA_RUNS line names its own splits. The lever not yet tried is the larger preset:
# PRESET=base with INIT unset, from scratch, continued in later sessions with INIT=its package.)
# (2026-12-02, stage 3: exactly this but for --init-encoder, which came after it; setup took 303 s, training
# 1,054 s, 8,166 updates of main; the whole chain, 8 calls with the second collect, held the machine 1,590 s.
# Its AR counterpart, from scratch, reached only dev BLEU 3.1 in 7,293 updates: the next one starts its
# encoder from the shipped model, $W/init, which `launch` copies there.)
# (2026-12-03, the ablation of the training sources from stage 1's weights, MODEL_CARD "What each training
# source adds": the same chain with stage 1's package as INIT (git show 803c986:models/default/FILE into
# .carry/stage1, carried in call 5 instead of models/default/model.onnx: 46.7 MB), and
#   I=/tmp/nast-gpu/init T=/tmp/nast-gpu/talks V='--valid-split dev-real --also-validate dev,tst-AST'
#   INIT=.carry/stage1 TRAIN_END=1380 EXTRA_RUNS="tts-plain 0 small --init $I --no-curriculum --train-talks
#   $T/tts-plain.txt $V;synthetic 0 ... $T/synthetic.txt $V;tts-plain-real 0 ... $T/tts-plain-real.txt $V;
#   ar 0 ar-small --init-encoder $I --lr 1e-3 --warmup 800 $V"
# The five runs took 261-323 ms per update each, 123-176k frames/s, and held 23-30 GB of GPU memory each:
# main ran out of memory at update 996. AT MOST FOUR such runs fit one H200 at 40k frames per batch.)
# (2026-12-03, the first try of the larger preset: PRESET=base from scratch, LR=1e-3 WARMUP=800, --no-curriculum,
# SEED=3, TRAIN_SENTENCES=20000 HOURS=20, every source; setup 379 s. It ran 228 ms per update (median) beside an
# AR run and left the CTC plateau slowly: source CTC loss 6.2 at update 500, 5.7 at 1,000, 5.3 at 2,750, with
# gradient norms of median 6.6 in the first 1,000 updates (30% of them clipped at 10) and 3.1 by 2,000-3,000.
# The 8-layer encoder of session 6's AR run from scratch (its auxiliary CTC, weight 0.3) went from 5.8 at 1,000
# to 4.5 at 2,500 with norms of ~1. At 2,800 base still transcribed nothing (WER 100%), and I stopped it. Lost
# with it: the AR run, which trained 11 minutes unvalidated because this kit's nast-corpus.mjs predated
# dev-real-unseen (now refused at `start` and by `nast train`), and two base runs at lr 3e-4 and 5e-4 that ran
# out of memory together at update ~300 (62 GB each; base beside AR had held 117 GB in all): at 40k frames,
# two base runs do not fit one H200. Next: base alone for a whole session, with a longer warm-up
# (2,000-4,000) or a lower peak.)
# (2026-12-03, the larger model grown from the shipped one: .carry/env.sh's exports were INIT=models/default
# MAIN_FLAGS=--no-curriculum LR=5e-4 WARMUP=800 TRAIN_END=1330 SEED=4 SHIP=main TRAIN_SENTENCES=20000 HOURS=20
# GROW='--acoustic-after 1,3,5,7 --textual-after 2,4,6 --acoustic-ffn 2048 --textual-ffn 2048', the rest as
# above, no EXTRA_RUNS; carried in call 1 with the kit. Setup 364 s; 5,028 updates in 873 s, 164 ms each alone on
# the H200; tst-AST stayed at 6.3-9.4 (MODEL_CARD "A larger model"). Its float16 average, 99 MB, needs two
# collect calls (FROM_PART); the second came more than 30 s after the first and found a bare host, so the last
# three parts were lost: make the second collect the very next step. The first call had also been refused
# once for want of a machine, which cost 91 s of the session's device time.)
# (2026-12-02, the shipped model's second stage: the same with LR 1e-3 and TRAIN_END=1320, then a 7th call
# `TRAIN_SECONDS=170 ... gpu-train.sh train` that resumed the run, averaged and brought the parts back; the
# lease had then held the machine 1,620 s. Its 1e-3 peak cost synthetic dev BLEU 34.8 -> 19 at first, hence
# a lower peak (3e-4 to 5e-4) when continuing a trained model.)
# models/default/model.onnx (30.3 MB) travels with the tree (4.5 MB without it): move it out of the tree
# for every call but call 5, and put it back afterwards. Sizes (MB): node.xz 23.9, tts-prefix.tar.xz 30.6,
# tts-prefix-human.tar.xz 35.9, assets 12.1, tst-AST.tar.xz 14.9, speech parts 13.5 + 61.0 + 25.5, dist 4.2, corpus.tsv.xz
# 1.6, node-api-headers 0.4, nast-corpus.mjs 0.2.
#   1. start         carry .carry/node.xz .carry/tts-prefix.tar.xz .carry/corpus.tsv.xz .carry/nast-corpus.mjs
#                    .carry/node-api-headers dist (64.2 MB with the tree): setup starts in the background
#                    (the kernels build; the corpus waits for the rest of the prefix)
#   2. ready prefix, gather   carry .carry/tts-prefix-human.tar.xz .carry/assets .carry/sp0 (the real speech as
#                    tar parts: gather(), below): the corpus starts (45 h with every voice and augmentation: 427 s
#                    on 16 cores), then the real speech (127 s) and the features (41 s)
#   3. gather        carry .carry/sp1
#   4. gather extract, ready speech   carry .carry/sp2 .carry/tst-AST.tar.xz (25.5 + 14.9 MB: model.onnx
#                    does not fit beside them)
#   5. launch, then watch 530   nothing carried, model.onnx in the tree: launch copies INIT to $W/init (later
#                    calls need no model.onnx); training starts when setup is done (543 s after `start` on
#                    2026-12-02: synthetic corpus 372 s, real speech 121 s, features 33 s; 303 s with
#                    TRAIN_SENTENCES=20000 HOURS=20)
#   6. watch 530     nothing carried
#   7. collect 540   nothing carried, OUT=$OUT: avg-RUN-fp16.part* of the runs in COLLECT (3 files of <= 15 MiB
#                    each for small) and logs.tar.xz (.gz without xz there) come back; here: cat the parts, then
#                    st_precision.py --float, then `nast export --int8 --fp16 [--blank-penalty X]` (the shipped form; X chosen on dev). One run's
#                    parts come back per call (64 MiB together): a run that does not fit is named, and a
#                    second call `COLLECT=RUN ... collect 0`, made at once, brings it.
#   Read "warm" in every call's answer: false after the first call means the host was given back in between
#   (a turn that came 30 s late) and this one is bare. Every stage after `start` then fails at once (exit 3,
#   held(), below): give the machine back or start the chain again; never watch a bare host.
#   A call's size is counted in disk blocks (`du -s --block-size=1`, not `du -b`); a call refused for size
#   costs nothing but the 30 s after which an idle host is given back. Helpers of a session share its device:
#   a helper's call or give_back between two calls of this plan ends the host and its setup (2026-12-02).
#   TRAIN_END=1450: training stops 24 minutes after `start` began, whatever setup took (its last
#   validation, the average and the parts take ~1 more), so that collect ends by ~27 minutes, inside the 30
#   device minutes with the machine's start (~80 s before `start` runs) and the transfers. From scratch (INIT unset,
#   e.g. PRESET=small): call 5 needs no model.onnx. A dry run of the chain without a GPU: DEVICE=cpu,
#   PRESET=tiny, a small .carry/corpus.tsv.xz and a small .carry/speech, in a copy of the tree as the host
#   gets it (every stage's output then takes seconds).
#
# Stages: `start` runs setup in the background and returns; a later call that brings more (the rest of the
# TTS prefix, the real speech; WAIT_FOR lists them) runs `ready NAME` when its files are there, and setup
# waits for what it needs; `launch` starts training in the background once setup is done; `watch N` watches
# it for N seconds; `collect [N]` waits (at most N s, default 540) for the end and copies the averaged
# float16 parts and every log to $OUT. `all` is setup, train and collect in one call. Every run resumes:
# calling the same chain again continues the same training. On nvidia-h200-x4 the ablations (runs(), below)
# train on GPUs 1-3 beside main; on one GPU (or DEVICE=cpu) only main runs.
# Environment: W (work folder, /tmp/nast-gpu), DEVICE (cuda; cpu for a dry run), HOURS (45: synthetic hours;
# the text is fixed when the TSV is made by `gpu-corpus.sh kit`: every train sentence of the TSV is spoken
# once whatever HOURS says, more hours speak some again), PRESET (small), TRAIN_SECONDS (600), TRAIN_END
# (unset; when set, training stops this many seconds after `start` began, less 90 s for the last
# validation, average and copy: TRAIN_SECONDS is what is left then), CALL_SECONDS (unset; for `all`: the
# call's whole limit, TRAIN_SECONDS is what is left of it after setup), LR (1e-3), WARMUP (800),
# VALID_EVERY (300), VALID_MAX (500 utterances), KEEP_BEST (5), THREADS (2: libtorch's CPU threads), SHIP
# (main: the run whose averaged weights come back), ABLATIONS (1), AR (0; 1: also train ar-$PRESET on GPU 0, PRESET small or tiny), UNFREEZE (300: the retro-fit trains only
# the LiSA parameters for this many updates), INIT (unset: main starts from these weights, e.g.
# models/default, instead of random ones), SPM (the SentencePiece model for prep: INIT's spm.model when INIT
# is a package folder, else .carry/spm.model, else models/default/spm.model; a fresh run takes its
# vocabulary size from it), MAIN_FLAGS (more `nast train` flags for main, e.g. --no-curriculum), SPEECH
# (.carry/speech when it holds speech.tsv: the real-speech corpus is made and trained on; validation ranks
# by its held-out speakers' clips whose sentences train lacks, dev-real-unseen, and logs dev-real beside it), COPIES (3: times each real train talk is written, each copy after the
# first augmented), COPIES_OF (unset; other counts for some sources, `nast corpus speech --copies-of`),
# SEED (1: of the synthetic and the real-speech corpus; another seed draws other voices and augmentations
# for the same sentences and clips, e.g. for a later stage), CUDA_TESTS (1: run the op tests of .carry/torch-tests on CUDA during setup), SHARDS
# (processes sharing the synthetic and the real-speech corpus: cores/4), and gpu-corpus.sh's JOBS and
# SKIP_FAILED and TRAIN_SENTENCES for the synthetic corpus (e.g. TRAIN_SENTENCES=20000 HOURS=20 for a stage
# that continues a trained model: training then starts ~3 minutes sooner).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${W:-/tmp/nast-gpu}
DEVICE=${DEVICE:-cuda}
HOURS=${HOURS:-45}
PRESET=${PRESET:-small}
TRAIN_SECONDS=${TRAIN_SECONDS:-600}
LR=${LR:-1e-3}
WARMUP=${WARMUP:-800}
VALID_EVERY=${VALID_EVERY:-300}
CORPUS=$W/corpus DATA=$W/data REAL=$W/real
SPEECH=${SPEECH:-.carry/speech}
if [ -z "${SPM:-}" ]; then
  if [ -n "${INIT:-}" ] && [ -f "${INIT%/}/spm.model" ]; then SPM=${INIT%/}/spm.model
  elif [ -f .carry/spm.model ]; then SPM=.carry/spm.model
  else SPM=models/default/spm.model; fi
fi
mkdir -p "$W/bin" "$W/ret"
unxz_to() { # the host may have no xz; python3 is there
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}
[ -x "$W/bin/node" ] || { unxz_to .carry/node.xz "$W/bin/node.tmp" && chmod +x "$W/bin/node.tmp" && mv "$W/bin/node.tmp" "$W/bin/node"; }
export PATH=$W/bin:$PATH

# The asset kit, once a call has brought it (read where it is used, not when setup starts: it may come later).
assets() { [ ! -f .carry/assets/manifest.tsv ] || echo "$PWD/.carry/assets"; }

setup() {
  local t0=$SECONDS
  rm -f "$W/corpus.rc"
  (need prefix
   if WORK=$W/kit HOURS=$HOURS AUG_ASSETS=$(assets) bash recipes/synthetic/gpu-corpus.sh remote "$CORPUS" > "$W/corpus.log" 2>&1; then echo 0; else echo $?; fi > "$W/corpus.rc") &
  local corpus=$!
  if [ ! -f kernels/build/nast_torch.node ]; then
    NODE=$W/bin/node bash kernels/build-gpu.sh > "$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }
    tail -n 4 "$W/build.log"
  fi
  if [ "$DEVICE" = cuda ] && [ "${CUDA_TESTS:-1}" = 1 ] && [ -d .carry/torch-tests ] && [ ! -f "$W/torch-cuda.log" ]; then
    # The op and gradient tests on CUDA (docs/gpu.md), while the corpus is being synthesized on the CPUs.
    NAST_TEST_DEVICE=cuda node --test --test-concurrency=1 $(ls .carry/torch-tests/*.test.js | grep -v native) > "$W/torch-cuda.log" 2>&1 || true
    grep -E '^# (tests|pass|fail)' "$W/torch-cuda.log" || true
    node dist/cli.js bench kernels --device cuda --json > "$W/bench-kernels-cuda.json" 2>&1 || true
  fi
  wait $corpus || true
  tail -n 6 "$W/corpus.log"
  [ "$(cat "$W/corpus.rc" 2>/dev/null)" = 0 ] || { echo "setup: the corpus failed (corpus.log above; SKIP_FAILED=1 keeps the talks that were made)"; exit 1; }
  echo "setup: corpus and kernels after $((SECONDS - t0)) s"
  local roots=(--mustc "$CORPUS") splits=train,dev,tst-COMMON,tst-HELDOUT
  if [ -n "$WITH_SPEECH" ]; then
    need speech
    speech_clips
    speech_corpus
    roots+=(--mustc "$REAL") splits+=,dev-real
    # The held-out speakers' clips with sentences that train lacks (nast corpus speech): they rank checkpoints.
    [ ! -d "$REAL/en-es/data/dev-real-unseen" ] || splits+=,dev-real-unseen
    echo "setup: real speech after $((SECONDS - t0)) s"
  fi
  node dist/cli.js prep "${roots[@]}" --pair en-es -o "$DATA" --spm "$SPM" --jobs "$(nproc)" --fp16 \
    --splits "$splits" > "$W/prep.log" 2>&1 || { tail -n 20 "$W/prep.log"; exit 1; }
  tail -n 6 "$W/prep.log"
  talk_lists
  tst_ast
  echo "setup: features after $((SECONDS - t0)) s"
  touch "$W/setup.done"
}

# $W/speech.tsv: $SPEECH/speech.tsv without the clips that the prefix's opusdec cannot decode (a broken clip
# fails its talk, and one failed talk fails `nast corpus speech`; 23 of 8,148 clips once came broken from a
# re-encoding). All clips are decoded once, on every core (~1.5 s per 100 clips on one core).
speech_clips() {
  [ ! -f "$W/speech.tsv" ] || return 0
  local tts=$W/kit/tts
  tail -n +2 "$SPEECH/speech.tsv" | cut -f1,2 | tr '\t' / |
    LD_LIBRARY_PATH=$tts/usr/lib/x86_64-linux-gnu:$tts/lib/x86_64-linux-gnu xargs -d '\n' -P "$(nproc)" -n 1 \
      sh -c '"$0" --quiet "$1/$2" /dev/null 2>/dev/null || echo "$2"' "$tts/usr/bin/opusdec" "$SPEECH" | sort > "$W/speech-broken.txt"
  awk -F'\t' -v broken="$W/speech-broken.txt" 'BEGIN { while ((getline f < broken) > 0) bad[f] = 1 }
    NR == 1 || !(($1 "/" $2) in bad)' "$SPEECH/speech.tsv" > "$W/speech.tsv.tmp"
  mv "$W/speech.tsv.tmp" "$W/speech.tsv"
  echo "setup: $(($(wc -l < "$W/speech.tsv") - 1)) real clips; $(wc -l < "$W/speech-broken.txt") that do not decode are left out ($W/speech-broken.txt)"
}

# The real-speech corpus: SHARDS processes (as the synthetic corpus: one Node process's own augmentation
# work limits it on many cores) of `nast corpus speech --shard`, then one without that writes the text
# files (and makes again any talk a shard failed). opusdec comes from the corpus kit's prefix (gpu-corpus.sh
# remote unpacked it under $W/kit/tts).
speech_corpus() {
  local kit shards per k pids=() p
  kit=$(assets)
  shards=${SHARDS:-$(( $(nproc) >= 8 ? $(nproc) / 4 : 1 ))}
  per=$(( ($(nproc) + shards - 1) / shards ))
  local common=(speech --from "$SPEECH" --tsv "$W/speech.tsv" -o "$REAL" --copies "${COPIES:-3}" --seed "${SEED:-1}"
    ${COPIES_OF:+--copies-of "$COPIES_OF"} --tools "$W/kit/tts" ${kit:+--aug-assets "$kit"})
  for ((k = 0; k < shards && shards > 1; k++)); do
    node .carry/nast-corpus.mjs "${common[@]}" --jobs "$per" --shard "$k/$shards" > "$W/speech$k.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  node .carry/nast-corpus.mjs "${common[@]}" --jobs "$(nproc)" > "$W/speech.log" 2>&1 || { tail -n 20 "$W/speech.log"; exit 1; }
  [ "$shards" -le 1 ] || tail -qn1 "$W"/speech[0-9]*.log
  tail -n 4 "$W/speech.log"
}

# Lists of the prepared train split's talks by source, for runs that train on some sources only
# (`nast train --train-talks`, e.g. an ablation in EXTRA_RUNS): $W/talks/tts-plain.txt (the talks of espeak-ng
# and flite, the engines of the first stage), synthetic.txt (every synthetic talk: those and the voices made
# from human recordings) and tts-plain-real.txt (espeak-ng, flite and the real speech). The engine of a
# synthetic talk is in its corpus's speakers.tsv; a real-speech talk is named real_N_cK (nast corpus speech).
talk_lists() {
  mkdir -p "$W/talks"
  python3 - "$DATA/train/index.json" "$CORPUS/en-es/speakers.tsv" "$W/talks" <<'PY'
import csv, json, os, sys
talks = sorted(set(json.load(open(sys.argv[1]))["columns"]["talk"]))
engine = {r["wav"][:-len(".wav")]: r["engine"] for r in csv.DictReader(open(sys.argv[2]), delimiter="\t")}
plain = [t for t in talks if engine.get(t) in ("espeak", "flite")]
synthetic = [t for t in talks if t in engine]
real = [t for t in talks if t.startswith("real_")]
for name, ids in (("tts-plain", plain), ("synthetic", synthetic), ("tts-plain-real", plain + real)):
    with open(os.path.join(sys.argv[3], name + ".txt"), "w") as f:
        f.write("".join(t + "\n" for t in ids))
print(f"talk lists: {len(talks)} train talks; tts-plain {len(plain)}, synthetic {len(synthetic)}, real {len(real)}, other {len(talks) - len(synthetic) - len(real)}")
PY
}

# A prepared real-speech test split, for its learning curve (never trained on): .carry/tst-AST.tar.xz,
# unpacked once it has come (at the end of setup, and again when training starts) and only when it was
# prepared with the data's SentencePiece model (its COMPLETE marker names that model's SHA-256).
tst_ast() {
  [ -f .carry/tst-AST.tar.xz ] && [ ! -f "$DATA/tst-AST/COMPLETE" ] && [ -f "$DATA/spm.model" ] || return 0
  rm -rf "$DATA/tst-AST.tmp" && mkdir -p "$DATA/tst-AST.tmp"
  python3 -c 'import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])' .carry/tst-AST.tar.xz "$DATA/tst-AST.tmp"
  local want have
  want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spmSha256"])' "$DATA/tst-AST.tmp/COMPLETE")
  have=$(sha256sum < "$DATA/spm.model" | cut -d' ' -f1)
  if [ "$want" = "$have" ]; then mv "$DATA/tst-AST.tmp" "$DATA/tst-AST"; echo "tst-AST: unpacked"
  else rm -rf "$DATA/tst-AST.tmp"; echo "tst-AST: left out, it was prepared with another SentencePiece model than $SPM"; fi
}

# WAIT_FOR lists what later calls bring (prefix: .carry/tts-prefix-human.tar.xz and the asset kit; speech:
# $SPEECH), each call then saying `ready NAME`; setup waits for a listed part only where it needs it.
need() {
  case " ${WAIT_FOR:-} " in *" $1 "*) ;; *) return 0 ;; esac
  [ -f "$W/ready-$1" ] && return 0
  echo "setup: waiting for a call to bring $1 (gpu-train.sh ready $1)"
  while [ ! -f "$W/ready-$1" ]; do sleep 2; done
}
ready() { held; touch "$W/ready-${1:?ready NAME}"; echo "ready: $1"; }
# Real speech in parts: the 93 MB of clips fit no single call beside the rest, and a call's size is counted in
# disk blocks, so thousands of small Opus files count ~20% more than their bytes. Here: one tar of the sources
# and speech.tsv, cut by `split -b` into .carry/sp0/, sp1/, ... (e.g. 13.5, 61 and 25.5 MB beside the other
# parts of calls 2-4). Every call that brings a part runs `gather`, which keeps it under $W/speech-parts; the
# call with the last one runs `gather extract` (the parts joined in order, unpacked into $SPEECH, which must lie
# outside .carry, e.g. $W/speech), then `ready speech`.
gather() {
  held
  mkdir -p "$W/speech-parts"
  local f
  for f in .carry/sp[0-9]/speech.part*; do [ ! -f "$f" ] || cp -f "$f" "$W/speech-parts/"; done
  if [ "${1:-}" = extract ]; then
    mkdir -p "$SPEECH"
    cat "$W"/speech-parts/speech.part* | tar -x -C "$SPEECH"
  fi
  echo "gather: $(ls "$W/speech-parts" | wc -l) parts; $(find "$SPEECH" -name '*.opus' 2>/dev/null | wc -l) clips in $SPEECH"
}
WITH_SPEECH=""
case " ${WAIT_FOR:-} " in *" speech "*) WITH_SPEECH=1 ;; esac
[ -f "$SPEECH/speech.tsv" ] && WITH_SPEECH=1

# INIT as launch copied it (a model package's model.onnx travels with the tree in one call only).
init_source() { if [ -e "$W/init" ]; then echo "$W/init"; else echo "${INIT:-}"; fi; }

# The runs: NAME GPU CONFIG [FLAGS...], one line each. `main` has every component on; SHIP names the run
# whose averaged weights come back (main by default). With ABLATIONS=1 (and the GPUs for it: nvidia-h200-x4)
# the ablations of the papers' components train beside it on the same data and settings, two to a GPU where the step is
# host-bound (one run leaves most of an H200 idle at 40k frames). `lisa-retrofit` starts once `no-lisa` has a
# checkpoint: LiSA retro-fitted onto that model, to compare with `main` (LiSA from scratch) at the same total
# number of updates.
runs() {
  local real="" init
  init=$(init_source)
  if [ -n "$WITH_SPEECH" ]; then
    local ast
    ast=$([ -f "$DATA/tst-AST/COMPLETE" ] && echo ,tst-AST)
    if [ -d "$DATA/dev-real-unseen" ]; then real="--valid-split dev-real-unseen --also-validate dev-real,dev$ast"
    else real="--valid-split dev-real --also-validate dev$ast"; fi
  fi
  # GROW: main trains a larger model grown from INIT (`nast grow INIT $GROW`, made by grow_init before training).
  if [ -n "${GROW:-}" ]; then echo "main 0 $W/grown.json --init $W/grown.safetensors $real ${MAIN_FLAGS:-}"
  else echo "main 0 $PRESET${init:+ --init $init} $real ${MAIN_FLAGS:-}"; fi
  # EXTRA_RUNS: more runs beside main, "NAME GPU CONFIG FLAGS..." separated by ';' (e.g. the AR counterpart
  # and a NAST from scratch with the same budget, sharing main's GPU: one small run leaves most of an H200 idle).
  local extra line
  IFS=';' read -ra extra <<< "${EXTRA_RUNS:-}"
  for line in "${extra[@]}"; do [ -z "${line// }" ] || echo "$line"; done
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
# next call carries what does not fit beside it. The machine keeps running it between calls; `all` and
# `launch` wait for it.
start() {
  local made want
  made=$(head -n 1 .carry/nast-corpus.mjs 2>/dev/null | sed -n 's|^// nast-corpus of src ||p')
  want=$(bash recipes/synthetic/src-digest.sh)
  if [ "$made" != "$want" ]; then
    echo "start: .carry/nast-corpus.mjs was not bundled from this tree's sources (src ${made:-unknown}, tree $want): run \`recipes/synthetic/gpu-corpus.sh bundle\` here and carry it again"
    exit 2
  fi
  [ -f "$W/t0" ] || date +%s > "$W/t0"
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
  [ -f "$W/t0" ] || date +%s > "$W/t0"
  wait_setup
  setup
  train
  collect
}

# Training in the background (`setsid`): it runs on between calls while the host is held.
launch() {
  held
  if [ -n "${INIT:-}" ] && [ ! -e "$W/init" ]; then
    # A copy, so that the calls after this one need not bring the model again.
    if [ -f "${INIT%/}/model.onnx" ]; then
      rm -rf "$W/init.tmp" && mkdir -p "$W/init.tmp" && cp "${INIT%/}"/{model.onnx,config.json,spm.model} "$W/init.tmp/" && mv "$W/init.tmp" "$W/init"
    elif [ -f "$INIT" ]; then cp "$INIT" "$W/init.tmp" && mv "$W/init.tmp" "$W/init"
    else echo "launch: $INIT is not here (a model package's model.onnx travels with the tree: carry it in this call)"; exit 1; fi
  fi
  setsid nohup bash -c "bash '$0' wait_setup; { [ -f '$W/setup.done' ] || bash '$0' setup; } && bash '$0' train" > "$W/launch.log" 2>&1 < /dev/null &
  echo $! > "$W/launch.pid"
  echo "training launched in the background (log: $W/launch.log)"
}

# GROW (e.g. "--acoustic-after 1,3,5,7 --textual-after 2,4,6 --acoustic-ffn 2048 --textual-ffn 2048"): the
# larger model main trains, grown from INIT so that it starts as INIT does (src/model/grow.ts), once, when
# training starts.
grow_init() {
  [ -n "${GROW:-}" ] && [ ! -f "$W/grown.safetensors" ] || return 0
  # shellcheck disable=SC2086 # GROW is a list of flags
  node dist/cli.js grow "$(init_source)" $GROW -o "$W/grown.safetensors" --config-out "$W/grown.json"
}

# A call that goes on with a chain must find the earlier calls' work on the host: a host given back between
# two calls (idle 30 s) comes back bare, and a `watch 540` there once spent 540 s of the session's device time
# watching nothing (2026-12-02). Each later stage fails at once instead, saying so.
held() {
  [ -f "$W/t0" ] || { echo "this host has none of the chain's earlier work ($W/t0 is missing): it was given back between calls and is a fresh one; start again from \`start\`"; exit 3; }
}

watch() { # SECONDS: watch the background run, at most this long
  held
  [ -f "$W/launch.pid" ] || { echo "watch: nothing was launched on this host"; exit 3; }
  local until=$((SECONDS + ${1:?watch SECONDS}))
  while [ $SECONDS -lt "$until" ] && [ ! -f "$W/done" ]; do sleep 10; done
  tail -n 5 "$W/launch.log" 2>/dev/null || true
  for name in $(runs | cut -d' ' -f1); do
    [ ! -f "$W/exp-$name/train.log.jsonl" ] || grep -E '"valid(_extra)?"' "$W/exp-$name/train.log.jsonl" | tail -n 3 | cut -c1-200
  done
  return 0
}

train() {
  rm -f "$W/done"
  tst_ast
  grow_init
  # TRAIN_END: the seconds after `start` by which training must have stopped; CALL_SECONDS: the call's whole
  # limit (`all`). Either way training gets what is left, less ~90 s (75 s for `all`) for the last
  # validation, checkpoint, average and copy.
  if [ -n "${TRAIN_END:-}" ]; then
    TRAIN_SECONDS=$(( $(cat "$W/t0" 2>/dev/null || date +%s) + TRAIN_END - $(date +%s) - 90 ))
  elif [ -n "${CALL_SECONDS:-}" ]; then
    TRAIN_SECONDS=$((CALL_SECONDS - SECONDS - 75))
  fi
  [ "$TRAIN_SECONDS" -ge 30 ] || TRAIN_SECONDS=30
  echo "train: $TRAIN_SECONDS s on $DEVICE"
  # One "GPU" on a CPU: only main runs there.
  local gpus=1 pids=() name gpu config flags envs
  [ "$DEVICE" != cuda ] || gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")
  while read -r name gpu config flags; do
    [ "$gpu" -lt "$gpus" ] || { echo "$name: skipped (GPU $gpu of $gpus)"; continue; }
    envs=()
    [ "$DEVICE" != cuda ] || envs=("CUDA_VISIBLE_DEVICES=$gpu")
    # --resume starts the run when its folder holds no checkpoint yet, and continues it when it does;
    # --max-seconds ends it cleanly (checkpoint included) before the call's limit, timeout is the safety net.
    env "${envs[@]}" timeout $((TRAIN_SECONDS + 120)) node dist/cli.js train --resume -c "$config" \
      -d "$DATA" -o "$W/exp-$name" --device "$DEVICE" --threads "${THREADS:-2}" --lr "$LR" --warmup "$WARMUP" --valid-every "$VALID_EVERY" \
      --valid-max "${VALID_MAX:-500}" --keep-best "${KEEP_BEST:-5}" --max-seconds "$TRAIN_SECONDS" --no-progress $flags \
      > "$W/train-$name.out" 2>&1 &
    pids+=($!)
    echo "$name: $DEVICE${envs[*]:+ ${envs[*]}}, $config $flags"
  done < <(runs)
  for p in "${pids[@]}"; do wait "$p" || true; done
  for name in $(runs | cut -d' ' -f1); do
    [ ! -f "$W/exp-$name/train.log.jsonl" ] || echo "$name: $(grep '"valid"' "$W/exp-$name/train.log.jsonl" | tail -n 1 | cut -c1-160)"
  done
  # A run that failed (e.g. an extra run that never wrote a checkpoint) costs only its own parts: the others'
  # still come back.
  local ship failed=0
  for ship in ${SHIP:-main}; do
    rm -f "$W/ret/avg-$ship-fp16.part"*
    if node dist/cli.js average "$W/exp-$ship" --best "${KEEP_BEST:-5}" -o "$W/avg-$ship.safetensors"; then
      python3 recipes/synthetic/st_precision.py --half "$W/avg-$ship.safetensors" "$W/avg-$ship-fp16.safetensors"
      split -b 15M -d "$W/avg-$ship-fp16.safetensors" "$W/ret/avg-$ship-fp16.part"
    else
      echo "$ship: no average (its log's end follows)"; tail -n 20 "$W/train-$ship.out"; failed=1
    fi
  done
  touch "$W/done"
  [ "$failed" = 0 ]
}

collect() { # [SECONDS]: wait at most this long (default 540) for training to end, then copy to $OUT
  held
  local out=${OUT:?collect writes to \$OUT} until=$((SECONDS + ${1:-540}))
  local pid
  pid=$(cat "$W/launch.pid" 2>/dev/null || true)
  while [ -n "$pid" ] && [ ! -f "$W/done" ] && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $until ]; do sleep 5; done
  [ -f "$W/done" ] || { echo "training is not done yet (or failed: $W/launch.log)"; tail -n 5 "$W/launch.log" 2>/dev/null; exit 1; }
  mkdir -p "$out"
  # COLLECT: which runs' parts come back in this call (default all of SHIP). A call brings back at most 8
  # files and 64 MiB together, and the device drops whatever is over (2026-12-02: main's last two parts
  # stayed behind ar's): a run that would pass 60 MiB (4 are kept for the logs) stays on the host, named.
  # A run larger than one call (a grown model: 99 MB in float16) comes back part by part: FROM_PART=N skips
  # the parts before N (the ones an earlier call brought), and the first part left behind is named.
  local ship part size total=0 limit=$((60 * 1024 * 1024)) left=""
  for ship in ${COLLECT:-${SHIP:-main}}; do
    ls "$W/ret/avg-$ship-fp16.part"* >/dev/null 2>&1 || { echo "collect: $ship has no average"; continue; }
    for part in "$W/ret/avg-$ship-fp16.part"*; do
      [ "$((10#${part##*.part}))" -ge "${FROM_PART:-0}" ] || continue
      size=$(wc -c < "$part")
      if [ -n "$left" ] || [ $((total + size)) -gt $limit ]; then
        [ -n "$left" ] || { left=1; echo "collect: $ship from ${part##*/} on stays on the host (over 64 MiB this call): FROM_PART=$((10#${part##*.part})) COLLECT=$ship collect 0"; }
        continue
      fi
      cp "$part" "$out/" && total=$((total + size))
    done
    left=""
  done
  # xz may be missing on the host: gzip then.
  local z=J ext=xz
  command -v xz >/dev/null || { z=z; ext=gz; }
  (cd "$W" && tar -c${z}f "$out/logs.tar.$ext" --ignore-failed-read exp-*/train.log.jsonl exp-*/config.json \
    $(ls exp-no-lisa/retrofit-base.safetensors.from kit/shard*.log speech[0-9]*.log speech-broken.txt 2>/dev/null) \
    $(ls train-*.out corpus.log speech.log prep.log build.log setup.log launch.log torch-cuda.log bench-kernels-cuda.json 2>/dev/null)) ||
    echo "collect: some logs could not be packed"
  ls -la "$out"
}

cmd=${1:?usage: gpu-train.sh all|start|ready NAME|gather [extract]|launch|watch SECONDS|collect [SECONDS]|setup|train}
shift
"$cmd" "$@"
