//! Figures for papers, drawn with plotters and the shipped DejaVu Sans (assets/fonts, with
//! its licence): a 2D field's colour-mapped image (from the device or the host, pixel for
//! pixel as drawn) placed in axes with ticks and labels, beside a colour bar on the same
//! scale (linear or log), under a title; a 1D profile as a line plot with its axes.

use std::sync::OnceLock;

use image::RgbImage;
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;

use super::frames::{colour, Scale};
use crate::config::Colormap;

const FONT: &str = "sans-serif";

/// Register the shipped font with plotters (once); false when it cannot be read.
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok()
    })
}

/// What a figure says about its field.
#[derive(Clone, Debug)]
pub struct Labels {
    /// e.g. "supercritical_2d   t = 0.2500".
    pub title: String,
    /// The extent of both axes, [-L, L].
    pub half_width: f64,
    /// The colour bar's (2D) or the vertical axis's (1D) label.
    pub value: String,
    /// The vertical axis of a 2D figure when it is not y ∈ [-L, L] (a kymograph's t).
    pub vertical: Option<(String, f64, f64)>,
    /// The horizontal axis when it is not x ∈ [-L, L].
    pub horizontal: Option<(String, f64, f64)>,
}

impl Labels {
    pub fn new(title: impl Into<String>, half_width: f64, value: impl Into<String>) -> Self {
        Self { title: title.into(), half_width, value: value.into(), vertical: None, horizontal: None }
    }
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("cannot draw the figure: {e}")
}

/// `field` (a k × k-pixel-per-cell image, y up) inside axes x, y ∈ [-L, L], with a colour
/// bar of `scale` and `map` and a title.
pub fn framed_2d(
    field: &RgbImage,
    scale: &Scale,
    map: Colormap,
    labels: &Labels,
) -> Result<RgbImage, String> {
    framed(field, Some((scale, map)), labels)
}

/// An image (a colour map, or a plot drawn on its own pixels: paths, histograms) inside
/// its axes, with a colour bar when it is a colour map.
pub fn framed(
    field: &RgbImage,
    bar: Option<(&Scale, Colormap)>,
    labels: &Labels,
) -> Result<RgbImage, String> {
    if !font_ready() {
        return Err("the shipped font cannot be loaded".into());
    }
    let side = field.width().max(64);
    let text = (side.max(field.height()) / 40).clamp(13, 28);
    let (left, bottom, top) = (5 * text, 4 * text, 3 * text);
    let bar_width = if bar.is_some() { 10 * text } else { text };
    let (mut w, mut h) = (left + side + bar_width + text, top + field.height().max(64) + bottom);
    // the layout puts the caption and axes where the font says: draw once, then size the
    // canvas so that the plotting area is exactly the field's image
    let mut drawn = draw_2d(w, h, side, bar, labels, text)?;
    let (xs, ys) = (&drawn.1, &drawn.2);
    let (dw, dh) = (side as i32 - (xs.end - xs.start), field.height() as i32 - (ys.end - ys.start));
    if dw != 0 || dh != 0 {
        w = (w as i32 + dw).max(1) as u32;
        h = (h as i32 + dh).max(1) as u32;
        drawn = draw_2d(w, h, side, bar, labels, text)?;
    }
    let (buf, xs, ys) = drawn;
    let mut out = RgbImage::from_raw(w, h, buf).ok_or("figure buffer size")?;
    blit_scaled(field, &mut out, xs, ys);
    Ok(out)
}

type Drawn = (Vec<u8>, std::ops::Range<i32>, std::ops::Range<i32>);

