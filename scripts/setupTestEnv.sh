#!/usr/bin/env bash
# Installs, on demand and idempotently, what the integration tests and `npm start` need:
# Debian packages (chromium, ripgrep, build deps of code-server, ONNX test models), and VS Code's server from the
# `code-server` npm package in a cache folder outside the extension's own dependencies.
set -euo pipefail

CODE_SERVER_VERSION="${QUANTLENS_CODE_SERVER_VERSION:-4.100.3}"
CACHE_DIR="${QUANTLENS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quantlens}"
CS_DIR="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
RG_VERSION_TAG="v13.0.0-10"
RG_CACHE_VERSION="1.15.11"

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages.
DEB_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium libonnx-testdata)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# 2. VS Code server (code-server npm package) in the cache folder.
if [ -f "$CS_DIR/.complete" ] && [ -f "$CS_DIR/node_modules/code-server/lib/vscode/out/server-main.js" ]; then
  log "code-server $CODE_SERVER_VERSION present in $CS_DIR"
else
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  tmp="$(mktemp -d)"
  # @vscode/ripgrep tries to download rg from GitHub: seed its cache with Debian's rg.
  rgcache="$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION"
  mkdir -p "$rgcache" "$tmp/rgpkg"
  cp /usr/bin/rg "$tmp/rgpkg/rg"
  tar -czf "$rgcache/ripgrep-$RG_VERSION_TAG-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rgpkg" rg
  echo '{"private":true}' > "$CS_DIR/package.json"
  (
    cd "$CS_DIR"
    TMPDIR="$tmp" npm_config_yes=true npm_config_unsafe_perm=true npm_config_audit=false \
      npm_config_fund=false npm_config_update_notifier=false \
      npm install --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$tmp"
  test -f "$CS_DIR/node_modules/code-server/lib/vscode/out/server-main.js"
  touch "$CS_DIR/.complete"
  log "code-server installed"
fi
echo "$CS_DIR/node_modules/code-server"
