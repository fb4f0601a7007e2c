#!/usr/bin/env bash
# Debian's contrib and non-free components, from the mirror main already uses: the MBROLA program
# (contrib), its voices, RHVoice's and SVOX Pico's voices (non-free). Idempotent; run as root before
# `apt-get update`. Adds the components to the deb822 sources of Debian 12 (debian.sources) or, on a
# machine with the one-line format, to every "deb ... main" line of sources.list.
set -euo pipefail
changed=0
for f in /etc/apt/sources.list.d/debian.sources; do
  [ -f "$f" ] || continue
  if grep -qE '^Components:' "$f" && grep -E '^Components:' "$f" | grep -qvE '\bnon-free\b'; then
    sed -i -E '/^Components:/{/\bnon-free\b/!s/$/ contrib non-free/}' "$f"
    sed -i -E '/^Components:/s/\bcontrib contrib\b/contrib/' "$f"
    changed=1
  fi
done
if [ -f /etc/apt/sources.list ] && grep -qE '^deb .* main( |$)' /etc/apt/sources.list && ! grep -qE '^deb .* non-free( |$)' /etc/apt/sources.list; then
  sed -i -E '/^deb .* main( |$)/{/non-free( |$)/!s/$/ contrib non-free/}' /etc/apt/sources.list
  changed=1
fi
echo "apt components: contrib and non-free $([ $changed = 1 ] && echo added || echo already present)"
