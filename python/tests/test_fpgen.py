"""The Python package against the library and the CLI: config conversion and errors,
datasets, callbacks, interrupts, arrays in, user scores."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import fpgen

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


def fpgen_binary():
    """The CLI built by `cargo test` (the same library)."""
    for profile in ("debug", "release"):
        path = ROOT / "target" / profile / "fpgen"
        if path.is_file():
            return path
    pytest.skip("no fpgen binary under target/ (run cargo build first)")


def small_1d():
    cfg = fpgen.Config.from_toml(CONFIGS / "subcritical_1d.toml")
    cfg.update({"grid.cells": 101, "run.t_final": 0.5, "run.output_every": 0.125})
    return cfg


# --- configs -------------------------------------------------------------------------


def test_config_from_toml_and_dict_agree():
    cfg = fpgen.Config.from_toml(CONFIGS / "subcritical_2d.toml")
    assert cfg.name == "subcritical_2d" and cfg.kind == "forward"
    again = fpgen.Config(cfg.to_dict())
    assert again.to_dict() == {**cfg.to_dict(), "name": "subcritical_2d"}
    assert cfg.get("model.dim") == 2
    assert cfg.get("scheme.kind") in ("upwind", "gradient-flow")


def test_set_converts_python_and_numpy_values():
    cfg = small_1d()
    cfg.set("grid.cells", np.int64(201))
    cfg.set("run.output_times", np.array([0.1, 0.2]))
    cfg.set("stop.max_density", 1e9)
    assert cfg.get("grid.cells") == 201
    assert cfg.get("run.output_times") == [0.1, 0.2]


@pytest.mark.parametrize(
    "key, value, named",
    [
        ("grid.cells", 1, "grid.cells"),
        ("model.gama", 2.0, "gama"),
        ("scheme.kind", "upwnd", "upwnd"),
        ("initial.mass", -1.0, "initial.mass"),
        ("run.t_final", -1.0, "run.t_final"),
    ],
)
def test_bad_keys_and_values_are_named_and_the_config_is_unchanged(key, value, named):
    cfg = small_1d()
    before = cfg.to_dict()
    with pytest.raises(fpgen.ConfigError, match=named):
        cfg.set(key, value)
    assert cfg.to_dict() == before
    assert issubclass(fpgen.ConfigError, ValueError)


def test_config_errors_are_the_clis():
    """`cfg.set` and `fpgen run --set` reject a value with the same message."""
    binary = fpgen_binary()
    cli = subprocess.run(
        [binary, "run", CONFIGS / "subcritical_1d.toml", "--set", "grid.cells=1", "--out", "/nonexistent"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    with pytest.raises(fpgen.ConfigError) as error:
        small_1d().set("grid.cells", 1)
    assert str(error.value) in cli.stderr


def test_missing_file_and_wrong_kind():
    with pytest.raises(FileNotFoundError, match="no_such.toml"):
        fpgen.Config.from_toml(CONFIGS / "no_such.toml")
    score_cfg = fpgen.Config.from_toml(CONFIGS / "score_three_diracs_1d.toml")
    assert score_cfg.kind == "diffusion"
    with pytest.raises(fpgen.ConfigError, match="forward config"):
        fpgen.run(score_cfg)


# --- runs and datasets ----------------------------------------------------------------


def test_run_equals_the_cli_run(tmp_path):
    """The same config through Python and through the CLI: the same fields, bit for bit."""
    cfg = small_1d()
    config_file = tmp_path / "small.toml"
    config_file.write_text(cfg.to_toml().replace('name = "subcritical_1d"', 'name = "small"'))
    subprocess.run([fpgen_binary(), "run", config_file, "--out", tmp_path / "cli", "--quiet"], check=True)
    from_cli = xr.open_dataset(tmp_path / "cli" / "small" / "run.zarr", engine="zarr") if _has_zarr() else None
    ds = fpgen.run(fpgen.Config.from_toml(config_file), out=tmp_path / "py", progress=False)
    cli_ds = fpgen.open(tmp_path / "cli" / "small")
    for name in ("f", "mass", "max_density", "t", "x"):
        np.testing.assert_array_equal(ds[name].values, cli_ds[name].values, err_msg=name)
    np.testing.assert_array_equal(
        np.load(tmp_path / "py" / "small" / "f_final.npy"), np.load(tmp_path / "cli" / "small" / "f_final.npy")
    )
    if from_cli is not None:
        # fpgen.open gives what xarray's own zarr reader gives
        xr.testing.assert_equal(cli_ds.drop_attrs(), from_cli.drop_attrs().load())


def _has_zarr():
    try:
        import zarr  # noqa: F401
    except ImportError:
        return False
    return True


def test_in_memory_run_has_coordinates_and_conserves_mass():
    ds = fpgen.run(small_1d(), progress=False)
    summary = fpgen.summary(ds)
    assert summary["status"] == "completed"
    h = ds.x.values[1] - ds.x.values[0]
    mass = ds.f.sum("x").values * h
    np.testing.assert_allclose(mass, summary["mass_initial"], rtol=1e-12)
    assert list(ds.t.values) == pytest.approx([0, 0.125, 0.25, 0.375, 0.5], abs=1e-12)
    assert ds.attrs["grid.cells"] == 101


def test_run_directory_is_kept_and_refused_twice(tmp_path):
    fpgen.run(small_1d(), out=tmp_path, progress=False)
    assert (tmp_path / "subcritical_1d" / "summary.json").is_file()
    with pytest.raises(FileExistsError):
        fpgen.run(small_1d(), out=tmp_path, progress=False)
    fpgen.run(small_1d(), out=tmp_path, progress=False, force=True)


def test_callback_sees_every_output_time_and_can_stop_the_run():
    seen = []

    def callback(t, f):
        seen.append((t, f.shape, f.copy()))
        return t < 0.25 - 1e-12

    ds = fpgen.run(small_1d(), progress=False, callback=callback)
    assert [round(t, 12) for t, _, _ in seen] == [0.0, 0.125, 0.25]
    assert all(shape == (101,) for _, shape, _ in seen)
    assert fpgen.summary(ds)["status"] == "interrupted"
    np.testing.assert_array_equal(seen[-1][2], ds.f.isel(t=-1).values)


def test_an_exception_in_the_callback_is_raised():
    def callback(t, f):
        if t > 0:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        fpgen.run(small_1d(), progress=False, callback=callback)


def test_progress_reaches_a_custom_sink():
    class Sink:
        def __init__(self):
            self.fractions, self.closed = [], 0

        def update(self, fraction, message):
            self.fractions.append(fraction)

        def close(self):
            self.closed += 1

    sink = Sink()
    fpgen.run(small_1d(), progress=sink)
    assert sink.fractions and sink.fractions[-1] == pytest.approx(1.0)
    assert sink.fractions == sorted(sink.fractions) and sink.closed >= 1


def test_ctrl_c_stops_at_a_step_boundary_and_raises_keyboard_interrupt(tmp_path):
    script = textwrap.dedent(
        f"""
        import fpgen, sys
        cfg = fpgen.Config.from_toml({str(CONFIGS / 'subcritical_2d.toml')!r})
        cfg.update({{"run.t_final": 1.0e4, "grid.cells": 65}})
        print("started", flush=True)
        try:
            fpgen.run(cfg, out={str(tmp_path)!r}, progress=False)
        except KeyboardInterrupt as e:
            print("KeyboardInterrupt", e, flush=True)
            sys.exit(7)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    import time

    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 7, out
    summary = json.loads((tmp_path / "subcritical_2d" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (tmp_path / "subcritical_2d" / "checkpoint").exists()


def test_initial_density_from_an_array():
    cfg = small_1d()
    eq = fpgen.equilibrium(cfg)
    assert eq.dims == ("x",) and eq.attrs["theta"] is not None
    cfg.initial_from_array(eq.values)
    assert cfg.get("initial.kind") == "npy"
    assert cfg.get("initial.mass") == pytest.approx(eq.attrs["mass"], rel=1e-14)
    ds = fpgen.run(cfg, progress=False)
    # the discrete steady state of the explicit scheme stays put (to round-off of the steps)
    drift = float(abs(ds.f.isel(t=-1) - eq).max() / eq.max())
    assert drift < 1e-6, drift
    with pytest.raises(fpgen.ConfigError, match="shape"):
        cfg.initial_from_array(np.ones((3, 3)))
    with pytest.raises(fpgen.ConfigError, match="finite"):
        cfg.initial_from_array(-eq.values)


def test_array_input_is_kept_in_the_run_directory(tmp_path):
    cfg = small_1d()
    f0 = np.exp(-np.linspace(-3, 3, 101) ** 2)
    cfg.initial_from_array(f0, mass=2.0)
    fpgen.run(cfg, out=tmp_path, progress=False)
    run = tmp_path / "subcritical_1d"
    np.testing.assert_array_equal(np.load(run / "initial.npy"), f0)
    # the run directory runs again from its own config.toml
    subprocess.run([fpgen_binary(), "run", run / "config.toml", "--out", tmp_path / "again", "--quiet"], check=True)
    np.testing.assert_array_equal(
        np.load(run / "f_final.npy"), np.load(tmp_path / "again" / "subcritical_1d" / "f_final.npy")
    )


def test_critical_mass_is_pi_squared_in_2d_for_gamma_2():
    report = fpgen.critical_mass(2, 2.0)
    assert report["critical_mass"] == pytest.approx(np.pi**2, rel=1e-12)
    with pytest.raises(fpgen.ConfigError, match="model.dim"):
        fpgen.critical_mass(3, 2.0)


def test_fermions_have_no_critical_mass():
    report = fpgen.critical_mass(2, 2.0, box_half_width=6.0, mass=10.0, statistics="fermi")
    assert report["finite"] is False and report["critical_mass"] is None
    assert "no finite critical mass" in report["note"] and report["theta"] is not None
    with pytest.raises(fpgen.ConfigError, match="model.statistics"):
        fpgen.critical_mass(2, 2.0, statistics="anyon")


def test_generate_and_filter_return_their_datasets():
    cfg = fpgen.Config.from_toml(CONFIGS / "generate_bimodal_1d_sub.toml")
    cfg.update({"grid.cells": 101, "run.t_final": 0.5, "run.output_every": 0.5, "reverse.particles": 500})
    # the exact mode from f(T) retraces the stored forward run: f(0) to round-off
    cfg.update({"reverse.mode": "exact", "reverse.start": "terminal"})
    ds = fpgen.generate(cfg, progress=False)
    s = fpgen.summary(ds)
    assert s["generated_vs_initial"]["rel_l1"] < 1e-12
    assert ds.x.size == 101
    cfg.update({"reverse.mode": "log-score", "initial.noise": 0.3, "reverse.particles": 0})
    filtered = fpgen.filter(cfg, iterations=2, progress=False)
    assert filtered.sizes["iteration"] == 3
    h = float(filtered.x[1] - filtered.x[0])
    mass = filtered.iterate.sum("x").values * h
    np.testing.assert_allclose(mass, cfg.get("initial.mass"), rtol=1e-12)


# --- score-based diffusion -----------------------------------------------------------

POINTS = np.array([[1.0, 0.0], [-1.0, 0.5], [0.2, -1.5]])
WEIGHTS = [0.5, 0.3, 0.2]
SETTINGS = dict(samples=400, steps=40, t_min=1e-2, seed=3)


def numpy_score(points, weights):
    log_w = np.log(np.asarray(weights) / np.sum(weights))

    def score(x, t):
        d2 = ((x[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        logit = log_w[None, :] - d2 / (4 * t)
        logit -= logit.max(axis=1, keepdims=True)
        p = np.exp(logit)
        p /= p.sum(axis=1, keepdims=True)
        return (p @ points - x) / (2 * t)

    return score


def test_the_exact_score_as_a_function_gives_the_built_in_samples_bit_for_bit():
    built_in = fpgen.sample(POINTS, WEIGHTS, progress=False, **SETTINGS)
    given = fpgen.sample(POINTS, WEIGHTS, progress=False, score=fpgen.ExactScore(POINTS, WEIGHTS), **SETTINGS)
    np.testing.assert_array_equal(built_in.samples.values, given.samples.values)
    assert fpgen.summary(given)["score"] == "user" and fpgen.summary(built_in)["score"] == "exact"


def test_a_numpy_score_gives_the_same_samples_to_round_off():
    built_in = fpgen.sample(POINTS, WEIGHTS, progress=False, **SETTINGS)
    given = fpgen.sample(POINTS, WEIGHTS, progress=False, score=numpy_score(POINTS, WEIGHTS), **SETTINGS)
    # the exponential step contracts: round-off of the score (1e-16 relative) stays there
    np.testing.assert_allclose(given.samples.values, built_in.samples.values, rtol=0, atol=1e-12)


def test_ou_process_with_a_user_score():
    ou = dict(SETTINGS, process="ou", lambda_=0.7, t_final=2.0)
    built_in = fpgen.sample(POINTS, WEIGHTS, progress=False, **ou)
    given = fpgen.sample(
        POINTS, WEIGHTS, progress=False, score=fpgen.ExactScore(POINTS, WEIGHTS, lambda_=0.7), **ou
    )
    np.testing.assert_array_equal(built_in.samples.values, given.samples.values)


def test_a_bad_score_is_reported():
    with pytest.raises(ValueError, match="shape"):
        fpgen.sample(POINTS, progress=False, score=lambda x, t: x[:, :1], **SETTINGS)
    with pytest.raises(ZeroDivisionError):
        fpgen.sample(POINTS, progress=False, score=lambda x, t: 1 / 0, **SETTINGS)
    with pytest.raises(ValueError, match="CPU"):
        fpgen.sample(POINTS, progress=False, score=numpy_score(POINTS, WEIGHTS), backend="gpu", **SETTINGS)


def test_check_theory_on_a_user_score():
    exact = fpgen.check_theory(POINTS, WEIGHTS, progress=False, t_min=1e-2, cells=65)
    given = fpgen.check_theory(
        POINTS, WEIGHTS, progress=False, t_min=1e-2, cells=65, score=fpgen.ExactScore(POINTS, WEIGHTS)
    )
    assert exact["passed"] and given["passed"]
    assert [c["measured"] for c in exact["checks"]] == [c["measured"] for c in given["checks"]]
    # a score too weak by half concentrates at half the rate: the check catches it
    weak = fpgen.ExactScore(POINTS, WEIGHTS)
    halved = fpgen.check_theory(
        POINTS, WEIGHTS, progress=False, t_min=1e-2, cells=65, score=lambda x, t: 0.5 * weak(x, t)
    )
    assert not halved["passed"]
    failed = [c["name"] for c in halved["checks"] if not c["pass"]]
    assert any("concentration" in name for name in failed), failed


def test_sample_from_a_config_file():
    cfg = fpgen.Config.from_toml(CONFIGS / "score_three_diracs_1d.toml")
    cfg.update({"sampler.samples": 200})
    ds = fpgen.sample(cfg, progress=False)
    assert ds.samples.sizes["sample"] == 200


# --- examples ------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["mass_sweep.py", "own_score.py"])
def test_examples_run(example, tmp_path):
    pytest.importorskip("matplotlib")
    done = subprocess.run(
        [sys.executable, ROOT / "examples" / example, "--quick", "--out", tmp_path],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / example.replace(".py", ".png")).is_file()
    if example == "own_score.py":
        # the fitted mixture has no scales below its components' σ: it fails concentration
        assert "check-theory, exact score: all pass" in done.stdout
        assert "FAIL" in done.stdout.split("fitted mixture")[1]


# --- the GPU ---------------------------------------------------------------------------


def test_gpu_run_agrees_with_the_cpu_in_f32():
    """The device path from Python (lavapipe in CI): f32 on both backends, the same run."""
    cfg = fpgen.Config.from_toml(CONFIGS / "subcritical_2d.toml")
    cfg.update({"grid.cells": 65, "run.t_final": 0.05, "run.precision": "f32"})
    try:
        gpu = fpgen.run(cfg, backend="gpu", progress=False)
    except fpgen.FpgenError as e:
        if "adapter" in str(e) and not os.environ.get("FPGEN_REQUIRE_GPU"):
            pytest.skip(f"NO GPU ADAPTER: the GPU test is skipped ({e}); set FPGEN_REQUIRE_GPU=1 to fail instead")
        raise
    cpu = fpgen.run(cfg, backend="cpu", progress=False)
    assert fpgen.summary(gpu)["backend"] != "cpu"
    f_gpu, f_cpu = gpu.f.isel(t=-1).values, cpu.f.isel(t=-1).values
    # f32 round-off over a few hundred steps, relative to the peak
    assert np.abs(f_gpu - f_cpu).max() <= 1e-5 * f_cpu.max()
    h = float(gpu.x[1] - gpu.x[0])
    assert f_gpu.sum() * h * h == pytest.approx(fpgen.summary(cpu)["mass_initial"], rel=1e-5)


# --- sweeps ----------------------------------------------------------------------------


def test_collected_sweep_opens_with_its_axes_as_dimensions(tmp_path):
    binary = fpgen_binary()
    (tmp_path / "spec.toml").write_text(
        textwrap.dedent(
            f"""
            name = "s"
            base = {str(CONFIGS / 'subcritical_1d.toml')!r}
            set = {{ "grid.cells" = 51, "run.t_final" = 0.05, "output.frames" = false }}
            [axes]
            "initial.mass_ratio" = [0.5, 1.5]
            "scheme.kind" = ["upwind", "gradient-flow"]
            [zip.res]
            "grid.half_width" = [6.0, 8.0]
            "run.output_every" = [0.05, 0.025]
            """
        )
    )
    out = tmp_path / "out"
    subprocess.run([binary, "sweep", tmp_path / "spec.toml", "--out", out, "--jobs", "2", "--quiet"], check=True)
    subprocess.run([binary, "collect", out / "s"], check=True, capture_output=True)
    ds = fpgen.open(out / "s" / "collect.zarr")
    assert ds.steps.dims == ("initial.mass_ratio", "scheme.kind", "res")
    assert list(ds["initial.mass_ratio"].values) == [0.5, 1.5]
    assert list(ds["grid.half_width"].values) == [6.0, 8.0] and "grid.half_width" in ds.coords
    assert ds["scheme.kind"].attrs["labels"] == ["upwind", "gradient-flow"]
    assert (ds.status.values == 1).all()  # completed
    mass = ds.mass_initial.sel({"scheme.kind": 0}).isel(res=0).values
    m_c = fpgen.critical_mass(1, 3.0, box_half_width=6.0)["critical_mass_box"]
    np.testing.assert_allclose(mass, [0.5 * m_c, 1.5 * m_c], rtol=1e-12)
    if _has_zarr():
        xr.testing.assert_identical(ds.drop_attrs(), xr.open_zarr(out / "s" / "collect.zarr").load().drop_attrs())
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ds.steps.isel(res=0).plot(x="initial.mass_ratio", hue="scheme.kind")
