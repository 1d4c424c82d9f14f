//! Figures as PNG files (plotters, bitmap backend). Fonts are embedded (DejaVu Sans), so drawing
//! needs no system font libraries.

pub mod curves;
pub mod landscape;

use std::sync::Once;

/// Registers the embedded font as plotters' `sans-serif` (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu font is valid"));
    });
}
