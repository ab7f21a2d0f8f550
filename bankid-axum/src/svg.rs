//! The QR code as a small SVG: one `<path>` of horizontal runs of dark modules, with a
//! four-module quiet zone, scaled by the browser (`shape-rendering="crispEdges"`).

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone around the code, in modules (the QR standard asks for four).
const QUIET: usize = 4;

/// The QR code of `content` as an SVG document, or `None` when the content does not fit a QR
/// code (BankID's contents always do).
#[must_use]
pub fn qr_svg(content: &str) -> Option<String> {
    // Level L, like BankID's own apps: the smallest code for a content that changes every second.
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::L).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    let mut svg = String::with_capacity(256 + width * width * 3);
    // Writing into a String cannot fail.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img" aria-label="BankID QR code"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d=""##
    );
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let _ = write!(svg, "M{} {}h{}v1h-{} z", start + QUIET, y + QUIET, x - start, x - start);
            } else {
                x += 1;
            }
        }
    }
    svg.push_str(r#""/></svg>"#);
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws the SVG's runs back into a grid and decodes it with rqrr: the picture holds the
    /// content.
    pub(crate) fn decode(svg: &str) -> String {
        let size: usize = svg.split("viewBox=\"0 0 ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let path = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let scale = 4;
        let mut pixels = vec![255u8; size * size * scale * scale];
        for run in path.split('M').filter(|s| !s.is_empty()) {
            let (x, rest) = run.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let w = rest.split('v').next().unwrap();
            let (x, y, w): (usize, usize, usize) = (x.parse().unwrap(), y.parse().unwrap(), w.parse().unwrap());
            for py in y * scale..(y + 1) * scale {
                for px in x * scale..(x + w) * scale {
                    pixels[py * size * scale + px] = 0;
                }
            }
        }
        let side = size * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn svg_decodes_to_the_content() {
        let content = "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.12.\
                       dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8";
        let svg = qr_svg(content).unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.len() < 8_000, "{} bytes", svg.len());
        assert_eq!(decode(&svg), content);
        assert!(qr_svg(&"x".repeat(10_000)).is_none());
    }
}
