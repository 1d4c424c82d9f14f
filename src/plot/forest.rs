//! Forest plots: many estimated differences with their confidence intervals in one picture, so
//! that where one method is ahead of another — and where the data cannot tell — is seen at a
//! glance across studies. One row of panels per group (a study), one column per score (e.g. the
//! final return and the AUC); each panel has its own x axis (groups need not share units), a
//! line at zero, and per row a point at the estimate with a whisker over its interval, coloured
//! by what the interval says. Written as a PNG and an SVG beside it, like the other figures.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::GlyphFixed;

/// An estimate with its confidence interval (none where too few samples gave one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// The interval's ends, low and high.
    pub interval: Option<(f64, f64)>,
}

/// What an interval says about the sign of the difference: the colour of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The whole interval is above zero.
    Above,
    /// The whole interval is below zero.
    Below,
    /// The interval contains zero: the data cannot tell the sign.
    Spans,
    /// No interval (a single sample on a side).
    Unknown,
}

impl Estimate {
    /// Where this estimate's interval lies relative to zero.
    pub fn verdict(&self) -> Verdict {
        match self.interval {
            Some((low, _)) if low > 0.0 => Verdict::Above,
            Some((_, high)) if high < 0.0 => Verdict::Below,
            Some(_) => Verdict::Spans,
            None => Verdict::Unknown,
        }
    }
}

impl Verdict {
    fn colour(self) -> RGBColor {
        match self {
            Self::Above => RGBColor(31, 119, 180),
            Self::Below => RGBColor(214, 39, 40),
            Self::Spans | Self::Unknown => RGBColor(127, 127, 127),
        }
    }
}

/// One group of rows (drawn as one row of panels): e.g. one study's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestGroup {
    /// The group's name, in each of its panels' captions.
    pub title: String,
    /// The row labels, top to bottom.
    pub labels: Vec<String>,
    /// Per column of the forest, per row: the estimate, if this group has one there.
    pub cells: Vec<Vec<Option<Estimate>>>,
}

/// A forest plot: groups (rows of panels) × columns (scores).
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    /// The figure's title.
    pub title: String,
    /// The columns' names (e.g. `final`, `AUC`), one panel each per group.
    pub columns: Vec<String>,
    /// The groups, top to bottom.
    pub groups: Vec<ForestGroup>,
    /// A line below the panels saying what the colours and whiskers mean.
    pub note: String,
}

const TITLE_BAND: u32 = 44;
const NOTE_BAND: u32 = 34;
const PANEL_WIDTH: u32 = 540;
/// A panel's height: its caption and x axis, then this much per row and per empty margin row
/// above and below the rows.
const PANEL_FIXED: u32 = 64;
const ROW_HEIGHT: u32 = 26;

impl Forest {
    fn group_height(group: &ForestGroup) -> u32 {
        PANEL_FIXED + ROW_HEIGHT * (group.labels.len() as u32 + 2)
    }

    /// The pixel size of the whole figure.
    pub fn size(&self) -> (u32, u32) {
        let body: u32 = self.groups.iter().map(Self::group_height).sum();
        (PANEL_WIDTH * self.columns.len().max(1) as u32, TITLE_BAND + body + NOTE_BAND)
    }

    /// Checks that every group has a cell list per column and a cell per row, and that there is
    /// something to draw.
    fn check(&self) -> anyhow::Result<()> {
        if self.groups.is_empty() || self.columns.is_empty() {
            bail!("nothing to draw: the forest has no groups or no columns");
        }
        for g in &self.groups {
            if g.labels.is_empty() {
                bail!("the group {:?} has no rows", g.title);
            }
            if g.cells.len() != self.columns.len() || g.cells.iter().any(|c| c.len() != g.labels.len()) {
                bail!("the group {:?} does not have one cell per row and column", g.title);
            }
        }
        Ok(())
    }
}

