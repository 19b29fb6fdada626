//! Point clouds for the score-based experiments (docs/MATH.md §4): built-in shapes, sampled
//! (the training data of an empirical score) or, for curves, as dense quadrature of the
//! curve measure (the "true" score). Random draws come from the shared Philox generator
//! (counter (point, 0, draw)), so a seed gives the same cloud everywhere.

use serde::{Deserialize, Serialize};

use super::score::PointCloud;
use crate::rng;

/// A built-in 2D data set. The curves carry the push-forward of the uniform measure on
/// their parameter θ ∈ [0, 2π).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// Bernoulli's lemniscate (a cos θ, a sin θ cos θ)/(1 + sin²θ), a = `scale`.
    Lemniscate,
    /// The circle of radius `scale`.
    Circle,
    /// Two interleaved half circles of radius `scale` (the usual "two moons"), centred.
    TwoMoons,
    /// k × k Gaussians of standard deviation `noise` at spacing `scale`, centred.
    GaussianGrid,
}

impl Shape {
    pub fn is_curve(self) -> bool {
        matches!(self, Shape::Lemniscate | Shape::Circle)
    }

    /// The curve's point at θ (curves only).
    pub fn curve_point(self, scale: f64, theta: f64) -> [f64; 2] {
        let (s, c) = theta.sin_cos();
        match self {
            Shape::Lemniscate => [scale * c / (1.0 + s * s), scale * s * c / (1.0 + s * s)],
            _ => [scale * c, scale * s],
        }
    }
}

/// Parameters of a shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapeParams {
    pub scale: f64,
    /// Gaussian noise added to each sample (standard deviation); the grid's spread.
    pub noise: f64,
    /// Gaussians per side of the grid.
    pub side: usize,
}

fn uniforms(seed: u64, id: usize) -> [f64; 4] {
    rng::uniform_u32x4(seed, id as u32, 0, 0).map(|u| rng::open_unit(u) as f64)
}

fn normals(seed: u64, id: usize) -> [f64; 4] {
    rng::normals4(seed, id as u32, 0, 1).map(|z| z as f64)
}

/// `count` samples of the shape (count × 2), equally weighted.
pub fn sample(shape: Shape, p: &ShapeParams, count: usize, seed: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(2 * count);
    for i in 0..count {
        let u = uniforms(seed, i);
        let z = normals(seed, i);
        let centre = match shape {
            Shape::Lemniscate | Shape::Circle => shape.curve_point(p.scale, std::f64::consts::TAU * u[0]),
            Shape::TwoMoons => {
                let t = std::f64::consts::PI * u[0];
                if u[1] < 0.5 {
                    [p.scale * (t.cos() - 0.5), p.scale * (t.sin() - 0.25)]
                } else {
                    [p.scale * (0.5 - t.cos()), p.scale * (0.25 - t.sin())]
                }
            }
            Shape::GaussianGrid => {
                let k = p.side.max(1);
                let cell = ((u[0] * (k * k) as f64) as usize).min(k * k - 1);
                let offset = 0.5 * (k - 1) as f64;
                [p.scale * ((cell / k) as f64 - offset), p.scale * ((cell % k) as f64 - offset)]
            }
        };
        out.push(centre[0] + p.noise * z[0]);
        out.push(centre[1] + p.noise * z[1]);
    }
    out
}

/// The curve measure as `nodes` equally weighted points at equally spaced θ (the midpoint
/// rule, spectrally accurate for these smooth periodic curves).
pub fn quadrature(shape: Shape, scale: f64, nodes: usize) -> Vec<f64> {
    (0..nodes)
        .flat_map(|i| shape.curve_point(scale, std::f64::consts::TAU * (i as f64 + 0.5) / nodes as f64))
        .collect()
}

/// A cloud of samples (empirical) or quadrature nodes (curves), equally weighted.
pub fn shape_cloud(
    shape: Shape,
    p: &ShapeParams,
    count: usize,
    seed: u64,
    exact: bool,
) -> Result<PointCloud, String> {
    let points = if exact {
        if !shape.is_curve() {
            return Err(format!("{shape:?} is not a curve: its exact score is not a point cloud"));
        }
        quadrature(shape, p.scale, count)
    } else {
        sample(shape, p, count, seed)
    };
    PointCloud::new(2, points, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of the lemniscate and circle lie on the curve (noise 0), the two moons and
    /// the grid are centred, and a seed reproduces its cloud.
    #[test]
    fn shapes_lie_where_they_should() {
        let p = ShapeParams { scale: 2.0, noise: 0.0, side: 3 };
        let dense = PointCloud::new(2, quadrature(Shape::Lemniscate, 2.0, 20_000), None).unwrap();
        let samples = sample(Shape::Lemniscate, &p, 500, 1);
        // nodes 2π·2/20000 apart along θ at most (speed ≤ a): within 6.3e-4 of a node
        let far = samples.chunks(2).map(|x| dense.distance_to(x)).fold(0.0, f64::max);
        assert!(far < 7e-4, "lemniscate sample {far} from the curve");
        let circle = sample(Shape::Circle, &p, 100, 1);
        assert!(circle.chunks(2).all(|x| ((x[0] * x[0] + x[1] * x[1]).sqrt() - 2.0).abs() < 1e-12));
        for shape in [Shape::TwoMoons, Shape::GaussianGrid] {
            let s = sample(shape, &ShapeParams { noise: 0.1, ..p }, 20_000, 3);
            let mean_x = s.chunks(2).map(|x| x[0]).sum::<f64>() / 20_000.0;
            assert!(mean_x.abs() < 0.05, "{shape:?}: mean x {mean_x}");
        }
        assert_eq!(sample(Shape::TwoMoons, &p, 10, 9), sample(Shape::TwoMoons, &p, 10, 9));
        assert_ne!(sample(Shape::TwoMoons, &p, 10, 9), sample(Shape::TwoMoons, &p, 10, 8));
        assert!(shape_cloud(Shape::TwoMoons, &p, 10, 0, true).is_err());
    }
}
