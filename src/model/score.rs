//! Exact scores of the linear cases (β = 0; docs/MATH.md §4) for data given as a weighted point
//! cloud u_0 = Σ_j w_j δ_{y_j}.
//!
//! Linear OU ∂t u = ∇·(λ x u) + D Δu is the heat equation with D = 1 after the change of
//! variables x_h = e^{λt} x, t_h = D (e^{2λt} − 1)/(2λ) (t_h = D t for λ = 0):
//! u(t, x) = e^{dλt} ũ(t_h, x_h) with ũ the heat flow (D = 1) of the same cloud. Everything
//! here (and the samplers) works in those heat coordinates, where
//!
//!   ũ(t_h, x) = Σ_j w_j (4π t_h)^{−d/2} exp(−|x − y_j|²/(4 t_h)),
//!   ∇ log ũ = (m − x)/(2 t_h),   m = Σ_j π_j y_j,   π = softmax(log w_j − |x − y_j|²/(4 t_h)),
//!   div ∇ log ũ = −d/(2 t_h) + tr Cov_π(y)/(4 t_h²),
//!
//! and maps back: s(t, x) = e^{λt} ∇ log ũ, div s = e^{2λt} div ∇ log ũ. The posterior sums
//! are one pass over the points with a running maximum (log-sum-exp: one exp per pair, a
//! rescale when the maximum grows), in point order — the structure of shaders/score.wgsl.

use rayon::prelude::*;

/// Largest dimension of a point cloud (the device packs a point and its weight in a vec4).
pub const MAX_DIM: usize = 3;

/// A weighted point cloud; weights normalised to sum 1, kept as logarithms.
#[derive(Clone, Debug, PartialEq)]
pub struct PointCloud {
    pub dim: usize,
    /// n × dim, point by point.
    pub points: Vec<f64>,
    pub log_weights: Vec<f64>,
}

impl PointCloud {
    /// Points (n × dim) with positive weights (normalised here); `None`: equal weights.
    pub fn new(dim: usize, points: Vec<f64>, weights: Option<&[f64]>) -> Result<Self, String> {
        if !(1..=MAX_DIM).contains(&dim) {
            return Err(format!("dimension {dim} is not in 1..={MAX_DIM}"));
        }
        if points.is_empty() || points.len() % dim != 0 {
            return Err(format!("{} coordinates do not make points of dimension {dim}", points.len()));
        }
        if let Some(bad) = points.iter().find(|v| !v.is_finite()) {
            return Err(format!("a point has the coordinate {bad}"));
        }
        let n = points.len() / dim;
        let log_weights = match weights {
            None => vec![-(n as f64).ln(); n],
            Some(w) => {
                if w.len() != n {
                    return Err(format!("{} weights for {n} points", w.len()));
                }
                if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                    return Err(format!("weights must be positive and finite (got {bad})"));
                }
                let total: f64 = w.iter().sum();
                w.iter().map(|v| (v / total).ln()).collect()
            }
        };
        Ok(Self { dim, points, log_weights })
    }

    pub fn len(&self) -> usize {
        self.log_weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log_weights.is_empty()
    }

    pub fn point(&self, j: usize) -> &[f64] {
        &self.points[j * self.dim..(j + 1) * self.dim]
    }

    /// Distance from x to the nearest point.
    pub fn distance_to(&self, x: &[f64]) -> f64 {
        self.points
            .chunks_exact(self.dim)
            .map(|y| y.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .fold(f64::INFINITY, f64::min)
            .sqrt()
    }
}

/// The linear process: λ = 0 is the heat equation ∂t u = D Δu.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearProcess {
    pub lambda: f64,
    pub diffusion: f64,
}

impl LinearProcess {
    /// Heat time t_h (D = 1) of time t.
    pub fn heat_time(&self, t: f64) -> f64 {
        if self.lambda == 0.0 {
            self.diffusion * t
        } else {
            self.diffusion * (2.0 * self.lambda * t).exp_m1() / (2.0 * self.lambda)
        }
    }

    /// x_h / x = e^{λt}.
    pub fn scale(&self, t: f64) -> f64 {
        (self.lambda * t).exp()
    }

    /// Variance per axis of one Gaussian of the mixture at t: σ² = 2 t_h e^{−2λt}.
    pub fn variance(&self, t: f64) -> f64 {
        2.0 * self.heat_time(t) / (self.scale(t) * self.scale(t))
    }
}