/// The axes, title and colour bar on a w × h canvas; the plotting area's pixel ranges.
fn draw_2d(
    w: u32,
    h: u32,
    side: u32,
    bar: Option<(&Scale, Colormap)>,
    labels: &Labels,
    text: u32,
) -> Result<Drawn, String> {
    let (left, bottom, top) = (5 * text, 4 * text, 3 * text);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let (x_pixels, y_pixels) = {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let (main, side_bar) = root.split_horizontally(left + side + text / 2);
        let l = labels.half_width;
        let (y_desc, y0, y1) = labels.vertical.clone().unwrap_or(("y".into(), -l, l));
        let (x_desc, x0, x1) = labels.horizontal.clone().unwrap_or(("x".into(), -l, l));
        let mut chart = ChartBuilder::on(&main)
            .caption(&labels.title, (FONT, text + 4))
            .margin_right(text / 2)
            .x_label_area_size(bottom - text / 2)
            .y_label_area_size(left)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, text))
            .axis_desc_style((FONT, text + 2))
            .draw()
            .map_err(failed)?;
        let range = chart.plotting_area().get_pixel_range();
        if let Some((scale, map)) = bar {
            colour_bar(&side_bar, scale, map, labels, text, top, bottom)?;
        }
        root.present().map_err(failed)?;
        range
    };
    Ok((buf, x_pixels, y_pixels))
}

/// The colour bar: the 256 colours of `map` over `scale`, with ticks on its right.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    scale: &Scale,
    map: Colormap,
    labels: &Labels,
    text: u32,
    top: u32,
    bottom: u32,
) -> Result<(), String> {
    let builder = |area| {
        let mut b = ChartBuilder::on(area);
        b.margin_top(top - text / 2)
            .margin_bottom(bottom - text / 2)
            .right_y_label_area_size(6 * text)
            .margin_left(text / 2)
            .margin_right(text);
        b
    };
    let steps = 256;
    let cell = |i: usize| [colour(map, i as f64 / 255.0)].map(|[r, g, b]| RGBColor(r, g, b))[0];
    // the same bar on a linear or a log axis: `at(i)` is the value of level i's lower edge
    macro_rules! bar {
        ($range:expr, $at:expr) => {{
            let mut chart = builder(area).build_cartesian_2d(0.0..1.0, $range).map_err(failed)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .disable_x_axis()
                .y_desc(&labels.value)
                .label_style((FONT, text))
                .axis_desc_style((FONT, text + 2))
                .draw()
                .map_err(failed)?;
            let at = $at;
            let levels =
                (0..steps).map(|i| Rectangle::new([(0.0, at(i)), (1.0, at(i + 1))], cell(i).filled()));
            chart.draw_series(levels).map_err(failed)?;
        }};
    }
    if scale.log {
        let ratio = (scale.hi / scale.lo).ln();
        bar!((scale.lo..scale.hi).log_scale(), |i: usize| scale.lo * (ratio * i as f64 / steps as f64).exp());
    } else {
        bar!(scale.lo..scale.hi, |i: usize| scale.lo + (scale.hi - scale.lo) * i as f64 / steps as f64);
    }
    Ok(())
}

/// Copy `src` into the pixel rectangle (nearest pixel where the sizes differ).
fn blit_scaled(src: &RgbImage, dst: &mut RgbImage, xs: std::ops::Range<i32>, ys: std::ops::Range<i32>) {
    let (w, h) = ((xs.end - xs.start).max(1) as u32, (ys.end - ys.start).max(1) as u32);
    for py in 0..h {
        for px in 0..w {
            let sx = (px as u64 * src.width() as u64 / w as u64) as u32;
            let sy = (py as u64 * src.height() as u64 / h as u64) as u32;
            let (x, y) = (xs.start as u32 + px, ys.start as u32 + py);
            if x < dst.width() && y < dst.height() {
                dst.put_pixel(x, y, *src.get_pixel(sx, sy));
            }
        }
    }
}

