//! Correct glyph placement for bitmap figures. plotters 0.3.7 rasterises text with ab_glyph
//! but drops each glyph's left side bearing, so letters after a wide bearing crowd their
//! neighbours and narrow ones float apart (`env steps` came out as `en v steps`).
//! [`GlyphFixed`] wraps a backend and draws text itself, placing every glyph at its pen
//! position plus its bearing, with kerning, in the embedded DejaVu Sans; everything else is
//! passed to the wrapped backend unchanged.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScaleFont, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

/// A backend whose text is drawn with correct glyph spacing (see the module doc).
pub struct GlyphFixed<B>(pub B);

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu::sans::regular()).expect("the embedded DejaVu font is valid"))
}

impl<B: DrawingBackend> DrawingBackend for GlyphFixed<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(&self, text: &str, style: &S) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let font = font().as_scaled(style.size() as f32);
        let (w, h) = extent(&font, pen_positions(&font, text).1);
        Ok((w as u32, h as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = font().as_scaled(style.size() as f32);
        let (pens, end) = pen_positions(&font, text);
        let (width, height) = extent(&font, end);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        for (id, pen) in pens {
            let glyph = id.with_scale_and_position(font.scale(), point(pen, font.ascent()));
            let Some(outline) = font.outline_glyph(glyph) else { continue };
            let bounds = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|x, y, coverage| pixels.push((x as i32 + bounds.min.x as i32, y as i32 + bounds.min.y as i32, coverage)));
            for (x, y, coverage) in pixels {
                let (x, y) = trans.transform(x + dx, y + dy);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if coverage > 0.0 && x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                    self.0.draw_pixel((x, y), BackendColor { alpha: color.alpha * f64::from(coverage.min(1.0)), rgb: color.rgb })?;
                }
            }
        }
        Ok(())
    }
}

/// Each glyph of `text` with its pen position (advances plus kerning), and the pen's end: the
/// text's width.
fn pen_positions(font: &PxScaleFont<&FontRef<'static>>, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let mut pen = 0.0f32;
    let mut prev = None;
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        out.push((id, pen));
        pen += font.h_advance(id);
        prev = Some(id);
    }
    (out, pen)
}

/// Width (to the pen's end) and height (ascent to descent) of a text in whole pixels.
fn extent(font: &PxScaleFont<&FontRef<'static>>, end: f32) -> (i32, i32) {
    (end.ceil() as i32, (font.ascent() - font.descent()).ceil() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// The first and last ink columns of `text` drawn at x = 0 (left-aligned) in 100 px type.
    fn ink_columns(text: &str) -> (usize, usize) {
        crate::plot::register_fonts();
        let (w, h) = (400usize, 160usize);
        let mut buf = vec![255u8; w * h * 3];
        {
            let root = GlyphFixed(BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32))).into_drawing_area();
            root.draw_text(text, &("sans-serif", 100).into_font().color(&BLACK), (0, 10)).unwrap();
            root.present().unwrap();
        }
        let inked: Vec<usize> = (0..w).filter(|x| (0..h).any(|y| buf[(y * w + x) * 3] < 128)).collect();
        (inked[0], *inked.last().unwrap())
    }

    #[test]
    fn glyphs_keep_their_side_bearings() {
        let font = font().as_scaled(100.0);
        let n = font.glyph_id('n');
        let bearing = font.h_side_bearing(n);
        assert!(bearing > 5.0, "DejaVu's n has a visible left bearing at 100 px: {bearing}");
        // plotters' own text drawing starts the ink at x = 1, dropping the bearing (checked).
        let (first, _) = ink_columns("n");
        assert!((first as f32 - bearing).abs() <= 1.5, "ink starts at {first}, the bearing is {bearing}");
        // The second n of "nn" ends one advance after the first, kerning included.
        let (_, last_one) = ink_columns("n");
        let (_, last_two) = ink_columns("nn");
        let advance = font.h_advance(n) + font.kern(n, n);
        assert!((last_two as f32 - last_one as f32 - advance).abs() <= 1.5, "{last_one} {last_two} {advance}");
    }
}
