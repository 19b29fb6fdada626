#!/usr/bin/env bash
# The GPU suite on a machine with a GPU and no Rust: `fpgen info`, `fpgen verify` on four
# configs and on two with several steps per pass, and `fpgen bench-suite`, each under its own time limit (under 6 minutes in
# all), every output into OUT (default: $OUT, else out/gpu-suite): suite.log, info.txt,
# verify.txt, bench_suite.txt, bench_suite.json, bench_suite.md.
#
#   scripts/device-pack.sh                  # here: the binary and the Vulkan loader into .device/
#   scripts/gpu-suite.sh                    # there (device tool: carry .device)
#   scripts/gpu-suite.sh --rehearse         # here, on lavapipe, with small sizes
#
# Binary: $FPGEN_BIN, else .device/fpgen, else target/release/fpgen. Loader:
# .device/gl/*.deb are unpacked when no libvulkan is installed. Exit code: the number of
# steps that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
rehearse=0
[[ "${1:-}" == "--rehearse" ]] && rehearse=1
out="${OUT:-out/gpu-suite}"
mkdir -p "$out"
log="$out/suite.log"
: >"$log"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }

fpgen="${FPGEN_BIN:-.device/fpgen}"
[[ -x "$fpgen" ]] || fpgen=target/release/fpgen
if [[ ! -x "$fpgen" ]]; then
  say "no fpgen binary: run scripts/device-pack.sh (or cargo build --release) first"
  exit 1
fi
# the binary links glibc dynamically (the Vulkan loader is opened at run time, which a
# static binary cannot do): refuse an older glibc than the one it was built against
if [[ -f .device/glibc_needed ]]; then
  needed=$(cat .device/glibc_needed)
  have=$(ldd --version 2>/dev/null | head -1 | grep -o '[0-9]*\.[0-9]*$')
  if [[ -n "$have" && "$(printf '%s\n%s\n' "$needed" "$have" | sort -V | head -1)" != "$needed" ]]; then
    say "this machine has glibc $have; the binary needs $needed (build it on an older system)"
    exit 1
  fi
fi
if ! ldconfig -p | grep -q libvulkan.so.1; then
  say "unpacking the Vulkan loader from .device/gl"
  for deb in .device/gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ $rehearse == 0 && -f $nvidia_icd && -z "${VK_DRIVER_FILES:-}" ]]; then
  export VK_DRIVER_FILES=$nvidia_icd
fi
if [[ $rehearse == 1 ]]; then
  # lavapipe: the software adapter is used only when named
  export WGPU_ADAPTER_NAME="${WGPU_ADAPTER_NAME:-llvmpipe}"
  cells=129; dt=2e-4; suite=(--quick)
else
  # the H200's device-to-device copy, measured at about 4.3 TB/s
  cells=513; dt=2e-5; suite=(--peak-gbps "${PEAK_GBPS:-4300}")
fi

failed=0
step() {
  local name=$1 limit=$2
  shift 2
  say "$name: $*"
  local start=$SECONDS
  timeout "$limit" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  say "$name: exit $rc after $((SECONDS - start)) s"
  [[ $rc == 0 ]] || failed=$((failed + 1))
}

step info 25 "$fpgen" info
short=(--set "grid.cells=$cells" --set run.t_final=0.05 --set 'run.output_times=[0.05]')
for config in subcritical_2d supercritical_2d particles_2d fermi_2d; do
  # appended into one file (the device tool brings back at most 8 files)
  step "verify_$config" 38 "$fpgen" verify "configs/$config.toml" "${short[@]}"
done
# several steps per pass with a fixed Δt: bit-identical to one step per pass, so the same
# tolerance against the CPU holds
step verify_blocked_gradient_flow 38 "$fpgen" verify configs/subcritical_2d.toml "${short[@]}" \
  --set 'scheme.kind="gradient-flow"' --set scheme.steps_per_pass=4 --set "scheme.dt=$dt"
step verify_blocked_rk2 38 "$fpgen" verify configs/subcritical_2d.toml "${short[@]}" \
  --set 'scheme.integrator="ssp-rk2"' --set scheme.steps_per_pass=2 --set "scheme.dt=$dt"
cat "$out"/verify_*.txt >"$out/verify.txt" 2>/dev/null && rm -f "$out"/verify_*.txt
step bench_suite 145 "$fpgen" bench-suite --out "$out" "${suite[@]}"
say "done: $failed step(s) failed; outputs in $out"
exit "$failed"