/// Curves (label, values at `x`) on one set of axes over `scale` (log: a log axis), with a
/// legend when there is more than one.
pub fn lines(
    x: &[f64],
    curves: &[(String, &[f64])],
    scale: &Scale,
    labels: &Labels,
) -> Result<RgbImage, String> {
    if !font_ready() {
        return Err("the shipped font cannot be loaded".into());
    }
    let (w, h, text) = (900u32, 600u32, 16u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let l = labels.half_width;
        let palette = [
            RGBColor(31, 119, 180),
            RGBColor(255, 127, 14),
            RGBColor(44, 160, 44),
            RGBColor(214, 39, 40),
            RGBColor(148, 103, 189),
            RGBColor(140, 86, 75),
            RGBColor(227, 119, 194),
            RGBColor(127, 127, 127),
        ];
        macro_rules! draw {
            ($chart:expr, $clip:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc("x")
                    .y_desc(&labels.value)
                    .label_style((FONT, text))
                    .axis_desc_style((FONT, text + 2))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(failed)?;
                for (k, (name, values)) in curves.iter().enumerate() {
                    let c = palette[k % palette.len()];
                    let points: Vec<(f64, f64)> =
                        x.iter().zip(values.iter()).map(|(&a, &b)| (a, $clip(b))).collect();
                    // a mark where the curve leaves the range and where it comes back
                    let out = |i: usize| values.get(i).is_some_and(|&b| b.is_finite() && $clip(b) != b);
                    let edges = (0..values.len())
                        .filter(|&i| out(i) && (i == 0 || !out(i - 1) || !out(i + 1)))
                        .map(|i| TriangleMarker::new((x[i], $clip(values[i])), 5, RED.filled()));
                    chart.draw_series(edges).map_err(failed)?;
                    chart
                        .draw_series(LineSeries::new(points, c.stroke_width(2)))
                        .map_err(failed)?
                        .label(name.as_str())
                        .legend(move |(px, py)| {
                            PathElement::new(vec![(px, py), (px + 20, py)], c.stroke_width(2))
                        });
                }
                if curves.len() > 1 {
                    chart
                        .configure_series_labels()
                        .label_font((FONT, text))
                        .background_style(WHITE.mix(0.8))
                        .border_style(BLACK)
                        .draw()
                        .map_err(failed)?;
                }
            }};
        }
        let builder = || {
            let mut b = ChartBuilder::on(&root);
            b.caption(&labels.title, (FONT, text + 4))
                .margin(text)
                .x_label_area_size(3 * text)
                .y_label_area_size(5 * text);
            b
        };
        // values outside the range are drawn at its edge (a clipped curve stays visible)
        if scale.log {
            let chart =
                builder().build_cartesian_2d(-l..l, (scale.lo..scale.hi).log_scale()).map_err(failed)?;
            draw!(chart, |v: f64| v.clamp(scale.lo, scale.hi));
        } else {
            let chart = builder().build_cartesian_2d(-l..l, scale.lo..scale.hi).map_err(failed)?;
            draw!(chart, |v: f64| v.clamp(scale.lo, scale.hi));
        }
        root.present().map_err(failed)?;
    }
    RgbImage::from_raw(w, h, buf).ok_or_else(|| "figure buffer size".to_string())
}

