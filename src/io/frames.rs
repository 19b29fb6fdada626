//! PNG frames: a colour-mapped image of a 2D density, or a line plot of a 1D profile.

use std::path::Path;
use std::sync::OnceLock;

use image::{Rgb, RgbImage};

use crate::config::{Colormap, OutputSection};
use crate::error::Result;
use crate::grid::Grid;

/// The 256 colours of a colour map: matplotlib's viridis, magma, cividis and RdBu_r
/// (diverging: blue for low, red for high), exact (src/io/colormap_tables.rs, generated
/// from matplotlib by scripts/colormap-tables.py); gray is i → (i, i, i).
pub fn table(map: Colormap) -> &'static [[u8; 3]; 256] {
    use super::colormap_tables as t;
    static GRAY: OnceLock<[[u8; 3]; 256]> = OnceLock::new();
    match map {
        Colormap::Viridis => &t::VIRIDIS,
        Colormap::Magma => &t::MAGMA,
        Colormap::Cividis => &t::CIVIDIS,
        Colormap::Diverging => &t::DIVERGING,
        Colormap::Gray => GRAY.get_or_init(|| std::array::from_fn(|i| [i as u8; 3])),
    }
}

/// The table entry of s ∈ [0, 1] (nearest; non-finite → 0). Twin: `to_byte` in
/// shaders/colormap.wgsl.
pub fn entry(s: f64) -> usize {
    let s = if s.is_finite() { s.clamp(0.0, 1.0) } else { 0.0 };
    (255.0 * s + 0.5).floor() as usize
}

/// Colour of s ∈ [0, 1].
pub fn colour(map: Colormap, s: f64) -> [u8; 3] {
    table(map)[entry(s)]
}

/// Maps densities to [0, 1]: linear on [lo, hi], or log10 on [lo, hi] (lo > 0).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

impl Scale {
    /// `output.color_range` when set; otherwise a range that covers values in
    /// [min, max]: linear [min(0, min), max], log `log_decades` decades below max.
    pub fn covering(opts: &OutputSection, min: f64, max: f64) -> Self {
        let (lo, hi) = match opts.color_range {
            Some([lo, hi]) => (lo, hi),
            None => {
                let hi = if max > 0.0 && max.is_finite() { max } else { 1.0 };
                if opts.log_scale {
                    (hi * 10f64.powf(-opts.log_decades), hi)
                } else {
                    let lo = if min.is_finite() { min.min(0.0) } else { 0.0 };
                    (lo, if hi > lo { hi } else { lo + 1.0 })
                }
            }
        };
        Self { lo, hi, log: opts.log_scale }
    }

