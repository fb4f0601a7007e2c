# Shell helpers shared by the recipes (recipes/mustc/{run,eval}.sh, recipes/synthetic/run.sh), sourced
# after their settings block: the ESPnet/icefall-style log line, --help from the script's own header and
# settings block, and the --name value flags that override those settings.

log() {
  # Timestamp, file:line of the caller, message (the ESPnet/icefall log helper's format).
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}) $*"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  echo "settings (--name value; defaults as shown):"
  sed -n '/^# ---- settings/,/^$/p' "$0" | grep -E '^[a-z_]+=' | sed -E 's/^([a-z_]+)=/  --\1 /' | sed -E 's/^  --([a-z]+)_([a-z]+)/  --\1-\2/'
}

# parse_settings "NAME NAME ..." "$@": each --some-name VALUE sets the setting some_name (only the listed
# ones); -h/--help prints the usage and exits 0; anything else exits 2 with a message.
parse_settings() {
  local allowed=" $1 " script=${0##*/} name
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help) usage; exit 0 ;;
      --*)
        name=${1#--}; name=${name//-/_}
        if [ $# -lt 2 ]; then echo "$script: $1 needs a value" >&2; exit 2; fi
        if [[ "$allowed" != *" $name "* ]]; then echo "$script: unknown option $1 ($script --help lists them)" >&2; exit 2; fi
        printf -v "$name" '%s' "$2"
        shift 2 ;;
      *) echo "$script: unexpected argument $1 ($script --help)" >&2; exit 2 ;;
    esac
  done
}
