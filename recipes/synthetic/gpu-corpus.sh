#!/usr/bin/env bash
# The big synthetic corpus (>= 40,000 distinct sentences, >= 40 h, several TTS engines) made on
# a machine without Debian's TTS packages, ffmpeg, Node modules or a package registry (the GPU host;
# kernels/README.md), from a kit built here:
#
#   here:      recipes/synthetic/gpu-corpus.sh kit        # = prefix text bundle node check
#   GPU host:  bash recipes/synthetic/gpu-corpus.sh remote OUT_DIR     (with .carry/ carried along; or
#              first `unpack` with what one call carries, then `remote` with the rest)
#
# Stages (each can be run alone; outputs go to .carry/, which git ignores):
#   prefix  `apt-get download` espeak-ng, festival (+ voices, lexicons), flite, MBROLA (+ us1, us2, us3,
#           en1), RHVoice (+ English voices), SVOX Pico, sox with its flac and gsm plugins, and lame and
#           opus-tools (the codec augmentation), plus every non-glibc library their programs and sox's
#           plugins load (found with ldd, repeated until nothing is missing), `dpkg -x` them into one
#           folder, drop what the corpus does not use (programs it never runs, espeak-ng's non-English
#           dictionaries, RHVoice's non-free and 24 kHz voice data, Pico's other languages, sox's other
#           plugins, docs), put the MBROLA databases where espeak-ng's --path finds them, wrap pico2wave
#           and point libsox at a fixed plugin folder (below: both have their data folder compiled in),
#           tar+xz in two parts: .carry/tts-prefix.tar.xz (the test splits' engines espeak-ng,
#           festival kal/ked/slt, flite; sox; codecs; 30.6 MB) and .carry/tts-prefix-human.tar.xz
#           (MBROLA, its databases as FLAC; RHVoice; Pico; rab/don; 35.9 MB), which can travel in
#           separate calls. Needs Debian's contrib and non-free components (scripts/apt-components.sh).
#   text    sentences + apertium translations (apertium runs here) -> .carry/corpus.tsv.xz
#   bundle  `nast corpus` as one self-contained ES module (esbuild) -> .carry/nast-corpus.mjs
#   node    this machine's Node 20 binary, xz-compressed -> .carry/node.xz (runs unchanged on the host)
#   check   simulates the host here: in a private mount namespace (unshare -m) the system's engines
#           (programs, data, libraries: espeak-ng, festival, flite, mbrola, RHVoice, Pico, sox and its
#           plugin folder, lame, opus-tools) and the other system files the prefix's programs read are
#           hidden (stage_check_inner lists them), `ldd` must resolve every prefix program and sox
#           plugin without /usr/lib libraries other than glibc's and libstdc++/libgcc's, the kit is
#           unpacked as on the host (MBROLA restored from FLAC by the prefix's sox), every voice of
#           every engine speaks a sentence from the prefix, sox's flac and gsm plugins and the codecs
#           run, and every augmentation kind is applied once (recipes/synthetic/check-voices.ts, through
#           src/corpus/engines.ts and augment.ts), then the kit synthesizes a few talks, training talks
#           with every augmentation kind on and the asset kit (AUG_ASSETS, default .carry/assets, else
#           made with `nast corpus assets`), and `nast corpus speech` makes real-speech talks from a
#           few Opus clips (made here by espeak-ng and opusenc) through the prefix's opusdec. CHECK_TSV=
#           FILE uses that TSV (from `nast corpus text`) instead of .carry/corpus.tsv.xz, so that check
#           can run before the long text stage.
#   unpack  (on the host) unpack what this call carries of the kit under $WORK, for a kit that comes in
#           several calls: e.g. node and tts-prefix.tar.xz first, then tts-prefix-human.tar.xz and the
#           rest with `remote`
#   remote  (on the host) unpack node, prefix and TSV under $WORK (default /tmp/nast-corpus) and run
#           SHARDS processes of `nast corpus synth --tsv ... --tools ... --shard k/SHARDS`, then one
#           without --shard that writes the text files -> OUT_DIR/en-es/data/...
#
# The MBROLA databases travel as FLAC (pack_mbrola): 17.4 MB against 22.5 MB with xz -9e alone and 20.3 MB
# with xz's delta filter, which would put tts-prefix-human.tar.xz at ~39-41 MB, too big to travel beside
# the asset kit in one call. The FLAC costs nothing in robustness that the GSM channel does not need
# anyway: both need the prefix's sox plugins, which check proves with the system's hidden, and a
# database that does not restore byte for byte (SHA-256) stops unpack.
#
# Environment: SENTENCES (45000), TRAIN_SENTENCES (unset: `remote` speaks only the TSV's first N train
# sentences, with every dev and test row; set HOURS with it, about 0.9 h per 1,000 train sentences plus 1.4 h
# for dev and the tests, since HOURS beyond that speaks sentences again), HOURS (45), SEED (1), HOLDOUT (festival), ENGINES (`nast corpus synth`'s
# default: all), AUG_ASSETS (an asset kit of `nast corpus assets` for the augmentation), JOBS (all cores),
# SHARDS (JOBS/4), SKIP_FAILED (write the text files of the talks that were made even if some failed),
# WORK (/tmp/nast-corpus), BUILD (/tmp/nast-corpus-build: downloaded .debs, unpacked prefix), CHECK_TSV
# (check's sentences; default .carry/corpus.tsv.xz).
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.carry
BUILD=${BUILD:-/tmp/nast-corpus-build}
SENTENCES=${SENTENCES:-45000}
HOURS=${HOURS:-45}
SEED=${SEED:-1}
HOLDOUT=${HOLDOUT:-festival}
ENGINES=${ENGINES:-}
JOBS=${JOBS:-$(nproc)}
# One Node process mixes and encodes the audio of its talks itself: ~4 jobs per process keep it from
# being the bottleneck (measured here: its own CPU is ~1/4 of the engines' and sox's).
SHARDS=${SHARDS:-$(( JOBS >= 8 ? JOBS / 4 : 1 ))}
WORK=${WORK:-/tmp/nast-corpus}
mkdir -p "$CARRY"

