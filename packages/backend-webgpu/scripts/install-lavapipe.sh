#!/usr/bin/env bash
# Installs Mesa's lavapipe Vulkan driver (software Vulkan on the CPU) from Debian bookworm-backports
# (Mesa 25) into a git-ignored folder, so that Dawn — the WebGPU implementation of the `webgpu` npm
# package — finds an adapter in Node on a machine without a GPU.
#
# Debian 12's own mesa-vulkan-drivers (Mesa 22.3.6) is rejected by Dawn ("Vulkan
# shaderUniform*ArrayDynamicIndexing required"), and installing the backports package system-wide would
# replace it; so the .deb is downloaded with a private apt configuration (the system's sources are not
# touched) and unpacked with dpkg-deb. Needs Debian's libvulkan1 (the Vulkan loader) and libllvm15
# (apt-get install -y libvulkan1 libllvm15; installed here when running as root).
#
# Idempotent: a second run only re-checks. Prints the VK_ICD_FILENAMES value to export on its last line.
#
# Usage: packages/backend-webgpu/scripts/install-lavapipe.sh [destination]   (default: <repo>/.gl/lavapipe)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
dest="${1:-$repo/.gl/lavapipe}"
icd="$dest/lvp_icd.json"
arch="$(dpkg --print-architecture)"

missing=()
for pkg in libvulkan1 libllvm15; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-lavapipe: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if [ ! -f "$icd" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$work/sources.list"
  apt_opts=(
    -o "Dir::Etc::sourcelist=$work/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache::Archives=$work/archives"
    -o "APT::Get::List-Cleanup=0"
    -o "APT::Sandbox::User=root"
  )
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && apt-get "${apt_opts[@]}" download "mesa-vulkan-drivers:$arch/bookworm-backports" >/dev/null)
  deb="$(ls "$work"/mesa-vulkan-drivers_*.deb)"
  mkdir -p "$work/x"
  dpkg-deb -x "$deb" "$work/x"
  lib="$(find "$work/x" -name libvulkan_lvp.so | head -n 1)"
  json="$(find "$work/x" -name 'lvp_icd*.json' | head -n 1)"
  if [ -z "$lib" ] || [ -z "$json" ]; then
    echo "install-lavapipe: $deb holds no libvulkan_lvp.so / lvp_icd*.json" >&2
    exit 1
  fi
  mkdir -p "$dest"
  cp "$lib" "$dest/libvulkan_lvp.so"
  # The packaged manifest names the system path; point it at the unpacked library instead.
  sed -E "s#\"library_path\"[[:space:]]*:[[:space:]]*\"[^\"]*\"#\"library_path\": \"$dest/libvulkan_lvp.so\"#" "$json" > "$icd.tmp"
  basename "$deb" > "$dest/VERSION"
  mv "$icd.tmp" "$icd"
fi

# Every shared library the driver needs must resolve (libLLVM-15, libdrm, libxcb, ... from Debian).
unresolved="$(ldd "$dest/libvulkan_lvp.so" | grep 'not found' || true)"
if [ -n "$unresolved" ]; then
  echo "install-lavapipe: libvulkan_lvp.so needs libraries that are not installed:" >&2
  echo "$unresolved" >&2
  exit 1
fi
echo "install-lavapipe: $(cat "$dest/VERSION") in $dest" >&2
echo "$icd"
