//! Cloud-in-cell density estimate of a particle cloud on the solver's grid, in fixed point:
//! every particle carries the same whole number of mass units, its cloud-in-cell weights
//! are quantised to 1/2^15 per axis and split so that the parts add up to exactly that
//! number; the integer grid therefore holds exactly N_p × units, in any summation order
//! (the GPU twin adds with integer atomics and gets the same grid).

use crate::grid::Grid;

/// Weight resolution per axis.
pub const WEIGHT_BITS: u32 = 15;
pub const WEIGHT_ONE: u32 = 1 << WEIGHT_BITS;

/// Mass units of one particle: the product of its per-axis weights, which always sum to
/// WEIGHT_ONE per axis.
pub fn particle_units(dim: usize) -> u64 {
    (WEIGHT_ONE as u64).pow(dim as u32)
}

/// Lower cell and the quantised weight of the upper cell (lower + 1) of a position along one
/// axis. All in f32 with the operations of the WGSL twin. Cell centres are at (c + ½) h from
/// the wall; a particle in the outer half of a boundary cell puts all its weight there.
pub fn cic_axis(x: f32, half_width: f32, inv_h: f32, cells: u32) -> (u32, u32) {
    let t = (x + half_width) * inv_h;
    let c = t.floor();
    let frac = t - c;
    let (lower, w) = if frac < 0.5 { (c - 1.0, frac + 0.5) } else { (c, frac - 0.5) };
    if lower < 0.0 {
        return (0, 0);
    }
    if lower > (cells - 2) as f32 {
        return (cells - 2, WEIGHT_ONE);
    }
    let wq = ((w * WEIGHT_ONE as f32).floor() as u32).min(WEIGHT_ONE);
    (lower as u32, wq)
}

/// The cloud-in-cell stencil of one particle: flat index of its lower corner cell and the
/// per-axis (lower, upper) weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stencil {
    pub corner: usize,
    /// Weight of the upper cell along axis 1 (the row) and axis 0 (2D only).
    pub w_along: u32,
    pub w_across: u32,
}

/// Geometry of the deposition grid in f32 (shared by CPU and GPU).
#[derive(Clone, Copy, Debug)]
pub struct CicGrid {
    pub dim: usize,
    pub cells: u32,
    pub half_width: f32,
    pub inv_h: f32,
}

impl CicGrid {
    pub fn new(grid: &Grid) -> Self {
        Self {
            dim: grid.dim,
            cells: grid.cells as u32,
            half_width: grid.half_width as f32,
            inv_h: (1.0 / grid.h()) as f32,
        }
    }

    /// The stencil of a particle at `pos` (one coordinate per axis, axis 0 first).
    pub fn stencil(&self, pos: &[f32]) -> Stencil {
        let n = self.cells;
        let (j, w_along) = cic_axis(pos[self.dim - 1], self.half_width, self.inv_h, n);
        if self.dim == 1 {
            return Stencil { corner: j as usize, w_along, w_across: 0 };
        }
        let (i, w_across) = cic_axis(pos[0], self.half_width, self.inv_h, n);
        Stencil { corner: (i * n + j) as usize, w_along, w_across }
    }

    /// Add one particle's units to `units` (a grid of N^dim integers).
    pub fn deposit(&self, s: Stencil, units: &mut [u64]) {
        let (b1, a1) = ((WEIGHT_ONE - s.w_along) as u64, s.w_along as u64);
        if self.dim == 1 {
            units[s.corner] += b1;
            units[s.corner + 1] += a1;
            return;
        }
        let (b0, a0) = ((WEIGHT_ONE - s.w_across) as u64, s.w_across as u64);
        let n = self.cells as usize;
        units[s.corner] += b0 * b1;
        units[s.corner + 1] += b0 * a1;
        units[s.corner + n] += a0 * b1;
        units[s.corner + n + 1] += a0 * a1;
    }

    /// The field interpolated at a particle with the same weights.
    pub fn gather(&self, s: Stencil, field: &[f64]) -> f64 {
        let one = WEIGHT_ONE as f64;
        let (a1, b1) = (s.w_along as f64 / one, (WEIGHT_ONE - s.w_along) as f64 / one);
        let row = |k: usize| b1 * field[k] + a1 * field[k + 1];
        if self.dim == 1 {
            return row(s.corner);
        }
        let (a0, b0) = (s.w_across as f64 / one, (WEIGHT_ONE - s.w_across) as f64 / one);
        b0 * row(s.corner) + a0 * row(s.corner + self.cells as usize)
    }
}

/// One smoothing sweep per axis: f ← f + ¼ (f₋ − 2f + f₊), zero flux at the walls (the
/// mass is kept).
pub fn smooth(field: &mut [f64], scratch: &mut [f64], dim: usize, n: usize) {
    use rayon::prelude::*;
    for axis in 0..dim {
        scratch.copy_from_slice(field);
        let stride = if dim == 2 && axis == 0 { n } else { 1 };
        let src = &*scratch;
        field.par_chunks_mut(n).enumerate().for_each(|(row, out)| {
            for (j, o) in out.iter_mut().enumerate() {
                let idx = row * n + j;
                let pos = (idx / stride) % n;
                let centre = src[idx];
                let below = if pos > 0 { src[idx - stride] } else { centre };
                let above = if pos + 1 < n { src[idx + stride] } else { centre };
                *o = centre + 0.25 * (below - 2.0 * centre + above);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_split_between_the_two_nearest_centres() {
        let g = CicGrid { dim: 1, cells: 10, half_width: 5.0, inv_h: 1.0 };
        // centres at -4.5, -3.5, ...: x = -4.0 is halfway between cells 0 and 1
        assert_eq!(cic_axis(-4.0, 5.0, 1.0, 10), (0, WEIGHT_ONE / 2));
        // at a centre: all weight on that cell (as the lower one)
        assert_eq!(cic_axis(-3.5, 5.0, 1.0, 10), (1, 0));
        // the outer halves of the boundary cells keep everything
        assert_eq!(cic_axis(-4.9, 5.0, 1.0, 10), (0, 0));
        assert_eq!(cic_axis(4.9, 5.0, 1.0, 10), (8, WEIGHT_ONE));
        assert_eq!(cic_axis(5.0, 5.0, 1.0, 10), (8, WEIGHT_ONE));
        let mut units = vec![0u64; 10];
        g.deposit(g.stencil(&[-4.0]), &mut units);
        assert_eq!(units[..2], [WEIGHT_ONE as u64 / 2, WEIGHT_ONE as u64 / 2]);
    }

    #[test]
    fn smoothing_keeps_the_mass() {
        let mut f: Vec<f64> = (0..49).map(|i| ((i * 7) % 5) as f64).collect();
        let before: f64 = f.iter().sum();
        let mut scratch = vec![0.0; 49];
        for _ in 0..3 {
            smooth(&mut f, &mut scratch, 2, 7);
        }
        assert!((f.iter().sum::<f64>() - before).abs() < 1e-12 * before);
    }
}