/// The x range of one panel: every estimate and interval end, and zero, with a margin.
fn x_range(cells: &[Option<Estimate>]) -> (f64, f64) {
    let values = cells.iter().flatten().flat_map(|e| {
        let (lo, hi) = e.interval.unwrap_or((e.value, e.value));
        [e.value, lo, hi]
    });
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.08).max(1e-6);
    (lo - pad, hi + pad)
}

/// Draws `forest` as the PNG `png` and as an SVG beside it; returns the SVG's path.
pub fn draw_forest(forest: &Forest, png: &Path) -> anyhow::Result<PathBuf> {
    forest.check()?;
    super::check_png_path(png)?;
    super::register_fonts();
    let svg = png.with_extension("svg");
    {
        let root = GlyphFixed(BitMapBackend::new(png, forest.size())).into_drawing_area();
        draw_on(&root, forest).map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
        root.present().with_context(|| format!("writing {}", png.display()))?;
    }
    {
        let root = SVGBackend::new(&svg, forest.size()).into_drawing_area();
        draw_on(&root, forest).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
        root.present().with_context(|| format!("writing {}", svg.display()))?;
    }
    Ok(svg)
}

fn draw_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, forest: &Forest) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (title, rest) = root.split_vertically(TITLE_BAND);
    let (_, height) = rest.dim_in_pixel();
    let (body, note) = rest.split_vertically(height - NOTE_BAND);
    let centred = |size: u32| ("sans-serif", size).into_font().into_text_style(root).pos(Pos::new(HPos::Center, VPos::Center));
    super::panels::draw_title(&title, &forest.title)?;
    let (w, h) = note.dim_in_pixel();
    note.draw_text(&forest.note, &centred(14), (w as i32 / 2, h as i32 / 2))?;
    let mut breaks = Vec::new();
    let mut y = 0;
    for g in &forest.groups[..forest.groups.len() - 1] {
        y += Forest::group_height(g) as i32;
        breaks.push(y);
    }
    let columns: Vec<i32> = (1..forest.columns.len() as i32).map(|c| c * PANEL_WIDTH as i32).collect();
    let areas = body.split_by_breakpoints(&columns, &breaks);
    let label_width = forest.groups.iter().flat_map(|g| &g.labels).map(|l| l.chars().count()).max().unwrap_or(0) as u32 * 8 + 16;
    for (area, (g, c)) in areas.iter().zip(forest.groups.iter().flat_map(|g| (0..forest.columns.len()).map(move |c| (g, c)))) {
        draw_panel(area, g, &g.cells[c], &forest.columns[c], label_width)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    group: &ForestGroup,
    cells: &[Option<Estimate>],
    column: &str,
    label_width: u32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = group.labels.len() as i32;
    // Row k (from the top) sits at y = n − 1 − k; y = −1 and y = n are empty margins.
    let y_of = |k: usize| n - 1 - k as i32;
    let (lo, hi) = x_range(cells);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} · {column}", group.title), ("sans-serif", 17))
        .margin_left(8)
        .margin_right(28)
        .margin_top(6)
        .margin_bottom(6)
        .x_label_area_size(30)
        .y_label_area_size(label_width)
        .build_cartesian_2d(lo..hi, -1..n)?;
    let decimals = super::panels::y_decimals(hi - lo);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_labels(6)
        .y_labels(n as usize + 2)
        .x_label_formatter(&|x: &f64| format!("{:.*}", decimals, x))
        .y_label_formatter(&|y: &i32| {
            let k = n - 1 - y;
            if (0..n).contains(&k) { group.labels[k as usize].clone() } else { String::new() }
        })
        .label_style(("sans-serif", 14))
        .draw()?;
    let zero = BLACK.stroke_width(1);
    chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -1), (0.0, n)], zero)))?;
    for (k, cell) in cells.iter().enumerate() {
        let Some(e) = cell else { continue };
        let colour = e.verdict().colour();
        let y = y_of(k);
        if let Some((low, high)) = e.interval {
            chart.draw_series(std::iter::once(PathElement::new(vec![(low, y), (high, y)], colour.stroke_width(2))))?;
            let cap = |x: f64| EmptyElement::at((x, y)) + PathElement::new(vec![(0, -6), (0, 6)], colour.stroke_width(2));
            chart.draw_series([cap(low), cap(high)])?;
        }
        let style = if e.interval.is_some() { colour.filled() } else { colour.stroke_width(2) };
        chart.draw_series(std::iter::once(Circle::new((e.value, y), 5, style)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_read_by_where_it_lies_relative_to_zero() {
        let e = |value, interval| Estimate { value, interval };
        assert_eq!(e(5.0, Some((1.0, 9.0))).verdict(), Verdict::Above);
        assert_eq!(e(-5.0, Some((-9.0, -1.0))).verdict(), Verdict::Below);
        assert_eq!(e(1.0, Some((-1.0, 3.0))).verdict(), Verdict::Spans);
        assert_eq!(e(1.0, Some((0.0, 3.0))).verdict(), Verdict::Spans, "an interval touching zero does not exclude it");
        assert_eq!(e(1.0, None).verdict(), Verdict::Unknown);
    }

    #[test]
    fn a_panel_spans_every_interval_and_zero() {
        let cells = [Some(Estimate { value: 10.0, interval: Some((4.0, 16.0)) }), None];
        let (lo, hi) = x_range(&cells);
        assert!(lo < 0.0 && lo > -2.0, "zero is inside with a small margin: {lo}");
        assert!(hi > 16.0 && hi < 18.0, "{hi}");
        let (lo, hi) = x_range(&[Some(Estimate { value: -3.0, interval: Some((-50.0, 20.0)) })]);
        assert!(lo < -50.0 && hi > 20.0);
    }

    /// Counts a PNG's pixels of exactly this colour.
    fn pixels_of(png_path: &Path, colour: RGBColor) -> usize {
        let (info, buf) = crate::plot::read_png(png_path);
        let channels = info.line_size / info.width as usize;
        buf.chunks(channels).filter(|p| p[..3] == [colour.0, colour.1, colour.2]).count()
    }

    #[test]
    fn rows_take_the_colour_of_their_verdict_and_the_figure_its_computed_size() {
        let dir = std::env::temp_dir().join(format!("vagram-forest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let group = |cells: Vec<Option<Estimate>>| ForestGroup {
            title: "study".into(),
            labels: vec!["a".into(), "b".into()],
            cells: vec![cells.clone(), cells],
        };
        let forest = |cells| Forest {
            title: "t".into(),
            columns: vec!["final".into(), "AUC".into()],
            groups: vec![group(cells)],
            note: "note".into(),
        };
        let above = Some(Estimate { value: 5.0, interval: Some((2.0, 8.0)) });
        let spans = Some(Estimate { value: 1.0, interval: Some((-2.0, 4.0)) });
        let png = dir.join("above.png");
        draw_forest(&forest(vec![above, spans]), &png).unwrap();
        assert!(png.with_extension("svg").exists());
        let (w, h) = image_size(&png);
        assert_eq!((w, h), forest(vec![above, spans]).size());
        assert!(pixels_of(&png, Verdict::Above.colour()) > 100, "the interval above zero is drawn in its colour");
        assert_eq!(pixels_of(&png, Verdict::Below.colour()), 0, "nothing is below zero");
        let below = Some(Estimate { value: -5.0, interval: Some((-8.0, -2.0)) });
        let png = dir.join("below.png");
        draw_forest(&forest(vec![below, spans]), &png).unwrap();
        assert!(pixels_of(&png, Verdict::Below.colour()) > 100);
        assert_eq!(pixels_of(&png, Verdict::Above.colour()), 0);
        let ragged = Forest { groups: vec![ForestGroup { cells: vec![vec![above]], ..group(vec![]) }], ..forest(vec![above, spans]) };
        assert!(draw_forest(&ragged, &dir.join("ragged.png")).unwrap_err().to_string().contains("one cell per row and column"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn image_size(png_path: &Path) -> (u32, u32) {
        let (info, _) = crate::plot::read_png(png_path);
        (info.width, info.height)
    }
}
