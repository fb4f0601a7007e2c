#!/usr/bin/env bash
# The big synthetic corpus (issue 7: >= 40,000 distinct sentences, >= 40 h, three TTS engines) made on
# a machine without Debian's TTS packages, Node modules or a package registry (the GPU host,
# ../shared/GPU.md), from a kit built here:
#
#   here:      recipes/synthetic/gpu-corpus.sh kit        # = prefix text bundle node check
#   GPU host:  bash recipes/synthetic/gpu-corpus.sh remote OUT_DIR     (with .carry/ carried along)
#
# Stages (each can be run alone; outputs go to .carry/, which git ignores):
#   prefix  `apt-get download` espeak-ng, festival (+ voices, lexicons), flite and sox, plus every
#           non-glibc library their programs load (found with ldd, repeated until nothing is missing),
#           `dpkg -x` them into one folder, drop what the corpus does not use (espeak-ng's non-English
#           dictionaries, festival's docs), tar+xz -> .carry/tts-prefix.tar.xz
#   text    sentences + apertium translations (apertium runs here) -> .carry/corpus.tsv.xz
#   bundle  `nast corpus` as one self-contained ES module (esbuild) -> .carry/nast-corpus.mjs
#   node    this machine's Node 20 binary, xz-compressed -> .carry/node.xz (runs unchanged on the host)
#   check   simulates the host here: in a private mount namespace (unshare -m) the system's espeak-ng,
#           festival, flite and sox data and binaries are hidden, then the kit synthesizes a few talks
#           from the prefix and `ldd` must resolve every prefix program without /usr/lib libraries
#           other than glibc's and libstdc++/libgcc's
#   remote  (on the host) unpack node, prefix and TSV under $WORK (default /tmp/nast-corpus) and run
#           SHARDS processes of `nast corpus synth --tsv ... --tools ... --shard k/SHARDS`, then one
#           without --shard that writes the text files -> OUT_DIR/en-es/data/...
#
# Environment: SENTENCES (45000), HOURS (45), SEED (1), HOLDOUT (festival), JOBS (all cores), SHARDS (JOBS/4),
# WORK (/tmp/nast-corpus), BUILD (/tmp/nast-corpus-build: downloaded .debs, unpacked prefix).
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.carry
BUILD=${BUILD:-/tmp/nast-corpus-build}
SENTENCES=${SENTENCES:-45000}
HOURS=${HOURS:-45}
SEED=${SEED:-1}
HOLDOUT=${HOLDOUT:-festival}
JOBS=${JOBS:-$(nproc)}
# One Node process mixes and encodes the audio of its talks itself: ~4 jobs per process keep it from
# being the bottleneck (measured here: its own CPU is ~1/4 of the engines' and sox's).
SHARDS=${SHARDS:-$(( JOBS >= 8 ? JOBS / 4 : 1 ))}
WORK=${WORK:-/tmp/nast-corpus}
mkdir -p "$CARRY"

# The packages whose programs and data the corpus uses (festival's voices and lexicons are data).
PACKAGES="espeak-ng espeak-ng-data libespeak-ng1 festival festlex-cmu festlex-poslex festvox-kallpc16k
  festvox-kdlpc16k festvox-us-slt-hts flite libflite1 sox libsox3"
# Libraries the host must provide itself: glibc's (they must match its ld.so), and the C++ runtime,
# which is backward compatible and newer there.
HOST_LIBS='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so'

libdirs() { # the prefix's library folders, for LD_LIBRARY_PATH
  local p=$1
  echo "$p/usr/lib/x86_64-linux-gnu:$p/lib/x86_64-linux-gnu:$p/usr/lib/x86_64-linux-gnu/pulseaudio"
}

