#!/usr/bin/env bash
# Throughput of `nast translate` on many files in one process (README "Many files"): the first N talks of a
# corpus in MuST-C layout (every ROOT/<pair>/data/<split>/wav/*.wav, in name order), encoded as MP3 at
# 64 kb/s so that each input goes through ffmpeg, then translated with `nast translate DIR -o OUT -f txt`
# under /usr/bin/time. Prints the audio hours, the wall time and audio hours per hour of wall time.
# usage: scripts/bench-many-files.sh MUSTC_ROOT [N (100)] [CLI (dist/cli.js)]
set -euo pipefail
root=${1:?usage: scripts/bench-many-files.sh MUSTC_ROOT [N] [CLI]}
n=${2:-100}
cli=${3:-$(dirname "$0")/../dist/cli.js}
work=$(mktemp -d "${TMPDIR:-/tmp}/nast-many-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
i=0
while IFS= read -r wav; do
  i=$((i + 1))
  ffmpeg -nostdin -loglevel error -y -i "$wav" -b:a 64k "$work/in/$(printf 't%04d' "$i").mp3"
done < <(ls "$root"/*/data/*/wav/*.wav | head -n "$n")
[ "$i" -gt 0 ] || { echo "bench-many-files: no talks under $root/*/data/*/wav/" >&2; exit 1; }
seconds=$(for f in "$work"/in/*.mp3; do ffprobe -v error -show_entries format=duration -of csv=p=0 "$f"; done | awk '{s += $1} END {print s}')
/usr/bin/time -f "%e %M" -o "$work/time" node "$cli" translate "$work/in" -o "$work/out" -f txt
read -r wall rss < "$work/time"
awk -v n="$i" -v s="$seconds" -v w="$wall" -v r="$rss" 'BEGIN {
  printf "%d files, %.2f h of audio: %.1f s wall, %.1f audio hours per hour, peak RSS %d MB\n", n, s / 3600, w, s / w, r / 1024 }'
