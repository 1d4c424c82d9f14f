//! Figures as PNG files (plotters, bitmap backend; learning curves also as SVG). Fonts are
//! embedded (DejaVu Sans), so drawing needs no system font libraries.

pub mod curves;
pub mod forest;
pub mod landscape;
pub mod panels;
pub mod text;

use std::sync::Once;

/// Registers the embedded font as plotters' `sans-serif` (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu font is valid"));
    });
}

/// Refuses an output path the PNG encoder could only fail on with a raw `ImageError`: a name
/// not ending in `.png`, or a folder that does not exist.
pub fn check_png_path(path: &std::path::Path) -> anyhow::Result<()> {
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        anyhow::bail!("{}: figures are written as PNG; give a name ending in .png", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        anyhow::bail!("{}: the folder {} does not exist", path.display(), dir.display());
    }
    Ok(())
}

/// A PNG file's pixels for the figure tests: its frame info and its bytes.
#[cfg(test)]
pub(crate) fn read_png(path: &std::path::Path) -> (png::OutputInfo, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    (info, buf)
}