# The packages whose programs and data the corpus uses (festival's voices and lexicons are data).
# festvox-rablpc16k and festvox-don come without festlex-oald (non-commercial; engines.ts gives them the
# CMU lexicon); mbrola and those two are in Debian's contrib, the MBROLA voices, RHVoice and Pico in
# non-free.
PACKAGES="espeak-ng espeak-ng-data libespeak-ng1 festival festlex-cmu festlex-poslex festvox-kallpc16k
  festvox-kdlpc16k festvox-us-slt-hts flite libflite1 sox libsox3 libsox-fmt-base
  mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 festvox-rablpc16k festvox-don
  rhvoice rhvoice-english librhvoice-core7 librhvoice-audio2 libttspico-utils libttspico-data libttspico0
  lame libmp3lame0 opus-tools"
# The programs the corpus runs: the prefix keeps the libraries these load, and the check proves each
# resolves inside the prefix. HUMAN_PROGRAMS go with their libraries into tts-prefix-human.tar.xz.
BASE_PROGRAMS="espeak-ng festival flite sox lame opusenc opusdec"
HUMAN_PROGRAMS="mbrola RHVoice-test pico2wave.bin"
PROGRAMS="$BASE_PROGRAMS $HUMAN_PROGRAMS"
# sox's format handlers that the corpus uses and that Debian's libsox3 builds as plugins (package
# libsox-fmt-base): flac (restore_mbrola) and gsm (the GSM 06.10 channel of src/corpus/codecs.ts); wav
# and raw are built into libsox. libsox loads plugins only from its compiled-in folder (sox's
# src/formats.c: lt_dlforeachfile(PKGLIBDIR, ...), and libltdl searches only that path then, no
# environment variable): the prefix's libsox.so.3 is patched to look in SOX_PLUGINS instead, which
# `unpack` links to the prefix's plugin folder (link_sox_plugins).
SOX_FORMATS="flac gsm"
SOX_PLUGINS=/tmp/nast-sox-plugins
sox_plugins() { # the plugins as paths relative to the prefix's usr/bin (where needed_libs runs ldd)
  local f
  for f in $SOX_FORMATS; do echo "../lib/x86_64-linux-gnu/sox/libsox_fmt_$f.so"; done
}
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
  (cd "$debs" && apt-get download $PACKAGES >/dev/null 2>&1) ||
    { echo "prefix: apt-get download failed; contrib and non-free need scripts/apt-components.sh, then apt-get update" >&2; exit 1; }
  for d in "$debs"/*.deb; do dpkg -x "$d" "$prefix"; done
  # Programs the corpus never runs go before the closure, so that their libraries do not come along
  # (RHVoice's D-Bus service and client, flite's one-voice programs, opusinfo, festival's client).
  rm -f "$prefix"/usr/bin/{RHVoice-client,RHVoice-service,opusinfo,festival_client,text2wave} "$prefix"/usr/bin/flite_*
  rm -rf "$prefix/usr/share/dbus-1"
  # The other sox plugins would bring libsndfile, libvorbis, wavpack, ... for formats the corpus never reads.
  local keep=() f
  for f in $SOX_FORMATS; do keep+=(! -name "libsox_fmt_$f.so"); done
  find "$prefix/usr/lib/x86_64-linux-gnu/sox" -type f "${keep[@]}" -delete
  # pico2wave has /usr/share/pico/lang/ compiled in and no option for it: the prefix's copy is patched
  # to the same-length relative path ".//.../lang/" and run by a wrapper from usr/share/pico, so output
  # paths must be absolute (engines.ts makes them so). The path is the one constant in Debian's
  # pico2wave.c (PICO_LINGWARE_PATH); the patch refuses to run unless it is found exactly once.
  mv "$prefix/usr/bin/pico2wave" "$prefix/usr/bin/pico2wave.bin"
  python3 - "$prefix/usr/bin/pico2wave.bin" <<'PY'
import sys
path = sys.argv[1]
data = open(path, "rb").read()
old = b"/usr/share/pico/lang/\0"
new = b"./" + b"/" * (len(old) - len(b"./lang/\0")) + b"lang/\0"
assert len(new) == len(old) and data.count(old) == 1, "pico2wave: the compiled-in language path is not there exactly once"
open(path, "wb").write(data.replace(old, new))
PY
  cat > "$prefix/usr/bin/pico2wave" <<'SH'
#!/bin/sh
# pico2wave from this prefix: its language folder is compiled in as a relative path (gpu-corpus.sh).
cd "${0%/*}/../share/pico" || exit 1
exec ../../bin/pico2wave.bin "$@"
SH
  chmod +x "$prefix/usr/bin/pico2wave"
  # Close over shared libraries: whatever a prefix ELF file loads from the system (not glibc) comes
  # from a package to download and unpack too; repeat until nothing new appears.
  while :; do
    # libao's output plugins (pulled in by RHVoice's audio library) play sound, which the corpus never
    # does; they are loaded with dlopen and one of them needs a library Debian does not install.
    rm -rf "$prefix/usr/lib/x86_64-linux-gnu/ao"
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
  # Drop what the corpus never reads: other languages' espeak-ng dictionaries (en_dict stays), the
  # other MBROLA voice definitions and phoneme tables, documentation, manual pages.
  local data=$prefix/usr/lib/x86_64-linux-gnu/espeak-ng-data
  find "$data" -maxdepth 1 -name '*_dict' ! -name en_dict -delete
  find "$data/voices/mb" -type f ! -name mb-us1 ! -name mb-us2 ! -name mb-us3 ! -name mb-en1 -delete
  find "$data/mbrola_ph" -type f ! -name us_phtrans ! -name us3_phtrans ! -name en1_phtrans -delete
  # espeak-ng looks for an MBROLA database first at <--path>/espeak-ng-data/mbrola/<voice>, then under
  # /usr/share/mbrola (espeak-ng's synth_mbrola.c); the databases' other files are festival's.
  mkdir -p "$data/mbrola"
  for v in us1 us2 us3 en1; do mv "$prefix/usr/share/mbrola/$v/$v" "$data/mbrola/$v"; done
  rm -rf "$prefix/usr/share/mbrola"
  # RHVoice: only the LGPL-2.1+ English voices (evgeniy-eng and lyubov are CC-BY-NC-ND-4.0), and only
  # their 16 kHz models (engines.ts runs RHVoice-test -q min, which uses those).
  rm -rf "$prefix/usr/share/RHVoice/voices/evgeniy-eng" "$prefix/usr/share/RHVoice/voices/lyubov" "$prefix"/usr/share/RHVoice/voices/*/24000
  find "$prefix/usr/share/pico/lang" -type f ! -name 'en-*' -delete
  rm -rf "$prefix/usr/share/doc" "$prefix/usr/share/man" "$prefix/usr/share/lintian" "$prefix/usr/share/doc-base"
  ls "$debs" > "$prefix/PACKAGES"
  # Libraries that no program loads (pulled in by other libraries of their packages, or plugins
  # such as OpenSSL's) go: the check proves the programs run without them.
  local libs=$BUILD/libs
  mkdir -p "$libs"
  { needed_libs "$prefix" $BASE_PROGRAMS $(sox_plugins); (cd "$prefix/usr/bin" && readlink -f $(sox_plugins)); } | sort -u > "$libs/base"
  needed_libs "$prefix" $HUMAN_PROGRAMS | comm -23 - "$libs/base" > "$libs/human"
  local f real
  (cd "$prefix" && find usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu -name '*.so*' \( -type f -o -type l \)) | while read -r f; do
    real=$(readlink -f "$prefix/$f")
    grep -qxF "$real" "$libs/base" "$libs/human" || rm -f "$prefix/$f"
  done
  find "$prefix" -depth -type d -empty -delete
  patch_sox_plugin_dir "$prefix"
  link_sox_plugins "$prefix"
  # Two archives, so that each travels in a call with the rest of the kit: tts-prefix.tar.xz, the
  # engines of the test splits (espeak-ng, festival's kal/ked/slt, flite) with sox and the codecs, and
  # tts-prefix-human.tar.xz, the voices made from human recordings that speak training talks only
  # (MBROLA, RHVoice, Pico, festival's rab/don) with the libraries only they load. Both unpack into
  # one folder.
  local packed=$BUILD/packed
  rm -rf "$packed" && mkdir -p "$packed"
  pack_mbrola "$prefix" "$packed"
  (cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) > "$libs/all"
  local human_re='^(usr/bin/(mbrola|RHVoice-test|pico2wave|pico2wave\.bin)|usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola/.*|usr/share/RHVoice/.*|etc/RHVoice/.*|usr/share/pico/.*|usr/share/festival/voices/english/(rab|don)_diphone/.*)$'
  : > "$libs/human-files"
  while read -r f; do
    if [[ $f =~ $human_re ]]; then
      [[ $f == usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola/* ]] || echo "$f"
    elif [[ $f == *.so* ]] && grep -qxF "$(readlink -f "$prefix/$f")" "$libs/human"; then echo "$f"
    fi
  done < "$libs/all" > "$libs/human-files"
  comm -23 "$libs/all" "$libs/human-files" | grep -v '^usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola/' > "$libs/base-files"
  tar -C "$prefix" --no-recursion -cJf "$CARRY/tts-prefix.tar.xz" -T "$libs/base-files"
  tar -C "$prefix" --no-recursion -cf "$BUILD/human.tar" -T "$libs/human-files"
  tar -C "$packed" -rf "$BUILD/human.tar" .
  xz -6 -T0 -c "$BUILD/human.tar" > "$CARRY/tts-prefix-human.tar.xz" && rm "$BUILD/human.tar"
  echo "prefix: $(ls "$debs" | wc -l) packages, $(du -sh "$prefix" | cut -f1) unpacked, $(du -h "$CARRY/tts-prefix.tar.xz" | cut -f1) as $CARRY/tts-prefix.tar.xz (test-split engines, sox, codecs)" \
    "and $(du -h "$CARRY/tts-prefix-human.tar.xz" | cut -f1) as $CARRY/tts-prefix-human.tar.xz (MBROLA, RHVoice, Pico, rab/don)"
}

patch_sox_plugin_dir() { # PREFIX: the prefix's libsox.so.3 looks for its plugins in $SOX_PLUGINS
  # Same length (padded with slashes, which path lookup ignores) so that nothing else in the file moves,
  # as for pico2wave above; the patch refuses to run unless Debian's folder is there exactly once.
  python3 - "$(readlink -f "$1/usr/lib/x86_64-linux-gnu/libsox.so.3")" "$SOX_PLUGINS" <<'PY'
import sys
path, new_dir = sys.argv[1], sys.argv[2].encode()
data = open(path, "rb").read()
old = b"/usr/lib/x86_64-linux-gnu/sox\0"
pad = len(old) - len(new_dir) - 1
assert pad >= 0 and new_dir.startswith(b"/tmp/"), "libsox: the plugin folder must be a /tmp path no longer than Debian's"
new = b"/tmp/" + b"/" * pad + new_dir[len(b"/tmp/"):] + b"\0"
if data.count(old) == 0 and data.count(new) == 1: sys.exit(0)  # patched already
assert len(new) == len(old) and data.count(old) == 1, "libsox: the compiled-in plugin folder is not there exactly once"
open(path, "wb").write(data.replace(old, new))
PY
}

link_sox_plugins() { # PREFIX: $SOX_PLUGINS -> the prefix's sox plugin folder (the last prefix unpacked on a
  # machine wins; the plugins are the same Debian build in every prefix of this script)
  local dir
  dir=$(cd "$1/usr/lib/x86_64-linux-gnu/sox" && pwd)
  if [ -e "$SOX_PLUGINS" ] && [ ! -L "$SOX_PLUGINS" ]; then echo "$SOX_PLUGINS exists and is no symbolic link: sox's plugins cannot be linked there" >&2; exit 1; fi
  ln -sfn "$dir" "$SOX_PLUGINS"
}

needed_libs() { # PREFIX PROGRAM...: the prefix's libraries the programs load (ldd: transitively), resolved, sorted
  local p=$1; shift
  (cd "$p/usr/bin" && LD_LIBRARY_PATH=$(libdirs "$p") ldd "$@" 2>/dev/null) | awk '/=>/ { print $3 }' | grep "^$p/" | xargs -r readlink -f | sort -u
}

pack_mbrola() { # PREFIX OUT: the MBROLA databases as FLAC under OUT (the same paths)
  # A database is mostly 16-bit samples, which xz shrinks by ~15% and FLAC (lossless) by ~40%: each
  # becomes the FLAC of its 16-bit part (at whichever byte offset compresses better), the bytes
  # before and after it, and its SHA-256; restore_mbrola puts it back together and checks it.
  local p=$1 rel=usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola f v off size best
  local sox=(env LD_LIBRARY_PATH="$(libdirs "$p")" "$p/usr/bin/sox")
  mkdir -p "$2/$rel"
  for f in "$p/$rel"/*; do
    v=$2/$rel/${f##*/}
    best=
    for off in 0 1; do
      size=$(( ($(stat -c %s "$f") - off) / 2 * 2 ))
      tail -c +$((off + 1)) "$f" | head -c "$size" | "${sox[@]}" -t raw -r 16000 -e signed -b 16 -c 1 -L - -t flac -C 8 "$v.$off.flac"
      if [ -z "$best" ] || [ "$(stat -c %s "$v.$off.flac")" -lt "$(stat -c %s "$v.$best.flac")" ]; then best=$off; fi
    done
    size=$(( ($(stat -c %s "$f") - best) / 2 * 2 ))
    mv "$v.$best.flac" "$v.flac" && rm -f "$v".?.flac
    head -c "$best" "$f" > "$v.head"
    tail -c +$((best + size + 1)) "$f" > "$v.tail"
    sha256sum < "$f" | cut -d' ' -f1 > "$v.sha256"
  done
}

