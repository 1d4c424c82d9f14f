//! Writes a screenshot (an egui [`ColorImage`](eframe::egui::ColorImage)) as a PNG file, and
//! judges whether a picture shows anything (tests of the viewer under Xvfb look for a blank
//! window).

use std::path::Path;

use anyhow::Context;
use eframe::egui::ColorImage;

/// Writes `image` to `path` as an 8-bit RGBA PNG.
pub fn save_png(image: &ColorImage, path: &Path) -> anyhow::Result<()> {
    let [w, h] = image.size;
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().with_context(|| format!("writing {}", path.display()))?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    writer.write_image_data(&bytes).with_context(|| format!("writing {}", path.display()))?;
    writer.finish().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Distinct colours in an RGBA8 picture (a blank window has one or two).
pub fn distinct_colors(rgba: &[u8]) -> usize {
    let mut seen: Vec<u32> = rgba.chunks_exact(4).map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]])).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::egui::Color32;

    #[test]
    fn a_written_png_reads_back_pixel_for_pixel() {
        let pixels: Vec<Color32> = (0..12).map(|i| Color32::from_rgb(i * 20, 255 - i * 20, 7)).collect();
        let image = ColorImage::new([4, 3], pixels.clone());
        let path = std::env::temp_dir().join(format!("vagram-shot-{}.png", std::process::id()));
        save_png(&image, &path).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 3));
        assert_eq!(buf[4..8], [20, 235, 7, 255]);
        assert_eq!(distinct_colors(&buf[..info.buffer_size()]), 12);
        std::fs::remove_file(path).unwrap();
    }
}