stage_prefix() {
  local debs=$BUILD/debs prefix=$BUILD/prefix
  rm -rf "$prefix" && mkdir -p "$debs" "$prefix"
  (cd "$debs" && apt-get download $PACKAGES >/dev/null 2>&1)
  for d in "$debs"/*.deb; do dpkg -x "$d" "$prefix"; done
  # Close over shared libraries: whatever a prefix ELF file loads from the system (not glibc) comes
  # from a package to download and unpack too; repeat until nothing new appears.
  while :; do
    local missing
    missing=$(find "$prefix" -type f \( -path '*/bin/*' -o -name '*.so*' \) -exec sh -c 'file -L "$1" | grep -q ELF && echo "$1"' _ {} \; |
      LD_LIBRARY_PATH=$(libdirs "$prefix") xargs -r ldd 2>/dev/null |
      awk '/=>/ { print $1 " " $3 }' | grep -v " $prefix/" | grep -Ev "$HOST_LIBS" | awk '{ print $2 }' | sort -u || true)
    local pkgs=""
    for lib in $missing; do
      [ "$lib" = "not" ] && { echo "a library is not found on this machine either: ldd says 'not found'" >&2; exit 1; }
      pkgs+=" $(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1 || dpkg -S "$lib" | head -1 | cut -d: -f1)"
    done
    pkgs=$(echo $pkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
    [ -z "${pkgs// /}" ] && break
    echo "prefix: adding $pkgs"
    (cd "$debs" && apt-get download $pkgs >/dev/null 2>&1)
    for p in $pkgs; do dpkg -x "$debs/${p}_"*.deb "$prefix"; done
  done
  # Drop what the corpus never reads: other languages' espeak-ng dictionaries (en_dict stays),
  # mbrola voice definitions, documentation, manual pages, flite's one-voice programs.
  local data=$prefix/usr/lib/x86_64-linux-gnu/espeak-ng-data
  find "$data" -maxdepth 1 -name '*_dict' ! -name en_dict -delete
  rm -rf "$data/voices/mb" "$prefix/usr/share/doc" "$prefix/usr/share/man" "$prefix/usr/share/lintian" "$prefix/usr/share/doc-base"
  rm -f "$prefix"/usr/bin/flite_*
  ls "$debs" > "$prefix/PACKAGES"
  tar -C "$prefix" -cJf "$CARRY/tts-prefix.tar.xz" .
  echo "prefix: $(ls "$debs" | wc -l) packages, $(du -sh "$prefix" | cut -f1) unpacked, $(du -h "$CARRY/tts-prefix.tar.xz" | cut -f1) as $CARRY/tts-prefix.tar.xz"
}

stage_text() {
  local t0=$SECONDS
  node --import tsx src/cli/main.ts corpus text -o "$BUILD/corpus.tsv" --sentences "$SENTENCES" --seed "$SEED"
  xz -9 -T0 -c "$BUILD/corpus.tsv" > "$CARRY/corpus.tsv.xz"
  echo "text: $(($(wc -l < "$BUILD/corpus.tsv") - 1)) sentences in $((SECONDS - t0)) s, $(du -h "$CARRY/corpus.tsv.xz" | cut -f1) as $CARRY/corpus.tsv.xz"
}

stage_bundle() {
  # An entry that runs `nast corpus` alone: nothing else of nast (no onnxruntime, no kernels) comes along.
  echo 'import { run } from "./src/cli/corpus.ts";
run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.stderr.write(`nast corpus: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; });' |
    npx esbuild --bundle --platform=node --format=esm --target=node20 --sourcefile=nast-corpus.ts --loader=ts \
      --log-level=warning --outfile="$CARRY/nast-corpus.mjs"
  echo "bundle: $(du -h "$CARRY/nast-corpus.mjs" | cut -f1) as $CARRY/nast-corpus.mjs"
}

stage_node() {
  if [ ! -f "$CARRY/node.xz" ]; then xz -6 -T0 -c "$(readlink -f "$(command -v node)")" > "$CARRY/node.xz"; fi
  echo "node: $(du -h "$CARRY/node.xz" | cut -f1) as $CARRY/node.xz"
}

unxz_to() { # xz may be missing on the host; python3 is there
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

unpack() { # unpack the kit under $WORK
  mkdir -p "$WORK/tts"
  [ -x "$WORK/node" ] || { unxz_to "$CARRY/node.xz" "$WORK/node.tmp" && chmod +x "$WORK/node.tmp" && mv "$WORK/node.tmp" "$WORK/node"; }
  [ -d "$WORK/tts/usr" ] || { unxz_to "$CARRY/tts-prefix.tar.xz" "$WORK/tts.tar" && tar -C "$WORK/tts" -xf "$WORK/tts.tar" && rm "$WORK/tts.tar"; }
  [ -f "$WORK/corpus.tsv" ] || unxz_to "$CARRY/corpus.tsv.xz" "$WORK/corpus.tsv"
}

stage_check() {
  # Runs check-inner in a private mount namespace in which this machine's TTS programs, data and
  # libraries are hidden, so that only the prefix can make speech.
  rm -rf "$BUILD/check" "$BUILD/check-work"
  unxz_to "$CARRY/corpus.tsv.xz" "$BUILD/check-all.tsv"
  # A few sentences of each split (the TSV lists tst-COMMON, dev, then train).
  awk -F'\t' 'NR == 1 || n[$2]++ < 20' "$BUILD/check-all.tsv" > "$BUILD/check.tsv"
  unshare -m "$0" check-inner
  grep -h -m2 festival "$BUILD/check/en-es/speakers.tsv"
  echo "check: ok ($(find "$BUILD/check" -name '*.wav' | wc -l) talks made from the prefix alone)"
}

stage_check_inner() {
  for p in /usr/share/festival /usr/lib/x86_64-linux-gnu/espeak-ng-data /usr/bin/espeak-ng /usr/bin/festival /usr/bin/flite \
    /usr/bin/sox /usr/lib/x86_64-linux-gnu/libespeak-ng.so.1 /usr/lib/x86_64-linux-gnu/libflite.so.1 /usr/lib/x86_64-linux-gnu/libsox.so.3 \
    /usr/lib/x86_64-linux-gnu/libestools.so.2.5 /usr/lib/x86_64-linux-gnu/libpcaudio.so.0 /usr/lib/x86_64-linux-gnu/libsonic.so.0; do
    if [ -d "$p" ]; then mount -t tmpfs none "$p"; elif [ -e "$p" ]; then mount --bind /dev/null "$p"; fi
  done
  echo "check: the system's espeak-ng is hidden: $(espeak-ng --version 2>&1 | head -1 || true)"
  WORK=$BUILD/check-work
  unpack
  cp "$BUILD/check.tsv" "$WORK/corpus.tsv"
  local outside
  outside=$(LD_LIBRARY_PATH=$(libdirs "$WORK/tts") ldd "$WORK"/tts/usr/bin/{espeak-ng,festival,flite,sox} |
    awk '/=>/ { print $1 " " $3 }' | grep -v " $WORK/tts/" | grep -Ev "$HOST_LIBS" || true)
  if [ -n "$outside" ]; then echo "check: libraries from outside the prefix: $outside" >&2; exit 1; fi
  SHARDS=2 synth_sharded "$BUILD/check" "$WORK/corpus.tsv" "$WORK/tts" 0.1
}

synth_sharded() { # OUT_DIR TSV PREFIX HOURS: SHARDS processes of JOBS/SHARDS jobs each, then the text files
  local out=$1 tsv=$2 prefix=$3 hours=$4 t0=$SECONDS pids=() k
  local per=$(( (JOBS + SHARDS - 1) / SHARDS ))
  local common=(synth --tsv "$tsv" --tools "$prefix" -o "$out" --hours "$hours" --seed "$SEED" --holdout-engine "$HOLDOUT")
  for ((k = 0; k < SHARDS; k++)); do
    "$WORK/node" "$CARRY/nast-corpus.mjs" "${common[@]}" --jobs "$per" --shard "$k/$SHARDS" > "$WORK/shard$k.log" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || { failed=1; cat "$WORK/shard$k.log" >&2; }; done
  [ $failed = 0 ] || { echo "some shards failed (above); run the same command again to finish" >&2; exit 1; }
  tail -qn1 "$WORK"/shard*.log
  "$WORK/node" "$CARRY/nast-corpus.mjs" "${common[@]}" --jobs "$JOBS"
  echo "synth: $((SECONDS - t0)) s wall for the corpus with $SHARDS shards x $per jobs"
}

stage_remote() {
  local out=${1:?usage: gpu-corpus.sh remote OUT_DIR}
  local t0=$SECONDS
  unpack
  echo "remote: kit unpacked in $((SECONDS - t0)) s under $WORK"
  synth_sharded "$out" "$WORK/corpus.tsv" "$WORK/tts" "$HOURS"
}

case "${1:-}" in
  prefix) stage_prefix ;;
  text) stage_text ;;
  bundle) stage_bundle ;;
  node) stage_node ;;
  check) stage_check ;;
  check-inner) stage_check_inner ;;
  kit) stage_prefix; stage_text; stage_bundle; stage_node; stage_check
       echo "kit: $(du -ch "$CARRY"/{tts-prefix.tar.xz,corpus.tsv.xz,nast-corpus.mjs,node.xz} | tail -1 | cut -f1) to carry (limit 64 MiB)" ;;
  remote) shift; stage_remote "$@" ;;
  *) sed -n '2,30p' "$0"; exit 2 ;;
esac
