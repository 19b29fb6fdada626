//! A minimal raster plotter for line plots and paths (1D profiles, sampler trajectories):
//! data coordinates mapped onto a white canvas with a frame.

use image::{Rgb, RgbImage};

pub struct Canvas {
    image: RgbImage,
    x_range: (f64, f64),
    y_range: (f64, f64),
    margin: u32,
}

/// Distinct line colours (Okabe–Ito).
pub const PALETTE: [[u8; 3]; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [240, 228, 66],
    [0, 0, 0],
];

impl Canvas {
    pub fn new(width: u32, height: u32, x_range: (f64, f64), y_range: (f64, f64)) -> Self {
        let margin = 8;
        let mut image = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
        for x in margin - 1..=width - margin {
            image.put_pixel(x, margin - 1, Rgb([0, 0, 0]));
            image.put_pixel(x, height - margin, Rgb([0, 0, 0]));
        }
        for y in margin - 1..=height - margin {
            image.put_pixel(margin - 1, y, Rgb([0, 0, 0]));
            image.put_pixel(width - margin, y, Rgb([0, 0, 0]));
        }
        Self { image, x_range, y_range, margin }
    }

    /// Pixel of a data point (y up), unclipped.
    fn pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let (w, h) = (self.image.width() - 2 * self.margin, self.image.height() - 2 * self.margin);
        let u = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0);
        let v = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0);
        (self.margin as f64 + u * (w - 1) as f64, self.margin as f64 + (1.0 - v) * (h - 1) as f64)
    }

    fn put(&mut self, px: f64, py: f64, colour: [u8; 3]) {
        let (w, h) = (self.image.width() - self.margin, self.image.height() - self.margin);
        if px >= self.margin as f64 && py >= self.margin as f64 && px < w as f64 && py < h as f64 {
            self.image.put_pixel(px as u32, py as u32, Rgb(colour));
        }
    }

    /// Colour every pixel inside the frame by `colour(x, y)` of its centre (None: leave).
    pub fn shade(&mut self, colour: impl Fn(f64, f64) -> Option<[u8; 3]>) {
        let (w, h) = (self.image.width() - 2 * self.margin, self.image.height() - 2 * self.margin);
        for py in 0..h {
            for px in 0..w {
                let x = self.x_range.0 + (px as f64 + 0.5) / w as f64 * (self.x_range.1 - self.x_range.0);
                let y = self.y_range.1 - (py as f64 + 0.5) / h as f64 * (self.y_range.1 - self.y_range.0);
                if let Some(c) = colour(x, y) {
                    self.image.put_pixel(px + self.margin, py + self.margin, Rgb(c));
                }
            }
        }
    }

    /// A filled square dot of `radius` pixels.
    pub fn dot(&mut self, x: f64, y: f64, radius: i32, colour: [u8; 3]) {
        let (px, py) = self.pixel(x, y);
        for dx in -radius..=radius {
            for dy in -radius..=radius {
                self.put(px + dx as f64, py + dy as f64, colour);
            }
        }
    }

    /// A polyline through data points (x, y), clipped to the frame.
    pub fn polyline(&mut self, points: &[(f64, f64)], colour: [u8; 3]) {
        for pair in points.windows(2) {
            let (a, b) = (self.pixel(pair[0].0, pair[0].1), self.pixel(pair[1].0, pair[1].1));
            if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
                continue;
            }
            let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().clamp(1.0, 1e5) as usize;
            for k in 0..=steps {
                let s = k as f64 / steps as f64;
                self.put(a.0 + s * (b.0 - a.0), a.1 + s * (b.1 - a.1), colour);
            }
        }
    }

    /// The plotting area alone (no margin, no frame): data ranges span it exactly, so a
    /// figure can place it in its axes.
    pub fn into_interior(self) -> RgbImage {
        let m = self.margin;
        let (w, h) = (self.image.width() - 2 * m, self.image.height() - 2 * m);
        image::imageops::crop_imm(&self.image, m, m, w, h).to_image()
    }

    pub fn into_image(self) -> RgbImage {
        self.image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagonal_runs_corner_to_corner_and_clips() {
        let mut c = Canvas::new(100, 100, (0.0, 1.0), (0.0, 1.0));
        c.polyline(&[(0.0, 0.0), (1.0, 1.0), (5.0, 5.0)], [255, 0, 0]);
        let img = c.into_image();
        assert_eq!(img.get_pixel(8, 91).0, [255, 0, 0]); // (0, 0): bottom left inside the frame
        assert_eq!(img.get_pixel(91, 8).0, [255, 0, 0]); // (1, 1): top right
        assert_eq!(img.get_pixel(50, 20).0, [255, 255, 255]);
    }
}
