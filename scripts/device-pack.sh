#!/usr/bin/env bash
# Pack what scripts/gpu-suite.sh needs on a bare GPU machine (no Rust, no internet) into
# .device/ (ignored by git; the device tool carries it): the portable release binary and
# the Vulkan loader's .deb files.
#
#   scripts/device-pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin fpgen
mkdir -p .device/gl /tmp/fpgen-apt-amd64/partial
cp target/release/fpgen .device/fpgen
# the newest glibc symbol version the binary links against: the device's glibc must have it
objdump -T target/release/fpgen | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1 >.device/glibc_needed
# the loader (libvulkan1) as amd64 packages, whatever this machine's architecture
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/fpgen-apt-amd64)
apt-get "${apt_opts[@]}" update -qq
(cd .device/gl && apt-get "${apt_opts[@]}" download libvulkan1 >/dev/null)
ls -l .device .device/gl
