//! Painting env shapes into a cell: one camera window shared by all cells (it grows to hold
//! everything seen so far, so sizes stay comparable), each cell centred on its own bodies.

use eframe::egui;

use crate::scene::{Drawn, Shape2d, moving_bounds};

/// The visible world window shared by all cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Lowest height shown.
    pub min_z: f64,
    /// Highest height shown.
    pub max_z: f64,
    /// Half the width shown.
    pub half_width: f64,
}

impl Camera {
    /// Grows `camera` (or starts one) to hold the moving shapes of `shapes`.
    pub fn fit(camera: &mut Option<Camera>, shapes: &[Drawn]) {
        let Some(b) = moving_bounds(shapes) else { return };
        let half = 0.5 * (b[2] - b[0]).max(b[3] - b[1]).max(0.5) * 1.3;
        let c = camera.get_or_insert(Camera { min_z: b[1].min(0.0), max_z: b[3].max(0.0), half_width: half });
        c.min_z = c.min_z.min(b[1].min(0.0));
        c.max_z = c.max_z.max(b[3]);
        c.half_width = c.half_width.max(half);
    }
}

/// Paints `shapes` into a new cell of `size` with `label` in its corner; returns the cell's
/// response (clickable).
pub fn paint_cell(ui: &mut egui::Ui, shapes: &[Drawn], camera: Option<Camera>, size: egui::Vec2, label: &str) -> egui::Response {
    let (response, painter) = ui.allocate_painter(size, egui::Sense::click());
    let rect = response.rect;
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(248));
    let painter = painter.with_clip_rect(rect);
    if let Some(cam) = camera {
        let centre_x = moving_bounds(shapes).map_or(0.0, |b| 0.5 * (b[0] + b[2]));
        let world_w = 2.0 * cam.half_width;
        let world_h = (cam.max_z - cam.min_z) * 1.15 + 0.1;
        let scale = (rect.width() as f64 / world_w).min(rect.height() as f64 / world_h);
        let base_z = cam.min_z - 0.05 * world_h;
        let lift = 0.5 * (rect.height() - (world_h * scale) as f32).max(0.0);
        let to_screen = |p: [f64; 2]| {
            egui::pos2(rect.center().x + ((p[0] - centre_x) * scale) as f32, rect.bottom() - ((p[1] - base_z) * scale) as f32 - lift)
        };
        for d in shapes {
            let color = if d.fixed { egui::Color32::from_gray(170) } else { egui::Color32::from_rgb(200, 120, 40) };
            match &d.shape {
                Shape2d::Capsule { a, b, radius } => {
                    let w = (2.0 * radius * scale) as f32;
                    painter.line_segment([to_screen(*a), to_screen(*b)], egui::Stroke::new(w, color));
                    painter.circle_filled(to_screen(*a), 0.5 * w, color);
                    painter.circle_filled(to_screen(*b), 0.5 * w, color);
                }
                Shape2d::Circle { centre, radius } => {
                    painter.circle_filled(to_screen(*centre), (radius * scale) as f32, color);
                }
                Shape2d::Polygon { points } => {
                    let pts = points.iter().map(|p| to_screen(*p)).collect();
                    painter.add(egui::Shape::convex_polygon(pts, color, egui::Stroke::NONE));
                }
            }
        }
    }
    painter.text(
        rect.left_top() + egui::vec2(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        label,
        egui::FontId::monospace(11.0),
        egui::Color32::DARK_GRAY,
    );
    response
}

/// Columns and rows of a near-square grid of `n` cells.
pub fn grid_shape(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    (cols, n.div_ceil(cols).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_only_grows() {
        let body = |x: f64, z: f64| Drawn { shape: Shape2d::Circle { centre: [x, z], radius: 0.1 }, fixed: false };
        let mut cam = None;
        Camera::fit(&mut cam, &[body(0.0, 1.0)]);
        let first = cam.unwrap();
        assert_eq!(first.min_z, 0.0, "the ground line stays in view");
        Camera::fit(&mut cam, &[body(0.0, 0.5)]);
        assert_eq!(cam.unwrap(), first, "inside: unchanged");
        Camera::fit(&mut cam, &[body(0.0, 3.0)]);
        assert!((cam.unwrap().max_z - 3.1).abs() < 1e-12);
        let ground = Drawn { shape: Shape2d::Circle { centre: [0.0, -50.0], radius: 1.0 }, fixed: true };
        Camera::fit(&mut cam, &[ground]);
        assert!((cam.unwrap().max_z - 3.1).abs() < 1e-12 && cam.unwrap().min_z == 0.0, "fixed bodies never move the camera");
    }

    #[test]
    fn grids_are_near_square() {
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(3), (2, 2));
        assert_eq!(grid_shape(64), (8, 8));
        assert_eq!(grid_shape(65), (9, 8));
    }
}
