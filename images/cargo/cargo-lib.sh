# Sourced by Cargo's scripts (installed as /usr/local/lib/gefyra/cargo-lib.sh): read the wg-quick style config
# ($conf, mode 600; it holds the private key: nothing here prints a value of it) and prepare `wg setconf`.

# wg-quick fields that `wg setconf` does not understand, read from one section (`Key = value`, spaces
# optional; values may contain '=' as base64 does). mawk: no IGNORECASE, so keys are compared in lower case.
field() { # section key ("" = any section)
  awk -v sec="$1" -v k="$2" '
    /^[ \t]*\[/ { cur = tolower($0); gsub(/[ \t\[\]]/, "", cur); next }
    { i = index($0, "="); if (!i) next
      key = tolower(substr($0, 1, i - 1)); gsub(/[ \t]/, "", key)
      if ((sec == "" || cur == sec) && key == k) { v = substr($0, i + 1); gsub(/[ \t]/, "", v); print v } }
  ' "$conf"
}
iface_field() { field interface "$(echo "$1" | tr 'A-Z' 'a-z')"; }

# The config without the wg-quick fields, for `wg setconf`; it holds the private key: callers write it with
# umask 077 to a file they remove.
setconf_text() {
  grep -viE '^[[:space:]]*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)[[:space:]]*=' "$conf"
}

ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
int2ip() { echo "$(( $1 >> 24 & 255 )).$(( $1 >> 16 & 255 )).$(( $1 >> 8 & 255 )).$(( $1 & 255 ))"; }

# Stowaway's tunnel address: it takes the first host of the tunnel subnet, which is the narrowest
# AllowedIPs range holding our own Address. Empty when there is none (IPv4 only).
server_address() { # address allowed-ips...
  local own=${1%/*} best=-1 server="" cidr bits mask base
  [[ "$own" =~ ^[0-9]+(\.[0-9]+){3}$ ]] || return 0
  shift
  for cidr in "$@"; do
    [[ "$cidr" =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || continue
    bits=${cidr#*/}
    (( bits < 31 && bits > best )) || continue
    mask=$(( (0xffffffff << (32 - bits)) & 0xffffffff ))
    base=$(( $(ip2int "${cidr%/*}") & mask ))
    if (( ($(ip2int "$own") & mask) == base )); then best=$bits; server=$(int2ip $(( base + 1 ))); fi
  done
  echo "$server"
}

# True when IPv4 address $1 lies in one of the CIDRs that follow (IPv4 only; anything else is false).
endpoint_in_tunnel() { # address cidr...
  local address=$1 cidr bits mask
  [[ "$address" =~ ^[0-9]+(\.[0-9]+){3}$ ]] || return 1
  shift
  for cidr in "$@"; do
    [[ "$cidr" =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || continue
    bits=${cidr#*/}
    mask=$(( bits == 0 ? 0 : (0xffffffff << (32 - bits)) & 0xffffffff ))
    (( ($(ip2int "$address") & mask) == ($(ip2int "${cidr%/*}") & mask) )) && return 0
  done
  return 1
}
