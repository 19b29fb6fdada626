//! Floating-point precision of a field: the CPU backend is generic over f32 and f64.

use std::fmt::{Debug, Display};

/// A field element type (f32 or f64).
pub trait Real:
    num_traits::Float + Send + Sync + Debug + Display + Default + 'static + ndarray_npy::WritableElement
{
    /// Name as written in configs and summaries ("f32" / "f64").
    const NAME: &'static str;
    fn from_f64(x: f64) -> Self;
    fn as_f64(self) -> f64;
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

/// Neumaier-compensated sum: mass sums must not lose digits over 10^6 cells.
#[derive(Clone, Copy, Debug, Default)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut s = CompensatedSum::default();
        s.add(1.0);
        for _ in 0..1_000_000 {
            s.add(1e-16);
        }
        s.add(-1.0);
        // a naive sum would return 0 here (1 + 1e-16 == 1)
        assert!((s.value() - 1e-10).abs() < 1e-19, "{}", s.value());
    }
}
