//! Figures in the paper's layout: one panel per setting, the lines overlaid in every panel with
//! a shaded band of ± one standard error, dashed horizontal reference lines, one y range for
//! the whole figure, and integer env-step ticks. Each figure is written twice: a PNG (text
//! placed by [`super::text::GlyphFixed`]) and an SVG beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::curves::Curve;
use super::text::GlyphFixed;

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceLine {
    /// Legend label.
    pub label: String,
    /// Its y value.
    pub value: f64,
}

/// One panel: its title, curves and reference lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// The curves (colours follow the label, the same in every panel).
    pub curves: Vec<Curve>,
    /// Reference lines.
    pub references: Vec<ReferenceLine>,
}

/// A figure of panels.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The figure's title.
    pub title: String,
    /// The x axis's title.
    pub x_label: String,
    /// The y axis's title.
    pub y_label: String,
    /// The panels, left to right, then top to bottom (at most 3 per row).
    pub panels: Vec<Panel>,
    /// One y range for every panel (the paper's figures), or one per panel (for settings
    /// whose values differ by orders of magnitude).
    pub shared_y: bool,
}

const PANEL: (u32, u32) = (560, 420);
/// A figure of one panel gets this size (room for a long title).
const SINGLE: (u32, u32) = (900, 560);
const TITLE_BAND: u32 = 44;

/// Line colours (Tableau 10, distinguishable in colour-blind vision and in print), by the
/// order in which labels first appear.
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

impl Figure {
    /// Columns and rows of the panel grid.
    fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().clamp(1, 3);
        (cols, self.panels.len().div_ceil(cols).max(1))
    }

    /// The pixel size of the whole figure.
    pub fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.grid();
        if self.panels.len() <= 1 {
            return (SINGLE.0, SINGLE.1 + TITLE_BAND);
        }
        (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + TITLE_BAND)
    }

    /// The labels in order of first appearance (their colour index).
    fn labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = Vec::new();
        for c in self.panels.iter().flat_map(|p| &p.curves) {
            if !labels.contains(&c.label.as_str()) {
                labels.push(&c.label);
            }
        }
        labels
    }

    /// Each panel's `(x_max, y_lo, y_hi)`: x shared, y shared unless [`Figure::shared_y`] is
    /// off (then a panel without data takes the shared range); an error when nothing is drawable.
    fn ranges(&self) -> anyhow::Result<Vec<(f64, f64, f64)>> {
        let mut x_max = 1.0f64;
        let mut per_panel = Vec::new();
        for p in &self.panels {
            let (mut lo, mut hi) = (f64::MAX, f64::MIN);
            for c in &p.curves {
                for (x, (m, e)) in c.x.iter().zip(c.mean.iter().zip(&c.se)) {
                    x_max = x_max.max(*x);
                    lo = lo.min(m - e);
                    hi = hi.max(m + e);
                }
            }
            for r in &p.references {
                lo = lo.min(r.value);
                hi = hi.max(r.value);
            }
            per_panel.push((lo, hi));
        }
        let (lo, hi) = per_panel.iter().fold((f64::MAX, f64::MIN), |(a, b), (l, h)| (a.min(*l), b.max(*h)));
        if lo > hi {
            bail!("nothing to plot: every value is missing");
        }
        let padded = |(lo, hi): (f64, f64)| {
            let pad = ((hi - lo) * 0.05).max(1e-6);
            (x_max, lo - pad, hi + pad)
        };
        Ok(per_panel.into_iter().map(|p| if self.shared_y || p.0 > p.1 { padded((lo, hi)) } else { padded(p) }).collect())
    }
}

/// Draws `figure` as the PNG `png` and as an SVG beside it; returns the SVG's path.
pub fn draw_figure(figure: &Figure, png: &Path) -> anyhow::Result<PathBuf> {
    super::check_png_path(png)?;
    super::register_fonts();
    let ranges = figure.ranges()?;
    let ranges = &ranges;
    let svg = png.with_extension("svg");
    {
        let root = GlyphFixed(BitMapBackend::new(png, figure.size())).into_drawing_area();
        draw_on(&root, figure, ranges).map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
        root.present().with_context(|| format!("writing {}", png.display()))?;
    }
    {
        let root = SVGBackend::new(&svg, figure.size()).into_drawing_area();
        draw_on(&root, figure, ranges).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
        root.present().with_context(|| format!("writing {}", svg.display()))?;
    }
    Ok(svg)
}

/// An env-step tick: the integer, without a decimal point.
fn integer_tick(x: &f64) -> String {
    format!("{}", x.round() as i64)
}