restore_mbrola() { # PREFIX: the MBROLA databases back from pack_mbrola's files
  local p=$1 d=$1/usr/lib/x86_64-linux-gnu/espeak-ng-data/mbrola f v
  for f in "$d"/*.flac; do
    [ -e "$f" ] || continue
    v=${f%.flac}
    { cat "$v.head"; LD_LIBRARY_PATH=$(libdirs "$p") "$p/usr/bin/sox" -t flac "$f" -t raw -e signed -b 16 -L -; cat "$v.tail"; } > "$v.tmp"
    [ "$(sha256sum < "$v.tmp" | cut -d' ' -f1)" = "$(cat "$v.sha256")" ] || { echo "MBROLA database ${v##*/}: restored bytes differ" >&2; exit 1; }
    mv "$v.tmp" "$v" && rm -f "$f" "$v.head" "$v.tail" "$v.sha256"
  done
}

stage_text() {
  local t0=$SECONDS
  node --import tsx src/cli/main.ts corpus text -o "$BUILD/corpus.tsv" --sentences "$SENTENCES" --seed "$SEED"
  xz -9 -T0 -c "$BUILD/corpus.tsv" > "$CARRY/corpus.tsv.xz"
  echo "text: $(($(wc -l < "$BUILD/corpus.tsv") - 1)) sentences in $((SECONDS - t0)) s, $(du -h "$CARRY/corpus.tsv.xz" | cut -f1) as $CARRY/corpus.tsv.xz"
}

