#!/usr/bin/env bash
# Regenerate every image of the README's gallery with exactly the commands printed under
# them there, and print each command's wall time. Run from anywhere; it builds fpgen first.
#
#   docs/gallery/make.sh            # the CPU images (about a minute on 2 cores)
#   docs/gallery/make.sh --gpu      # also the N = 1025² GPU frame (minutes on a GPU,
#                                   # about 7 on lavapipe)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
fpgen="$PWD/target/release/fpgen"
gallery="$PWD/docs/gallery"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# run fpgen ARGS… into the scratch folder, printing the command and its wall time
run() {
  local start end
  echo "fpgen $*"
  start=$(date +%s%N)
  "$fpgen" "$@" --out "$out" --quiet --force
  end=$(date +%s%N)
  echo "  $(( (end - start) / 1000000 )) ms"
}

# the last frame of a run (frames are named by step)
last_frame() {
  find "$out/$1/frames" -name 'f_*.png' | sort | tail -n 1
}

run run configs/subcritical_2d.toml --set run.t_final=0.1
cp "$(last_frame subcritical_2d)" "$gallery/subcritical_2d_t0.1.png"

run run configs/supercritical_2d.toml --set grid.cells=257 --set stop.max_density=1e12 --set run.t_final=1.5
cp "$(last_frame supercritical_2d)" "$gallery/supercritical_2d_condensate_t1.5.png"
cp "$out/supercritical_2d/diagnostics.png" "$gallery/supercritical_2d_diagnostics.png"

run run configs/subcritical_1d.toml
cp "$(last_frame subcritical_1d)" "$gallery/subcritical_1d_equilibrium.png"
cp "$out/subcritical_1d/kymograph.png" "$gallery/subcritical_1d_kymograph.png"

run run configs/particles_2d.toml --set run.t_final=0.5
cp "$(find "$out/particles_2d/particles" -name 'scatter_*.png' | sort | tail -n 1)" "$gallery/particles_2d_scatter_t0.5.png"

run generate configs/generate_three_blobs_2d_sub.toml
for name in terminal generated samples; do
  cp "$out/generate_three_blobs_2d_sub/$name.png" "$gallery/generate_three_blobs_2d_$name.png"
done

run filter configs/filter_noisy_2d.toml --iterations 3
cp "$out/filter_noisy_2d/strip.png" "$gallery/filter_noisy_2d_strip.png"

run sample configs/score_voronoi_cores.toml
cp "$out/score_voronoi_cores/trajectories_0.png" "$gallery/score_voronoi_cores_trajectories.png"

run sample configs/score_lemniscate_empirical.toml
cp "$out/score_lemniscate_empirical/samples_2.png" "$gallery/score_lemniscate_empirical_samples_t0.001.png"

run sample configs/score_three_diracs_1d.toml
cp "$out/score_three_diracs_1d/log_density.png" "$gallery/score_three_diracs_log_density.png"

# the Python examples, with the Python that has the fpgen package (FPGEN_PYTHON or python3)
python="${FPGEN_PYTHON:-python3}"
if "$python" -c "import fpgen, matplotlib" 2>/dev/null; then
  for example in mass_sweep own_score; do
    echo "python examples/$example.py --out out/examples"
    "$python" "examples/$example.py" --out "$out/examples" >/dev/null
    cp "$out/examples/$example.png" "$gallery/$example.png"
  done
  # condensation at three resolutions through the implicit step (README, Numerics)
  echo "fpgen study blowup configs/blowup_2d.toml --cells 129 257 513"
  "$fpgen" study blowup configs/blowup_2d.toml --cells 129 257 513 --out "$out" --quiet >/dev/null
  "$python" examples/plot_blowup.py "$out/blowup_2d_blowup" --out "$gallery/blowup_2d.png" >/dev/null
  # the collected sweep (README, Sweeps and clusters)
  echo "fpgen sweep configs/sweeps/mass_ratio_2d.toml --jobs 2 && fpgen collect out/mass_ratio_2d"
  "$fpgen" sweep configs/sweeps/mass_ratio_2d.toml --jobs 2 --out "$out" --quiet >/dev/null
  "$fpgen" collect "$out/mass_ratio_2d" >/dev/null
  "$python" examples/plot_collect.py "$out/mass_ratio_2d" --var condensation_time \
    --x initial.mass_ratio --hue model.gamma --out "$gallery/mass_ratio_2d.png" >/dev/null
else
  echo "skipping the Python examples: $python cannot import fpgen and matplotlib (pip install ./python)"
fi

if [[ "${1:-}" == "--gpu" ]]; then
  run run configs/supercritical_2d.toml --backend gpu --set grid.cells=1025 \
    --set 'run.precision="f32"' --set 'run.output_times=[0.05, 0.1]' --set run.t_final=0.1
  cp "$(last_frame supercritical_2d)" "$gallery/supercritical_2d_gpu_n1025_t0.1.png"
fi