    pub fn unit(&self, v: f64) -> f64 {
        if self.log {
            let (a, b) = (self.lo.log10(), self.hi.log10());
            if v <= 0.0 {
                0.0
            } else {
                (v.log10() - a) / (b - a)
            }
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

/// Smallest and largest finite values seen.
#[derive(Clone, Copy, Debug)]
pub struct Extremes {
    pub min: f64,
    pub max: f64,
}

impl Default for Extremes {
    fn default() -> Self {
        Self { min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Extremes {
    pub fn add(&mut self, field: &[f64]) {
        for &v in field.iter().filter(|v| v.is_finite()) {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
    }
}

/// How frames of a run are drawn: one colour range for every frame of the run, so that
/// frames compare (values outside it are drawn in the end colours).
#[derive(Clone, Copy, Debug)]
pub struct FrameStyle {
    pub colormap: Colormap,
    pub scale: Scale,
    pub min_pixels: u32,
}

impl FrameStyle {
    /// The style of a run whose frames cover the values of `fields`.
    pub fn covering<'a>(opts: &OutputSection, fields: impl IntoIterator<Item = &'a [f64]>) -> Self {
        let mut extremes = Extremes::default();
        for f in fields {
            extremes.add(f);
        }
        Self::for_extremes(opts, &extremes)
    }

    pub fn for_extremes(opts: &OutputSection, e: &Extremes) -> Self {
        Self {
            colormap: opts.colormap,
            scale: Scale::covering(opts, e.min, e.max),
            min_pixels: opts.min_pixels,
        }
    }

    /// Pixels per cell along each axis of a 2D frame of `cells` per side.
    pub fn pixels_per_cell(&self, cells: usize) -> u32 {
        self.min_pixels.div_ceil(cells as u32).max(1)
    }
}

/// Render a 2D field (index [ix, iy]) with y pointing up, cells upscaled to at least
/// `min_pixels` per side; a 1D profile as a line plot.
pub fn render(grid: &Grid, field: &[f64], style: &FrameStyle) -> RgbImage {
    if grid.dim == 1 {
        return plot_profile(field, style);
    }
    let n = grid.cells as u32;
    let k = style.pixels_per_cell(grid.cells);
    RgbImage::from_fn(n * k, n * k, |px, py| {
        let ix = (px / k) as usize;
        let iy = (n - 1 - py / k) as usize;
        Rgb(colour(style.colormap, style.scale.unit(field[ix * grid.cells + iy])))
    })
}

fn plot_profile(field: &[f64], style: &FrameStyle) -> RgbImage {
    let (w, h) = (style.min_pixels.max(256) * 3 / 2, style.min_pixels.max(256));
    let margin = 8u32;
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let (pw, ph) = (w - 2 * margin, h - 2 * margin);
    let line = colour(style.colormap, 0.25);
    let n = field.len();
    let y_of = |v: f64| -> u32 {
        let s = style.scale.unit(v).clamp(0.0, 1.0);
        margin + ((1.0 - s) * (ph - 1) as f64).round() as u32
    };
    let mut prev: Option<u32> = None;
    for px in 0..pw {
        // linear interpolation between the cell centres around this pixel column
        let pos = ((px as f64 + 0.5) / pw as f64 * n as f64 - 0.5).clamp(0.0, (n - 1) as f64);
        let i = (pos.floor() as usize).min(n.saturating_sub(2));
        let w = pos - i as f64;
        let v = if n > 1 { (1.0 - w) * field[i] + w * field[i + 1] } else { field[0] };
        let y = y_of(v);
        let (a, b) = match prev {
            Some(p) => (p.min(y), p.max(y)),
            None => (y, y),
        };
        for yy in a..=b {
            for t in 0..2 {
                img.put_pixel(margin + px, (yy + t).min(h - 1), Rgb(line));
            }
        }
        prev = Some(y);
    }
    // frame around the plot area
    for x in margin - 1..=margin + pw {
        img.put_pixel(x, margin - 1, Rgb([0, 0, 0]));
        img.put_pixel(x, margin + ph, Rgb([0, 0, 0]));
    }
    for y in margin - 1..=margin + ph {
        img.put_pixel(margin - 1, y, Rgb([0, 0, 0]));
        img.put_pixel(margin + pw, y, Rgb([0, 0, 0]));
    }
    img
}

/// The figure of a field: a 2D colour map in axes with its colour bar, or a 1D profile
/// as a line plot, under `title`.
pub fn figure(grid: &Grid, field: &[f64], style: &FrameStyle, title: &str) -> RgbImage {
    if grid.dim == 1 {
        let labels = super::figure::Labels::new(title, grid.half_width, "f");
        let scale = style.scale;
        return match super::figure::lines(&grid.centres(), &[("f".into(), field)], &scale, &labels) {
            Ok(image) => image,
            Err(why) => {
                log::warn!("{why}; the frame is drawn without axes");
                render(grid, field, style)
            }
        };
    }
    frame_figure(grid, render(grid, field, style), style, title)
}

/// A 2D colour map already drawn (on the device, or by `render`) placed in its axes with
/// the colour bar and `title`; the bare image where the figure cannot be drawn.
pub fn frame_figure(grid: &Grid, image: RgbImage, style: &FrameStyle, title: &str) -> RgbImage {
    let labels = super::figure::Labels::new(title, grid.half_width, "f");
    match super::figure::framed_2d(&image, &style.scale, style.colormap, &labels) {
        Ok(figure) => figure,
        Err(why) => {
            log::warn!("{why}; the frame is drawn without axes");
            image
        }
    }
}

/// The kymograph of a 1D run: f(t, x) as an image, x across and t up (each pixel row shows
/// the latest snapshot at or before its time), in axes x, t with the colour bar.
pub fn kymograph(
    grid: &Grid,
    times: &[f64],
    fields: &[Vec<f64>],
    style: &FrameStyle,
    title: &str,
) -> RgbImage {
    let k = style.pixels_per_cell(grid.cells);
    let width = grid.cells as u32 * k;
    let height = (width * 2 / 3).max(200);
    let (t0, t1) = (times.first().copied().unwrap_or(0.0), times.last().copied().unwrap_or(1.0));
    let image = RgbImage::from_fn(width, height, |px, py| {
        let t = t0 + (t1 - t0) * (1.0 - (py as f64 + 0.5) / height as f64);
        let snapshot = times.iter().rposition(|&s| s <= t).unwrap_or(0);
        let value = fields.get(snapshot).map_or(0.0, |f| f[(px / k) as usize]);
        Rgb(colour(style.colormap, style.scale.unit(value)))
    });
    let mut labels = super::figure::Labels::new(title, grid.half_width, "f");
    labels.vertical = Some(("t".into(), t0, t1));
    match super::figure::framed_2d(&image, &style.scale, style.colormap, &labels) {
        Ok(figure) => figure,
        Err(why) => {
            log::warn!("{why}; the kymograph is drawn without axes");
            image
        }
    }
}

pub fn write_frame(path: &Path, grid: &Grid, field: &[f64], style: &FrameStyle, title: &str) -> Result<()> {
    save_png(path, &figure(grid, field, style, title))
}

/// Where the particles are, finer than the grid: a `min_pixels`² histogram of the positions
/// (y up), log-scaled from half a particle to its fullest pixel, so single particles show.
pub fn scatter_image(x: &[f64], grid: &Grid, opts: &OutputSection) -> RgbImage {
    scatter(x, grid, opts).0
}

/// `scatter_image` in its axes, with the colour bar of its counts per pixel.
pub fn scatter_figure(x: &[f64], grid: &Grid, opts: &OutputSection, title: &str) -> RgbImage {
    let (image, scale) = scatter(x, grid, opts);
    let labels = super::figure::Labels::new(title, grid.half_width, "points per pixel");
    match super::figure::framed_2d(&image, &scale, opts.colormap, &labels) {
        Ok(figure) => figure,
        Err(why) => {
            log::warn!("{why}; the histogram is drawn without axes");
            image
        }
    }
}

/// The histogram image and its log scale of counts.
fn scatter(x: &[f64], grid: &Grid, opts: &OutputSection) -> (RgbImage, Scale) {
    let side = opts.min_pixels.max(64) as usize;
    let l = grid.half_width;
    let mut counts = vec![0u32; side * side];
    let bin = |v: f64| (((v + l) / (2.0 * l) * side as f64).floor().max(0.0) as usize).min(side - 1);
    for p in x.chunks_exact(2) {
        // pixel (px, py): px along x (axis 0), py from the top
        counts[(side - 1 - bin(p[1])) * side + bin(p[0])] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let scale = Scale { lo: 0.5, hi: max.max(1.0), log: true };
    let image = RgbImage::from_fn(side as u32, side as u32, |px, py| {
        let c = counts[py as usize * side + px as usize] as f64;
        image::Rgb(colour(opts.colormap, if c > 0.0 { scale.unit(c) } else { -1.0 }))
    });
    (image, scale)
}

pub use super::save_png;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormaps_are_the_reference_tables() {
        // matplotlib's _viridis_data / _magma_data, first, middle and last entries
        let viridis = table(Colormap::Viridis);
        assert_eq!((viridis[0], viridis[128], viridis[255]), ([68, 1, 84], [33, 145, 140], [253, 231, 37]));
        let magma = table(Colormap::Magma);
        assert_eq!((magma[0], magma[128], magma[255]), ([0, 0, 4], [183, 55, 121], [252, 253, 191]));
        let cividis = table(Colormap::Cividis);
        assert_eq!((cividis[0], cividis[255]), ([0, 34, 78], [254, 232, 56]));
        // diverging: blue below, white-ish middle, red above
        let d = table(Colormap::Diverging);
        assert!(
            d[0][2] > d[0][0] && d[255][0] > d[255][2] && d[128].iter().all(|&c| c > 230),
            "{:?}",
            d[128]
        );
        assert_eq!(colour(Colormap::Gray, 1.0), [255, 255, 255]);
        assert_eq!(colour(Colormap::Magma, f64::NAN), colour(Colormap::Magma, 0.0));
        // nearest entry: 0.5 / 255 rounds up
        assert_eq!((entry(0.49 / 255.0), entry(0.51 / 255.0), entry(1.0)), (0, 1, 255));
    }

    #[test]
    fn image_is_oriented_with_y_up() {
        let g = Grid::new(2, 4, 1.0).unwrap();
        let mut f = vec![0.0; 16];
        f[3] = 1.0; // ix = 0, iy = 3: top-left corner
        let opts = OutputSection { colormap: Colormap::Gray, min_pixels: 4, ..Default::default() };
        let img = render(&g, &f, &FrameStyle::covering(&opts, [f.as_slice()]));
        assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(3, 3).0, [0, 0, 0]);
    }

    #[test]
    fn log_scale_maps_decades() {
        let opts = OutputSection { log_scale: true, log_decades: 4.0, ..Default::default() };
        let s = FrameStyle::covering(&opts, [[1e-3, 10.0].as_slice()]).scale;
        assert!((s.unit(10.0) - 1.0).abs() < 1e-12 && (s.unit(0.1) - 0.5).abs() < 1e-12);
    }

    /// One range over several fields covers all of them (linear: from min(0, min)).
    #[test]
    fn run_range_covers_every_field() {
        let opts = OutputSection::default();
        let s = FrameStyle::covering(&opts, [[0.5, 2.0].as_slice(), [-1.0, 7.0].as_slice()]).scale;
        assert_eq!((s.lo, s.hi, s.log), (-1.0, 7.0, false));
        let fixed = OutputSection { color_range: Some([0.0, 3.0]), ..Default::default() };
        assert_eq!(FrameStyle::covering(&fixed, [[0.5, 9.0].as_slice()]).scale.hi, 3.0);
        // an all-zero field still gets a non-empty range
        let z = FrameStyle::covering(&opts, [[0.0, 0.0].as_slice()]).scale;
        assert!(z.hi > z.lo);
    }
}