stage_bundle() {
  # An entry that runs `nast corpus` alone: nothing else of nast (no onnxruntime, no kernels) comes along.
  # Its first line names the sources it was made from (src-digest.sh), which gpu-train.sh checks on the host.
  { echo "// nast-corpus of src $(bash recipes/synthetic/src-digest.sh)"; echo 'import { run } from "./src/cli/corpus.ts";
run(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.stderr.write(`nast corpus: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; });' |
    npx esbuild --bundle --platform=node --format=esm --target=node20 --sourcefile=nast-corpus.ts --loader=ts \
      --log-level=warning; } > "$CARRY/nast-corpus.mjs.tmp"
  mv "$CARRY/nast-corpus.mjs.tmp" "$CARRY/nast-corpus.mjs"
  echo "bundle: $(du -h "$CARRY/nast-corpus.mjs" | cut -f1) as $CARRY/nast-corpus.mjs"
}

stage_node() {
  if [ ! -f "$CARRY/node.xz" ]; then xz -6 -T0 -c "$(readlink -f "$(command -v node)")" > "$CARRY/node.xz"; fi
  echo "node: $(du -h "$CARRY/node.xz" | cut -f1) as $CARRY/node.xz"
}

unxz_to() { # xz may be missing on the host; python3 is there
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

unpack() { # unpack what this call carries of the kit under $WORK, each part once (they may come in separate calls)
  mkdir -p "$WORK/tts"
  if [ ! -x "$WORK/node" ] && [ -f "$CARRY/node.xz" ]; then
    unxz_to "$CARRY/node.xz" "$WORK/node.tmp" && chmod +x "$WORK/node.tmp" && mv "$WORK/node.tmp" "$WORK/node"
  fi
  local part
  for part in base human; do
    local archive=$CARRY/tts-prefix.tar.xz
    [ $part = base ] || archive=$CARRY/tts-prefix-human.tar.xz
    if [ ! -f "$WORK/tts/.$part" ] && [ -f "$archive" ]; then
      unxz_to "$archive" "$WORK/tts.tar" && tar -C "$WORK/tts" -xf "$WORK/tts.tar" && rm "$WORK/tts.tar" && touch "$WORK/tts/.$part"
    fi
  done
  # sox's flac and gsm plugins (base part) through the fixed folder the prefix's libsox looks in.
  if [ -f "$WORK/tts/.base" ]; then link_sox_plugins "$WORK/tts"; fi
  # The MBROLA databases travel as FLAC (pack_mbrola); the base part's sox decodes them.
  if [ -f "$WORK/tts/.base" ] && [ -f "$WORK/tts/.human" ]; then restore_mbrola "$WORK/tts"; fi
  if [ ! -f "$WORK/corpus.tsv" ] && [ -f "$CARRY/corpus.tsv.xz" ]; then unxz_to "$CARRY/corpus.tsv.xz" "$WORK/corpus.tsv"; fi
}

need_kit() { # the parts `remote` needs, unpacked by this call or an earlier one on the same host
  local f
  for f in node tts/.base corpus.tsv; do
    [ -e "$WORK/$f" ] || { echo "remote: $WORK/$f is missing: carry .carry/{node.xz,tts-prefix.tar.xz,corpus.tsv.xz} (this call or an earlier \`gpu-corpus.sh unpack\`)" >&2; exit 1; }
  done
  [ -f "$WORK/tts/.human" ] || [ -n "$ENGINES" ] ||
    { echo "remote: tts-prefix-human.tar.xz was never carried: the MBROLA, RHVoice, Pico and rab/don talks would fail; carry it, or set ENGINES=espeak,festival,flite" >&2; exit 1; }
}

stage_check() {
  # Runs check-inner in a private mount namespace in which this machine's TTS programs, data and
  # libraries are hidden, so that only the prefix can make speech.
  rm -rf "$BUILD/check" "$BUILD/check-work" "$BUILD/check-real" "$BUILD/check-speech"
  local t0=$SECONDS
  if [ -n "${CHECK_TSV:-}" ]; then cp "$CHECK_TSV" "$BUILD/check-all.tsv"; else unxz_to "$CARRY/corpus.tsv.xz" "$BUILD/check-all.tsv"; fi
  # A few sentences of each split (the TSV lists tst-COMMON, dev, then train), more of train so that
  # its talks draw many augmentation plans.
  awk -F'\t' 'NR == 1 || n[$2]++ < ($2 == "train" ? 60 : 20)' "$BUILD/check-all.tsv" > "$BUILD/check.tsv"
  # The augmentation's asset kit, as the host gets it (.carry/assets; `nast corpus assets` needs ffmpeg
  # and Debian's sound packages, so it is made here, before the namespace).
  local assets=${AUG_ASSETS:-$CARRY/assets}
  if [ ! -f "$assets/manifest.tsv" ]; then
    assets=$BUILD/assets
    [ -f "$assets/manifest.tsv" ] || node --import tsx src/cli/main.ts corpus assets -o "$assets" > "$BUILD/assets.log" 2>&1 ||
      { tail -n 5 "$BUILD/assets.log" >&2; exit 1; }
  fi
  check_speech_source "$BUILD/check-speech"
  CHECK_ASSETS=$(cd "$assets" && pwd) unshare -m "$0" check-inner
  grep -h -m2 festival "$BUILD/check/en-es/speakers.tsv"
  echo "check: engines of the talks: $(tail -n +2 "$BUILD/check/en-es/speakers.tsv" | cut -f4 | sort | uniq -c | tr -s ' \n' ' ')"
  echo "check: augmentation of the train talks (reverb, additive, channel): $(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $2 == "train" { split($c["reverb"], r, ":"); k = r[1]; if ($c["additive"] != "") k = k (k == "" ? "" : "+") "additive"
      if ($c["channel"] != "") k = k (k == "" ? "" : "+") $c["channel"]; print (k == "" ? "none" : k) }' "$BUILD/check/en-es/speakers.tsv" | sort | uniq -c | tr -s ' \n' ' ')"
  echo "check: ok ($(find "$BUILD/check" -name '*.wav' | wc -l) synthetic and $(find "$BUILD/check-real" -name '*.wav' | wc -l) real talks made from the prefix alone) in $((SECONDS - t0)) s"
}

check_speech_source() { # DIR: a tiny source of real-speech clips for `nast corpus speech` (as test/corpus/speech.test.ts
  # makes one: espeak-ng and opusenc of this machine), and its cleaned, translated transcripts (apertium runs here)
  local dir=$1 k spk text
  mkdir -p "$dir/check"
  printf 'file\tseconds\tspeaker\ttranscript\n' > "$dir/check/manifest.tsv"
  local sentences=("The cat sat on the mat." "WE WALKED HOME" "Music makes people happy." "Thank you very much." "S A M E" "Where is the station?")
  for k in $(seq 0 11); do
    spk=spk$((k % 6)) text=${sentences[$((k % 6))]}
    espeak-ng -v en -w "$dir/say.wav" "$text"
    opusenc --quiet --bitrate 24 "$dir/say.wav" "$dir/check/$(printf %05d "$k").opus"
    printf '%05d.opus\t1.5\t%s\t%s\n' "$k" "$spk" "$text" >> "$dir/check/manifest.tsv"
  done
  rm -f "$dir/say.wav"
  node --import tsx src/cli/main.ts corpus speech --from "$dir" --text-only --tsv "$dir/speech.tsv" > "$dir/text.log" 2>&1 ||
    { tail -n 5 "$dir/text.log" >&2; exit 1; }
}

stage_check_inner() {
  # Hidden: the engines' programs and libraries, and every system file a prefix program was seen to read
  # at run time here (strace -f of check-voices.ts): the data folders compiled into the engines, sox's
  # plugin folder (what failed on the host when only the prefix's libsox was checked), libmagic's
  # database (libsox links libmagic), festival's /etc/festival.scm, PulseAudio's client configuration
  # (espeak-ng's libpcaudio reads it). glibc's locale and gconv files stay: the host has its own.
  local lib=/usr/lib/x86_64-linux-gnu p
  for p in /usr/share/festival $lib/espeak-ng-data /usr/share/mbrola /usr/share/RHVoice /etc/RHVoice /usr/share/pico \
    $lib/sox /usr/lib/file /usr/share/misc/magic /usr/share/misc/magic.mgc /etc/festival.scm /etc/pulse "${HOME:-/root}/.config/pulse" \
    /usr/bin/{espeak-ng,festival,flite,sox,soxi,mbrola,RHVoice-test,pico2wave,lame,opusenc,opusdec} \
    $lib/{libespeak-ng.so.1,libflite.so.1,libsox.so.3,libestools.so.2.5,libpcaudio.so.0,libsonic.so.0,libltdl.so.7,libmagic.so.1} \
    $lib/{libgsm.so.1,libFLAC.so.12,libogg.so.0,libpulse.so.0,libasound.so.2} \
    $lib/{libRHVoice_core.so.7,libRHVoice_audio.so.2,libttspico.so.0,libmp3lame.so.0,libopusenc.so.0,libopusfile.so.0,libopusurl.so.0}; do
    if [ -d "$p" ]; then mount -t tmpfs none "$p"; elif [ -e "$p" ]; then mount --bind /dev/null "$p"; fi
  done
  # The plugin link of an earlier prefix on this machine must not help: unpack makes it anew.
  [ ! -L "$SOX_PLUGINS" ] || rm "$SOX_PLUGINS"
  echo "check: the system's engines are hidden: $(espeak-ng --version 2>&1 | head -1 || true); $(sox -t gsm /dev/null -n 2>&1 | head -1 || true)"
  WORK=$BUILD/check-work
  unpack
  need_kit
  cp "$BUILD/check.tsv" "$WORK/corpus.tsv"
  local outside prog
  for prog in $PROGRAMS; do [ -f "$WORK/tts/usr/bin/$prog" ] || { echo "check: $prog is not in the prefix" >&2; exit 1; }; done
  outside=$(cd "$WORK/tts/usr/bin" && LD_LIBRARY_PATH=$(libdirs "$WORK/tts") ldd $PROGRAMS $(sox_plugins) |
    awk '/=>/ { print $1 " " $3 }' | grep -v " $WORK/tts/" | grep -Ev "$HOST_LIBS" || true)
  if [ -n "$outside" ]; then echo "check: libraries from outside the prefix: $outside" >&2; exit 1; fi
  # Every voice of every engine (MBROLA's restored from FLAC by unpack), sox's plugins, the codecs and
  # every augmentation kind, from the prefix alone (through engines.ts and augment.ts, as the corpus runs them).
  node --import tsx recipes/synthetic/check-voices.ts "$WORK/tts" "$CHECK_ASSETS"
  # The kit's own run: training talks with every augmentation kind on (synth's default) and the asset kit.
  AUG_ASSETS=$CHECK_ASSETS SHARDS=2 synth_sharded "$BUILD/check" "$WORK/corpus.tsv" "$WORK/tts" 0.15
  # Real speech as gpu-train.sh makes it: the clips decoded by the prefix's opusdec, augmented copies.
  "$WORK/node" "$CARRY/nast-corpus.mjs" speech --from "$BUILD/check-speech" --tsv "$BUILD/check-speech/speech.tsv" -o "$BUILD/check-real" \
    --copies 3 --tools "$WORK/tts" --aug-assets "$CHECK_ASSETS" --jobs "$JOBS" > "$WORK/speech.log" 2>&1 || { tail -n 20 "$WORK/speech.log" >&2; exit 1; }
  tail -n 3 "$WORK/speech.log"
}

synth_sharded() { # OUT_DIR TSV PREFIX HOURS: SHARDS processes of JOBS/SHARDS jobs each, then the text files
  local out=$1 tsv=$2 prefix=$3 hours=$4 t0=$SECONDS pids=() k
  local per=$(( (JOBS + SHARDS - 1) / SHARDS ))
  local common=(synth --tsv "$tsv" --tools "$prefix" -o "$out" --hours "$hours" --seed "$SEED" --holdout-engine "$HOLDOUT")
  [ -z "$ENGINES" ] || common+=(--engines "$ENGINES")
  [ -z "${AUG_ASSETS:-}" ] || common+=(--aug-assets "$AUG_ASSETS")
  # Shard 0 first, the others once it has written the plan's digest: each shard writes that file when it
  # is not there yet, through one fixed temporary name (src/corpus/synth.ts, writeAtomic), so shards that
  # start together in a new folder race on it (seen in check: ENOENT on the rename, one shard lost).
  for ((k = 0; k < SHARDS; k++)); do
    "$WORK/node" "$CARRY/nast-corpus.mjs" "${common[@]}" --jobs "$per" --shard "$k/$SHARDS" > "$WORK/shard$k.log" 2>&1 &
    pids+=($!)
    while [ $k = 0 ] && [ -z "$(ls "$out"/*/.synth/plan.sha256 2>/dev/null)" ] && kill -0 "${pids[0]}" 2>/dev/null; do sleep 0.2; done
  done
  local failed=0
  for k in "${!pids[@]}"; do wait "${pids[$k]}" || { failed=1; cat "$WORK/shard$k.log" >&2; }; done
  [ $failed = 0 ] || [ -n "${SKIP_FAILED:-}" ] || { echo "some shards failed (above); run the same command again to finish" >&2; exit 1; }
  tail -qn1 "$WORK"/shard*.log
  "$WORK/node" "$CARRY/nast-corpus.mjs" "${common[@]}" --jobs "$JOBS" ${SKIP_FAILED:+--skip-failed}
  echo "synth: $((SECONDS - t0)) s wall for the corpus with $SHARDS shards x $per jobs"
}

stage_remote() {
  local out=${1:?usage: gpu-corpus.sh remote OUT_DIR}
  local t0=$SECONDS
  unpack
  need_kit
  echo "remote: kit unpacked in $((SECONDS - t0)) s under $WORK"
  local tsv=$WORK/corpus.tsv
  if [ -n "${TRAIN_SENTENCES:-}" ]; then
    # A later stage that continues a trained model needs less synthetic speech beside the real speech, and
    # each train sentence costs setup time (45,000 took 372 s on 16 cores): the first N train rows, and
    # every row of the other splits, so that dev and the test splits stay the same.
    tsv=$WORK/corpus-$TRAIN_SENTENCES.tsv
    awk -F'\t' -v n="$TRAIN_SENTENCES" 'NR == 1 || $2 != "train" || ++k <= n' "$WORK/corpus.tsv" > "$tsv.tmp" && mv "$tsv.tmp" "$tsv"
    echo "remote: $TRAIN_SENTENCES train sentences of $(awk -F'\t' '$2 == "train"' "$WORK/corpus.tsv" | wc -l)"
  fi
  synth_sharded "$out" "$tsv" "$WORK/tts" "$HOURS"
}

case "${1:-}" in
  prefix) stage_prefix ;;
  text) stage_text ;;
  bundle) stage_bundle ;;
  node) stage_node ;;
  check) stage_check ;;
  check-inner) stage_check_inner ;;
  kit) stage_prefix; stage_text; stage_bundle; stage_node; stage_check
       echo "kit: $(du -ch "$CARRY"/{tts-prefix.tar.xz,corpus.tsv.xz,nast-corpus.mjs,node.xz} | tail -1 | cut -f1) to carry (limit 64 MiB)," \
         "and $(du -h "$CARRY/tts-prefix-human.tar.xz" | cut -f1) in tts-prefix-human.tar.xz (in the same call if it fits, else one of its own before)" ;;
  remote) shift; stage_remote "$@" ;;
  unpack) unpack; echo "unpack: $(cd "$WORK" && ls -d node corpus.tsv tts/.base tts/.human 2>/dev/null | tr '\n' ' ')under $WORK" ;;
  *) sed -n '2,40p' "$0"; exit 2 ;;
esac