/// Sums over the points for one position in heat coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Posterior {
    /// log Σ_j w_j exp(−|x − y_j|²/(4 t_h)).
    pub log_sum: f64,
    /// m = E_π y (first `dim` entries).
    pub mean: [f64; MAX_DIM],
    /// E_π |y|².
    pub second_moment: f64,
}

impl Posterior {
    /// tr Cov_π(y).
    pub fn trace_covariance(&self) -> f64 {
        (self.second_moment - self.mean.iter().map(|m| m * m).sum::<f64>()).max(0.0)
    }
}

/// The posterior sums at x (heat coordinates, heat time t_h): one pass, running maximum.
pub fn posterior(cloud: &PointCloud, t_h: f64, x: &[f64]) -> Posterior {
    let d = cloud.dim;
    let inv_4t = 1.0 / (4.0 * t_h);
    let (mut max, mut sum, mut sum_y, mut sum_yy) = (f64::NEG_INFINITY, 0.0, [0.0; MAX_DIM], 0.0);
    for (y, &lw) in cloud.points.chunks_exact(d).zip(&cloud.log_weights) {
        let r2: f64 = y.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
        let yy: f64 = y.iter().map(|a| a * a).sum();
        let logit = lw - r2 * inv_4t;
        let e = if logit > max {
            // rescale what is summed so far to the new maximum
            let c = (max - logit).exp();
            sum *= c;
            sum_yy *= c;
            sum_y.iter_mut().for_each(|v| *v *= c);
            max = logit;
            1.0
        } else {
            (logit - max).exp()
        };
        sum += e;
        sum_yy += e * yy;
        for a in 0..d {
            sum_y[a] += e * y[a];
        }
    }
    let mut mean = [0.0; MAX_DIM];
    for a in 0..d {
        mean[a] = sum_y[a] / sum;
    }
    Posterior { log_sum: max + sum.ln(), mean, second_moment: sum_yy / sum }
}

/// The largest posterior weight max_j π_j at x (heat coordinates): near 1 when x has
/// collapsed onto one point of the cloud.
pub fn largest_weight(cloud: &PointCloud, t_h: f64, x: &[f64]) -> f64 {
    let inv_4t = 1.0 / (4.0 * t_h);
    let top = cloud
        .points
        .chunks_exact(cloud.dim)
        .zip(&cloud.log_weights)
        .map(|(y, lw)| lw - y.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() * inv_4t)
        .fold(f64::NEG_INFINITY, f64::max);
    (top - posterior(cloud, t_h, x).log_sum).exp()
}

/// The score s(t, x) of the process started from the cloud, into `out` (dim entries).
pub fn score(process: &LinearProcess, cloud: &PointCloud, t: f64, x: &[f64], out: &mut [f64]) {
    let (t_h, k) = (process.heat_time(t), process.scale(t));
    let xh: Vec<f64> = x.iter().map(|v| v * k).collect();
    let p = posterior(cloud, t_h, &xh);
    for a in 0..cloud.dim {
        out[a] = k * (p.mean[a] - xh[a]) / (2.0 * t_h);
    }
}

/// log u(t, x).
pub fn log_density(process: &LinearProcess, cloud: &PointCloud, t: f64, x: &[f64]) -> f64 {
    let (t_h, k) = (process.heat_time(t), process.scale(t));
    let xh: Vec<f64> = x.iter().map(|v| v * k).collect();
    let d = cloud.dim as f64;
    d * k.ln() + posterior(cloud, t_h, &xh).log_sum - 0.5 * d * (4.0 * std::f64::consts::PI * t_h).ln()
}

/// div s(t, x), from the posterior covariance.
pub fn divergence(process: &LinearProcess, cloud: &PointCloud, t: f64, x: &[f64]) -> f64 {
    let (t_h, k) = (process.heat_time(t), process.scale(t));
    let xh: Vec<f64> = x.iter().map(|v| v * k).collect();
    let p = posterior(cloud, t_h, &xh);
    let d = cloud.dim as f64;
    k * k * (-d / (2.0 * t_h) + p.trace_covariance() / (4.0 * t_h * t_h))
}

