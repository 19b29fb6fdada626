"""Your own score model in fpgen's sampler and theory checks: a Gaussian mixture fitted by EM
in NumPy to points on the lemniscate of Bernoulli, whose heat-flow score is known in closed
form, s(x, t) = Σ_k π_k(x, t) (μ_k − x) / (σ_k² + 2t). Any model that maps an (n, 2) array
and a time to an (n, 2) array plugs in the same way (a JAX or PyTorch network wrapped to
return NumPy).

It samples with the fitted score and with the data's exact score, runs check-theory on both,
and draws the two sets of samples over the data:

    python examples/own_score.py [--out out/examples] [--quick]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpgen  # noqa: E402


def lemniscate(n, scale=2.0, seed=0):
    """n points on x = a cos u / (1 + sin² u), y = a sin u cos u / (1 + sin² u)."""
    u = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
    d = 1 + np.sin(u) ** 2
    return np.stack([scale * np.cos(u) / d, scale * np.sin(u) * np.cos(u) / d], axis=1)


def fit_mixture(x, components, iterations=200, seed=0):
    """EM for isotropic Gaussians: weights π, means μ, variances σ²."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    mu = x[rng.choice(n, components, replace=False)]
    var = np.full(components, x.var())
    pi = np.full(components, 1.0 / components)
    for _ in range(iterations):
        d2 = ((x[:, None, :] - mu[None]) ** 2).sum(-1)
        log_r = np.log(pi) - 0.5 * d * np.log(var) - d2 / (2 * var)
        log_r -= log_r.max(axis=1, keepdims=True)
        r = np.exp(log_r)
        r /= r.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0) + 1e-12
        pi = nk / n
        mu = (r.T @ x) / nk[:, None]
        d2 = ((x[:, None, :] - mu[None]) ** 2).sum(-1)
        var = np.maximum((r * d2).sum(axis=0) / (d * nk), 1e-6)
    return pi, mu, var


def mixture_score(pi, mu, var):
    """The score of the mixture under the heat flow (D = 1): each component's variance grows
    by 2t."""

    def score(x, t):
        v = var + 2 * t
        d2 = ((x[:, None, :] - mu[None]) ** 2).sum(-1)
        log_r = np.log(pi) - 0.5 * x.shape[1] * np.log(v) - d2 / (2 * v)
        log_r -= log_r.max(axis=1, keepdims=True)
        r = np.exp(log_r)
        r /= r.sum(axis=1, keepdims=True)
        return ((r / v)[:, :, None] * (mu[None] - x[:, None, :])).sum(axis=1)

    return score


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/examples", help="folder of the figure and the runs")
    parser.add_argument("--quick", action="store_true", help="fewer points and samples (a smoke test)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data = lemniscate(200 if args.quick else 1000)
    pi, mu, var = fit_mixture(data, components=24, iterations=50 if args.quick else 200)
    model = mixture_score(pi, mu, var)
    print(f"fitted 24 components, σ from {np.sqrt(var.min()):.3f} to {np.sqrt(var.max()):.3f}")

    settings = dict(t_final=1.0, t_min=1e-3, eps=1.0, samples=500 if args.quick else 4000, steps=100, seed=1)
    exact = fpgen.sample(data, progress=False, out=out / "own_score", name="exact", force=True, **settings)
    fitted = fpgen.sample(data, progress=False, score=model, out=out / "own_score", name="fitted", force=True,
                          **settings)

    checks = dict(t_min=1e-3, cells=65 if args.quick else 129, name="check", progress=False)
    for label, score in [("exact score", None), ("fitted mixture", model)]:
        report = fpgen.check_theory(data, score=score, **checks)
        print(f"\ncheck-theory, {label}: {'all pass' if report['passed'] else 'FAILS'}")
        for c in report["checks"]:
            print(f"  {'pass' if c['pass'] else 'FAIL'}  {c['measured']:>11.4e}  {c['name']}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.1), sharex=True, sharey=True, constrained_layout=True)
    for ax, ds, title in [(axes[0], exact, "exact score"), (axes[1], fitted, "fitted mixture score")]:
        s = ds.samples.isel(t_min=0).values
        ax.plot(data[:, 0], data[:, 1], ".", ms=2, color="0.6", label="data")
        ax.plot(s[:, 0], s[:, 1], ".", ms=1.5, alpha=0.6, label="samples")
        ax.set(title=f"{title} (t_min = 1e-3)", xlabel="x", aspect="equal")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="center", markerscale=4, fontsize="small")
    figure = out / "own_score.png"
    fig.savefig(figure, dpi=120)
    print(f"\nfigure: {figure}")


if __name__ == "__main__":
    main()