/// Quantities against t, one panel each (2 columns), under a title.
pub fn panels(t: &[f64], series: &[(&str, Vec<f64>)], title: &str) -> Result<RgbImage, String> {
    if !font_ready() {
        return Err("the shipped font cannot be loaded".into());
    }
    let rows = series.len().div_ceil(2).max(1);
    let (w, h, text) = (1100u32, 60 + 330 * rows as u32, 15u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let root = root.titled(title, (FONT, text + 6)).map_err(failed)?;
        let t0 = t.first().copied().unwrap_or(0.0);
        let t1 = t.last().copied().filter(|&v| v > t0).unwrap_or(t0 + 1.0);
        for (area, (name, values)) in root.split_evenly((rows, 2)).iter().zip(series) {
            let finite = values.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
            let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1e-300) };
            let mut chart = ChartBuilder::on(area)
                .margin(text)
                .x_label_area_size(3 * text)
                .y_label_area_size(6 * text)
                .build_cartesian_2d(t0..t1, (lo - pad)..(hi + pad))
                .map_err(failed)?;
            chart
                .configure_mesh()
                .x_desc("t")
                .y_desc(*name)
                .y_label_formatter(&|v| format!("{v:.3e}"))
                .label_style((FONT, text))
                .axis_desc_style((FONT, text + 1))
                .light_line_style(TRANSPARENT)
                .draw()
                .map_err(failed)?;
            let points = t.iter().copied().zip(values.iter().copied()).filter(|(_, v)| v.is_finite());
            chart
                .draw_series(LineSeries::new(points, RGBColor(31, 119, 180).stroke_width(2)))
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    RgbImage::from_raw(w, h, buf).ok_or_else(|| "figure buffer size".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels::new("test   t = 0.5000", 3.0, "f")
    }

    /// The field's pixels land unchanged inside the axes (the figure is larger and has
    /// text and a colour bar around them).
    #[test]
    fn the_field_image_is_placed_unchanged_in_its_axes() {
        let mut field = RgbImage::new(200, 200);
        for (x, y, p) in field.enumerate_pixels_mut() {
            *p = image::Rgb([(x % 256) as u8, (y % 256) as u8, 77]);
        }
        let scale = Scale { lo: 0.0, hi: 2.0, log: false };
        let fig = framed_2d(&field, &scale, Colormap::Viridis, &labels()).unwrap();
        assert!(fig.width() > 300 && fig.height() > 250);
        // the field's pixels appear as one 200 × 200 block, unchanged
        let placed = fig.enumerate_pixels().filter(|(_, _, p)| p.0 == [0, 0, 77]).any(|(ox, oy, _)| {
            field.enumerate_pixels().all(|(x, y, p)| {
                ox + x < fig.width() && oy + y < fig.height() && fig.get_pixel(ox + x, oy + y) == p
            })
        });
        assert!(placed, "the field is drawn 1:1");
        // text and ticks: dark pixels outside the field
        let dark = fig.pixels().filter(|p| p.0.iter().all(|&c| c < 80) && p.0[2] != 77).count();
        assert!(dark > 500, "labels and axes are drawn ({dark} dark pixels)");
        let log = Scale { lo: 1e-3, hi: 2.0, log: true };
        assert!(framed_2d(&field, &log, Colormap::Magma, &labels()).is_ok());
    }

    #[test]
    fn panels_draw_every_series() {
        let t: Vec<f64> = (0..20).map(f64::from).collect();
        let series = vec![
            ("mass", t.iter().map(|v| 1.0 + 1e-15 * v).collect()),
            ("max", t.clone()),
            ("entropy", t.iter().map(|v| -v).collect()),
        ];
        let fig = panels(&t, &series, "diagnostics").unwrap();
        let blue = fig.pixels().filter(|p| p.0 == [31, 119, 180]).count();
        assert!(blue > 300, "{blue}");
        assert_eq!(fig.height(), 60 + 2 * 330);
    }

    #[test]
    fn line_plots_have_axes_and_legends() {
        let x: Vec<f64> = (0..50).map(|i| -3.0 + 6.0 * i as f64 / 49.0).collect();
        let a: Vec<f64> = x.iter().map(|v| (-v * v).exp()).collect();
        let b: Vec<f64> = x.iter().map(|v| 0.5 * (-v * v / 2.0).exp()).collect();
        let curves = vec![("t = 0".to_string(), a.as_slice()), ("t = 1".to_string(), b.as_slice())];
        let scale = Scale { lo: 0.0, hi: 1.1, log: false };
        let fig = lines(&x, &curves, &scale, &labels()).unwrap();
        let blue = fig.pixels().filter(|p| p.0 == [31, 119, 180]).count();
        let orange = fig.pixels().filter(|p| p.0 == [255, 127, 14]).count();
        assert!(blue > 100 && orange > 100, "both curves are drawn ({blue}, {orange})");
    }
}