/// Decimals for y ticks over a span: none for spans of 10 or more, else enough to tell ticks
/// about a tenth of the span apart.
pub(super) fn y_decimals(span: f64) -> usize {
    if span.is_nan() || span <= 0.0 || span >= 10.0 { 0 } else { (1.0 - span.log10().floor()).clamp(1.0, 8.0) as usize }
}

/// The figure's title, centred in its band: at 20 px when it fits the width, else smaller
/// (down to 14 px), else on two lines split at the space nearest the middle, so that no title
/// is clipped.
pub(super) fn draw_title<DB: DrawingBackend>(band: &DrawingArea<DB, Shift>, text: &str) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (width, height) = band.dim_in_pixel();
    let room = width.saturating_sub(24);
    let fits = |line: &str, size: u32| -> Result<bool, DrawingAreaErrorKind<DB::ErrorType>> {
        Ok(band.estimate_text_size(line, &("sans-serif", size).into_font().into_text_style(band))?.0 <= room)
    };
    let centred = |size: u32| ("sans-serif", size).into_font().into_text_style(band).pos(Pos::new(HPos::Center, VPos::Center));
    for size in (14..=20).rev() {
        if fits(text, size)? {
            return band.draw_text(text, &centred(size), (width as i32 / 2, height as i32 / 2));
        }
    }
    let middle = text.len() / 2;
    let split = text.match_indices(' ').map(|(i, _)| i).min_by_key(|i| i.abs_diff(middle));
    let Some(split) = split else {
        return band.draw_text(text, &centred(14), (width as i32 / 2, height as i32 / 2));
    };
    let lines = [&text[..split], &text[split + 1..]];
    let mut size = 17;
    while size > 10 && !(fits(lines[0], size)? && fits(lines[1], size)?) {
        size -= 1;
    }
    let step = height as i32 / 4;
    band.draw_text(lines[0], &centred(size), (width as i32 / 2, height as i32 / 2 - step))?;
    band.draw_text(lines[1], &centred(size), (width as i32 / 2, height as i32 / 2 + step))
}

/// A curve's legend entry: its label and how many seeds it averages.
fn legend_label(c: &Curve) -> String {
    format!("{} ({} seed{})", c.label, c.seeds, if c.seeds == 1 { "" } else { "s" })
}

/// The legend box's size as fractions of a panel's plotting area (about 444 × 330 px of the
/// 560 × 420 panel): a 14 px font at about 7 px per character after the 18 px sample line and
/// margins, 20 px per entry.
fn legend_box(panel: &Panel) -> (f64, f64) {
    let chars =
        panel.curves.iter().map(|c| legend_label(c).chars().count()).chain(panel.references.iter().map(|r| r.label.chars().count()));
    let widest = chars.max().unwrap_or(0) as f64;
    let entries = (panel.curves.len() + panel.references.len()) as f64;
    (((40.0 + 7.0 * widest) / 444.0).min(0.95), ((12.0 + 20.0 * entries) / 330.0).min(0.95))
}