/// Posterior means in heat coordinates of many positions (count × dim), in parallel: the
/// CPU twin of the device's `mean` kernel. Returns count × MAX_DIM means and the log sums.
pub fn posterior_means(cloud: &PointCloud, t_h: f64, positions: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let d = cloud.dim;
    let count = positions.len() / d;
    let mut means = vec![0.0; count * MAX_DIM];
    let mut log_sums = vec![0.0; count];
    means.par_chunks_mut(MAX_DIM).zip(log_sums.par_iter_mut()).enumerate().for_each(|(i, (m, ls))| {
        let p = posterior(cloud, t_h, &positions[i * d..(i + 1) * d]);
        m.copy_from_slice(&p.mean);
        *ls = p.log_sum;
    });
    (means, log_sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_diracs() -> PointCloud {
        PointCloud::new(1, vec![-5.0, 0.0, 5.0], Some(&[0.7, 0.3, 0.1])).unwrap()
    }

    /// The score is the gradient of the log-density: central differences of log u agree to
    /// their O(δ²) error, for heat and OU, in 1D and 2D, at several t.
    #[test]
    fn score_is_the_gradient_of_the_log_density() {
        let cloud2 = PointCloud::new(2, vec![1.0, 0.0, -1.0, 0.5, 0.2, -2.0], None).unwrap();
        for process in
            [LinearProcess { lambda: 0.0, diffusion: 1.0 }, LinearProcess { lambda: 0.7, diffusion: 0.5 }]
        {
            for (cloud, x) in [(three_diracs(), vec![1.3]), (cloud2.clone(), vec![0.4, -0.3])] {
                for t in [0.05, 0.3, 2.0] {
                    let mut s = [0.0; MAX_DIM];
                    score(&process, &cloud, t, &x, &mut s);
                    let scale = 1.0 / process.variance(t).sqrt();
                    let delta = 1e-4 * process.variance(t).sqrt();
                    for a in 0..cloud.dim {
                        let (mut up, mut down) = (x.clone(), x.clone());
                        up[a] += delta;
                        down[a] -= delta;
                        let fd = (log_density(&process, &cloud, t, &up)
                            - log_density(&process, &cloud, t, &down))
                            / (2.0 * delta);
                        assert!(
                            (fd - s[a]).abs() < 1e-6 * scale.max(s[a].abs()),
                            "t {t}: fd {fd} vs {}",
                            s[a]
                        );
                    }
                }
            }
        }
    }

    /// The density integrates to 1 and div s matches central differences of s.
    #[test]
    fn density_is_normalised_and_divergence_matches_differences() {
        let process = LinearProcess { lambda: 0.5, diffusion: 1.0 };
        let cloud = three_diracs();
        for t in [0.1, 1.0] {
            let h = 1e-3;
            let mass: f64 = (0..40_000)
                .map(|i| log_density(&process, &cloud, t, &[-20.0 + (i as f64 + 0.5) * h]).exp() * h)
                .sum();
            assert!((mass - 1.0).abs() < 1e-9, "t {t}: mass {mass}");
            let x = 0.7;
            let (mut up, mut down) = ([0.0; MAX_DIM], [0.0; MAX_DIM]);
            let delta = 1e-4;
            score(&process, &cloud, t, &[x + delta], &mut up);
            score(&process, &cloud, t, &[x - delta], &mut down);
            let fd = (up[0] - down[0]) / (2.0 * delta);
            let div = divergence(&process, &cloud, t, &[x]);
            assert!((fd - div).abs() < 1e-6 * div.abs().max(1.0), "t {t}: {fd} vs {div}");
        }
    }

    /// Far from every point (logits ≈ −10⁶) the running maximum keeps the sums finite and
    /// the mean is the nearest point's.
    #[test]
    fn posterior_is_stable_far_from_the_data() {
        let cloud = three_diracs();
        let p = posterior(&cloud, 1e-4, &[40.0]);
        assert!(p.log_sum.is_finite());
        assert!((p.mean[0] - 5.0).abs() < 1e-12);
    }

    #[test]
    fn bad_clouds_are_refused() {
        assert!(PointCloud::new(2, vec![1.0, 2.0, 3.0], None).is_err());
        assert!(PointCloud::new(1, vec![1.0, 2.0], Some(&[1.0, -1.0])).is_err());
        assert!(PointCloud::new(4, vec![0.0; 4], None).is_err());
    }
}
