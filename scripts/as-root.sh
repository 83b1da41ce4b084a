# Sourced by the entry scripts: re-runs the calling script as root when it is not.
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo -E "$0" "$@"; fi
  echo "wgbench: this needs root (network namespaces, veth, sshd, apt-get)" >&2
  exit 1
fi