/// The corner of a panel whose legend (of size `legend_box`) would cover the least of the
/// curves (their means and the shaded band's edges, followed along every segment) and
/// reference lines. Ties go to the lower right, then lower left, upper right, upper left.
fn legend_corner(panel: &Panel, x_max: f64, y_lo: f64, y_hi: f64) -> SeriesLabelPosition {
    let (fw, fh) = legend_box(panel);
    let (w, h) = (x_max * fw, (y_hi - y_lo) * fh);
    // Points along each polyline: 32 per segment, so that a segment crossing a corner counts.
    let polylines = panel.curves.iter().flat_map(|c| {
        let at = |sign: f64| c.x.iter().zip(c.mean.iter().zip(&c.se)).map(move |(x, (m, e))| (*x, m + sign * e)).collect::<Vec<_>>();
        [at(0.0), at(1.0), at(-1.0)]
    });
    let points: Vec<(f64, f64)> = polylines
        .flat_map(|line| {
            let segments: Vec<(f64, f64)> = line
                .windows(2)
                .flat_map(|p| {
                    (0..32).map(move |k| k as f64 / 32.0).map(move |t| (p[0].0 + t * (p[1].0 - p[0].0), p[0].1 + t * (p[1].1 - p[0].1)))
                })
                .collect();
            segments.into_iter().chain(line.last().copied())
        })
        .collect();
    let covered = |right: bool, upper: bool| -> usize {
        let in_x = |x: f64| if right { x >= x_max - w } else { x <= w };
        let in_y = |y: f64| if upper { y >= y_hi - h } else { y <= y_lo + h };
        let references = panel.references.iter().filter(|r| in_y(r.value)).count() * 200;
        points.iter().filter(|(x, y)| in_x(*x) && in_y(*y)).count() + references
    };
    [
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
    ]
    .into_iter()
    .min_by_key(|(_, right, upper)| covered(*right, *upper))
    .map(|(corner, _, _)| corner)
    .expect("four corners")
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure,
    ranges: &[(f64, f64, f64)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(TITLE_BAND);
    draw_title(&title, &figure.title)?;
    let (cols, rows) = figure.grid();
    let areas = body.split_evenly((rows, cols));
    let labels = figure.labels();
    let colour = |label: &str| COLOURS[labels.iter().position(|l| *l == label).unwrap_or(0) % COLOURS.len()];
    for ((panel, area), &(x_max, y_lo, y_hi)) in figure.panels.iter().zip(&areas).zip(ranges) {
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 19))
            // Room on the right for the last tick's label, which is centred on the axis's end.
            .margin_left(10)
            .margin_top(8)
            .margin_bottom(8)
            .margin_right(34)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..x_max, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc(&figure.x_label)
            .y_desc(&figure.y_label)
            .x_labels(6)
            .x_label_formatter(&integer_tick)
            .y_label_formatter(&|y: &f64| format!("{:.*}", y_decimals(y_hi - y_lo), y))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .draw()?;
        if panel.curves.is_empty() && panel.references.is_empty() {
            // A cell of a partial study that no seed has reached: a note, not an empty legend.
            let grey = BLACK.mix(0.55);
            let note = TextStyle::from(("sans-serif", 16).into_font()).color(&grey).pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new("no seed has run yet", (x_max / 2.0, (y_lo + y_hi) / 2.0), note)))?;
            continue;
        }
        for c in &panel.curves {
            let color = colour(&c.label);
            let upper = c.x.iter().zip(c.mean.iter().zip(&c.se)).map(|(x, (m, e))| (*x, m + e));
            let lower = c.x.iter().zip(c.mean.iter().zip(&c.se)).rev().map(|(x, (m, e))| (*x, m - e));
            chart.draw_series(std::iter::once(Polygon::new(upper.chain(lower).collect::<Vec<_>>(), color.mix(0.2).filled())))?;
            let label = legend_label(c);
            chart
                .draw_series(LineSeries::new(c.x.iter().copied().zip(c.mean.iter().copied()), color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
        }
        for r in &panel.references {
            let dashes = (0..40).map(|i| {
                let (a, b) = (x_max * i as f64 / 40.0, x_max * (i as f64 + 0.5) / 40.0);
                PathElement::new(vec![(a, r.value), (b, r.value)], BLACK.stroke_width(1))
            });
            chart
                .draw_series(dashes)?
                .label(r.label.clone())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 6, y), (x + 12, y), (x + 18, y)], BLACK.stroke_width(1)));
        }
        chart
            .configure_series_labels()
            .position(legend_corner(panel, x_max, y_lo, y_hi))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_to_the_corner_the_curves_leave_free() {
        let line = |label: &str, ys: [f64; 5]| Curve {
            label: label.into(),
            x: vec![0.0, 250.0, 500.0, 750.0, 1000.0],
            mean: ys.to_vec(),
            se: vec![1.0; 5],
            seeds: 3,
        };
        let panel = |curves: Vec<Curve>| Panel { title: String::new(), curves, references: Vec::new() };
        let rising = line("rising", [0.0, 25.0, 50.0, 75.0, 100.0]);
        let falling = line("falling", [100.0, 75.0, 50.0, 25.0, 0.0]);
        let flat_low = line("flat", [2.0; 5]);
        let corner = |p: &Panel| legend_corner(p, 1000.0, 0.0, 100.0);
        assert!(matches!(corner(&panel(vec![rising.clone()])), SeriesLabelPosition::LowerRight));
        assert!(matches!(corner(&panel(vec![falling])), SeriesLabelPosition::LowerLeft));
        // A curve along the floor and one rising to the top right leave only the upper left.
        assert!(matches!(corner(&panel(vec![rising.clone(), flat_low])), SeriesLabelPosition::UpperLeft));
        // A dip to the floor in the middle of the panel: a short legend fits in the lower right
        // beside it, a legend as wide as 70% of the panel would cover it and goes up.
        let dip = |label: &str| Curve {
            label: label.into(),
            x: vec![0.0, 500.0, 1000.0],
            mean: vec![50.0, 0.0, 50.0],
            se: vec![0.0; 3],
            seeds: 3,
        };
        assert!(matches!(corner(&panel(vec![dip("short")])), SeriesLabelPosition::LowerRight));
        let long = "a label long enough to widen the legend";
        assert!(legend_box(&panel(vec![dip(long)])).0 > 0.7);
        assert!(matches!(corner(&panel(vec![dip(long)])), SeriesLabelPosition::UpperRight));
        // A reference line near the top pushes the legend off the upper half.
        let mut with_reference = panel(vec![line("high", [90.0; 5])]);
        with_reference.references.push(ReferenceLine { label: "SAC".into(), value: 95.0 });
        assert!(matches!(corner(&with_reference), SeriesLabelPosition::LowerRight));
    }

    #[test]
    fn ticks_are_integers_on_env_steps_and_as_precise_as_the_y_span_needs() {
        assert_eq!(integer_tick(&5000.0), "5000");
        assert_eq!(integer_tick(&499.9999), "500");
        assert_eq!(y_decimals(1800.0), 0);
        assert_eq!(y_decimals(10.0), 0);
        assert_eq!(y_decimals(6.4), 1);
        assert_eq!(y_decimals(0.05), 3);
        assert_eq!(y_decimals(0.0), 0);
    }

    /// The title band of a drawn PNG: whether its outermost 6 pixel columns are blank, and
    /// whether anything dark was drawn in it.
    fn title_band(png_path: &Path) -> (bool, bool) {
        let (info, buf) = crate::plot::read_png(png_path);
        let (w, channels) = (info.width as usize, info.line_size / info.width as usize);
        let dark = |x: usize, y: usize| buf[y * info.line_size + x * channels..][..3].iter().any(|c| *c < 128);
        let rows = 0..TITLE_BAND as usize;
        let edges_blank = rows.clone().all(|y| (0..6).chain(w - 6..w).all(|x| !dark(x, y)));
        let inked = rows.clone().any(|y| (0..w).any(|x| dark(x, y)));
        (edges_blank, inked)
    }

    #[test]
    fn a_title_too_long_for_the_figure_shrinks_or_wraps_and_is_never_clipped() {
        let dir = std::env::temp_dir().join(format!("vagram-title-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let curve = Curve { label: "a".into(), x: vec![0.0, 100.0], mean: vec![0.0, 1.0], se: vec![0.0; 2], seeds: 1 };
        let long = "Fig. 2, NN panel with 5x the model steps per value function (a check) — cpu scale, mean ± SE over seeds";
        let longer = format!("{long}; {long}");
        for (name, title) in [("short", "Fig. 3"), ("long", long), ("longer", longer.as_str())] {
            let panel = Panel { title: "p".into(), curves: vec![curve.clone()], references: Vec::new() };
            let figure = Figure { title: title.into(), x_label: "x".into(), y_label: "y".into(), panels: vec![panel], shared_y: true };
            let png = dir.join(format!("{name}.png"));
            draw_figure(&figure, &png).unwrap();
            assert_eq!(title_band(&png), (true, true), "{name}: the title is drawn and clear of the edges");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Whether a PNG has a near-black pixel in the box `x0..x1 × y0..y1` counted from its
    /// right and bottom edges.
    fn black_near_lower_right(png_path: &Path, (x0, x1): (usize, usize), (y0, y1): (usize, usize)) -> bool {
        let (info, buf) = crate::plot::read_png(png_path);
        let (w, h, channels) = (info.width as usize, info.height as usize, info.line_size / info.width as usize);
        (h - y1..h - y0).any(|y| (w - x1..w - x0).any(|x| buf[y * info.line_size + x * channels..][..3].iter().all(|c| *c < 40)))
    }

    #[test]
    fn a_panel_without_curves_says_so_and_draws_no_empty_legend() {
        let dir = std::env::temp_dir().join(format!("vagram-empty-panel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let curve = Curve { label: "a".into(), x: vec![0.0, 100.0], mean: vec![0.0, 1.0], se: vec![0.0; 2], seeds: 1 };
        // The right panel's legend box sits in the figure's lower right, above the x labels.
        let legend_corner = |curves: Vec<Curve>, name: &str| {
            let left = Panel { title: "left".into(), curves: vec![curve.clone()], references: Vec::new() };
            let right = Panel { title: "right".into(), curves, references: Vec::new() };
            let panels = vec![left, right];
            let figure = Figure { title: "t".into(), x_label: "x".into(), y_label: "y".into(), panels, shared_y: true };
            let png = dir.join(format!("{name}.png"));
            draw_figure(&figure, &png).unwrap();
            black_near_lower_right(&png, (40, 120), (72, 100))
        };
        assert!(legend_corner(vec![curve.clone()], "with"), "a panel with a curve has its legend's border there");
        assert!(!legend_corner(Vec::new(), "without"), "an empty panel draws no legend box");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
