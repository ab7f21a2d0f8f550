//! The QR code as a small SVG: one stroked `<path>` of horizontal runs of dark modules (each
//! row a line through the modules' middle, `m` moves between runs), a four-module quiet zone,
//! scaled by the browser (`shape-rendering="crispEdges"`). Attributes use single quotes, so
//! that the SVG travels in JSON without escapes.
//!
//! # Why the symbol is put together here
//! The `qrcode` crate encodes the data and the error correction. Its drawing and mask
//! selection (`apply_best_mask`) cost about a millisecond per code, because its penalty rules
//! allocate a closure per module and every mask redraws the canvas. A status poll draws a new
//! code every second for every waiting user, so the symbol is assembled here from a layout
//! computed once per QR version (with `qrcode`'s own canvas): where each codeword bit lands,
//! and for each of the eight masks the symbol of all-zero data (function patterns, format
//! information, the mask over the data area). A masked symbol is then the placed data bits
//! XOR that template, on rows (and columns) packed into 64-bit words, and the mask is chosen
//! by the four penalty rules of ISO/IEC 18004 §7.8.3 (runs of five or more, 2x2 blocks,
//! finder-like 1:1:3:1:1 patterns with four light modules on a side, dark/light balance),
//! lowest total wins. Codes wider than [`MAX_PACKED_WIDTH`] take `qrcode`'s own path.

use std::fmt::Write as _;
use std::sync::OnceLock;

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The widest symbol whose rows, with four quiet modules on each side and an 11-module
/// window, fit a 64-bit word: version 8.
pub const MAX_PACKED_WIDTH: usize = 49;
const MAX_PACKED_VERSION: usize = 8;

/// Where the bits go in one QR version at level L.
struct Layout {
    width: usize,
    /// The number of data and of error correction codewords.
    lengths: (usize, usize),
    /// The module (x, y) of each codeword bit, data then error correction, most significant
    /// bit first.
    positions: Vec<(u8, u8)>,
    /// For each mask: the rows and columns of the symbol with all-zero data.
    templates: Vec<(Vec<u64>, Vec<u64>)>,
}

static LAYOUTS: [OnceLock<Option<Layout>>; MAX_PACKED_VERSION + 1] =
    [const { OnceLock::new() }; MAX_PACKED_VERSION + 1];

fn pack(colors: &[Color], width: usize) -> (Vec<u64>, Vec<u64>) {
    let (mut rows, mut cols) = (vec![0u64; width], vec![0u64; width]);
    for (i, _) in colors.iter().enumerate().filter(|(_, c)| **c == Color::Dark) {
        rows[i / width] |= 1 << (i % width);
        cols[i % width] |= 1 << (i / width);
    }
    (rows, cols)
}

impl Layout {
    fn compute(version: Version, lengths: (usize, usize)) -> Option<Self> {
        let width = usize::try_from(version.width()).ok()?;
        let (data_len, ec_len) = lengths;
        let canvas = |data: &[u8], ec: &[u8]| {
            let mut canvas = Canvas::new(version, EcLevel::L);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(data, ec);
            canvas
        };
        let zero = canvas(&vec![0; data_len], &vec![0; ec_len]);
        let blank = zero.clone().into_colors();
        let mut positions = Vec::with_capacity((data_len + ec_len) * 8);
        let mut codewords = vec![0u8; data_len + ec_len];
        for bit in 0..codewords.len() * 8 {
            codewords[bit / 8] = 0x80 >> (bit % 8);
            let colors = canvas(&codewords[..data_len], &codewords[data_len..]).into_colors();
            codewords[bit / 8] = 0;
            let i = colors.iter().zip(&blank).position(|(a, b)| a != b)?;
            positions.push((u8::try_from(i % width).ok()?, u8::try_from(i / width).ok()?));
        }
        let templates = MASKS
            .iter()
            .map(|mask| {
                let mut masked = zero.clone();
                masked.apply_mask(*mask);
                pack(&masked.into_colors(), width)
            })
            .collect();
        Some(Self { width, lengths, positions, templates })
    }
}

/// The modules (dark = `true`, row by row) and width of the QR code of `data` at level L, or
/// `None` when the data does not fit a QR code.
#[must_use]
pub fn qr_modules(data: &[u8]) -> Option<(Vec<bool>, usize)> {
    match symbol(data)? {
        Symbol::Packed(rows, width) => {
            Some(((0..width * width).map(|i| rows[i / width] >> (i % width) & 1 == 1).collect(), width))
        }
        Symbol::Modules(modules, width) => Some((modules, width)),
    }
}

/// A QR symbol: packed rows (bit x of row y is the module at (x, y); dark = 1) up to
/// [`MAX_PACKED_WIDTH`], one `bool` per module beyond.
enum Symbol {
    Packed(Vec<u64>, usize),
    Modules(Vec<bool>, usize),
}

fn symbol(data: &[u8]) -> Option<Symbol> {
    let bits = qrcode::bits::encode_auto(data, EcLevel::L).ok()?;
    let version = bits.version();
    let number = match version {
        Version::Normal(n) => usize::try_from(n).ok()?,
        Version::Micro(_) => usize::MAX,
    };
    if number > MAX_PACKED_VERSION {
        let code = qrcode::QrCode::with_bits(bits, EcLevel::L).ok()?;
        let width = code.width();
        return Some(Symbol::Modules(code.into_colors().into_iter().map(|c| c == Color::Dark).collect(), width));
    }
    let raw = bits.into_bytes();
    let (data, ec) = qrcode::ec::construct_codewords(&raw, version, EcLevel::L).ok()?;
    let layout = LAYOUTS[number].get_or_init(|| Layout::compute(version, (data.len(), ec.len()))).as_ref()?;
    if layout.lengths != (data.len(), ec.len()) {
        return None;
    }
    let width = layout.width;
    let (mut rows, mut cols) = (vec![0u64; width], vec![0u64; width]);
    for (i, &byte) in data.iter().chain(&ec).enumerate() {
        // Only the set bits, most significant first.
        let mut rest = byte;
        while rest != 0 {
            let bit = rest.leading_zeros() as usize;
            rest &= !(0x80 >> bit);
            let (x, y) = layout.positions[i * 8 + bit];
            rows[usize::from(y)] |= 1 << x;
            cols[usize::from(x)] |= 1 << y;
        }
    }
    let (mut masked_rows, mut masked_cols) = (vec![0u64; width], vec![0u64; width]);
    let mut best: Option<(u32, usize)> = None;
    for (m, (template_rows, template_cols)) in layout.templates.iter().enumerate() {
        for i in 0..width {
            masked_rows[i] = rows[i] ^ template_rows[i];
            masked_cols[i] = cols[i] ^ template_cols[i];
        }
        let score = penalty(&masked_rows, &masked_cols, width);
        if best.is_none_or(|(lowest, _)| score < lowest) {
            best = Some((score, m));
        }
    }
    let (_, m) = best?;
    for (row, template) in rows.iter_mut().zip(&layout.templates[m].0) {
        *row ^= template;
    }
    Some(Symbol::Packed(rows, width))
}

/// The total penalty of a masked symbol (ISO/IEC 18004 §7.8.3.1), on packed rows and columns.
fn penalty(rows: &[u64], cols: &[u64], width: usize) -> u32 {
    let dark: u32 = rows.iter().map(|row| row.count_ones()).sum();
    let full = (1u64 << width) - 1;
    let mut score = 0;
    for line in rows.iter().chain(cols.iter()) {
        // N1: runs of five or more modules of one colour: 3 + (length - 5) each, counted as
        // 3 per run start plus 1 per window of six equal modules.
        let eq = !(line ^ (line >> 1)) & (full >> 1); // bit i: modules i and i + 1 are equal
        let same5 = eq & (eq >> 1) & (eq >> 2) & (eq >> 3) & (full >> 4); // modules i..i+4 equal
        let same6 = same5 & (eq >> 4);
        let starts = same5 & !(eq << 1);
        score += 3 * starts.count_ones() + same6.count_ones();
        // N3: 1:1:3:1:1 with four light modules before or after (the quiet zone is light).
        let padded = line << 4; // bits 0-3 and beyond the width are the light quiet zone
        let light = !padded;
        let (d, l) = (|k: u32| padded >> k, |k: u32| light >> k);
        let core = d(0) & l(1) & d(2) & d(3) & d(4) & l(5) & d(6);
        let after = l(7) & l(8) & l(9) & l(10);
        let before = core >> 4 & l(0) & l(1) & l(2) & l(3);
        let positions = (1u64 << (width + 4)) - 1;
        score += 40 * ((core & after & positions).count_ones() + (before & (positions >> 4)).count_ones());
    }
    // N2: 2x2 blocks of one colour: 3 each.
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same = !(a ^ b) & !(a ^ (a >> 1)) & !(b ^ (b >> 1)) & (full >> 1);
        score += 3 * same.count_ones();
    }
    // N4: 10 for every full 5 % the dark share is away from 50 %.
    let total = (width * width) as u32;
    let percent = dark * 100 / total;
    score += 10 * (percent.abs_diff(50) / 5);
    score
}

/// The quiet zone around the code, in modules (the QR standard asks for four).
const QUIET: usize = 4;

/// The QR code of `content` as an SVG document, or `None` when the content does not fit a QR
/// code (BankID's contents always do).
#[must_use]
pub fn qr_svg(content: &str) -> Option<String> {
    // Level L, like BankID's own apps: the smallest code for a content that changes every second.
    let symbol = symbol(content.as_bytes())?;
    let width = match &symbol {
        Symbol::Packed(_, width) | Symbol::Modules(_, width) => *width,
    };
    let size = width + 2 * QUIET;
    let mut svg = String::with_capacity(300 + width * width);
    // Writing into a String cannot fail.
    let _ = write!(
        svg,
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {size} {size}' shape-rendering='crispEdges' role='img' aria-label='BankID QR code'><rect width='{size}' height='{size}' fill='#fff'/><path stroke='#000' d='"
    );
    // The end of the previous run in this row, if any.
    let mut last: Option<(usize, usize)> = None;
    let mut run = |x: usize, y: usize, len: usize| {
        match last {
            Some((row, end)) if row == y => {
                svg.push('m');
                push_number(&mut svg, x - end);
                svg.push_str(" 0");
            }
            _ => {
                svg.push('M');
                push_number(&mut svg, x + QUIET);
                svg.push(' ');
                push_number(&mut svg, y + QUIET);
                svg.push_str(".5");
            }
        }
        svg.push('h');
        push_number(&mut svg, len);
        last = Some((y, x + len));
    };
    match &symbol {
        Symbol::Packed(rows, _) => {
            for (y, &row) in rows.iter().enumerate() {
                let mut rest = row;
                while rest != 0 {
                    let start = rest.trailing_zeros();
                    let len = (!(rest >> start)).trailing_zeros();
                    run(start as usize, y, len as usize);
                    rest &= !(((1u64 << len) - 1) << start);
                }
            }
        }
        Symbol::Modules(modules, _) => {
            for (y, row) in modules.chunks(width).enumerate() {
                let mut x = 0;
                while x < width {
                    if row[x] {
                        let start = x;
                        while x < width && row[x] {
                            x += 1;
                        }
                        run(start, y, x - start);
                    } else {
                        x += 1;
                    }
                }
            }
        }
    }
    svg.push_str("'/></svg>");
    Some(svg)
}

/// Appends a decimal number without the formatting machinery (one is written per run).
fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws the SVG's runs back into a grid and decodes it with rqrr: the picture holds the
    /// content.
    pub(crate) fn decode(svg: &str) -> String {
        let size: usize = svg.split("viewBox='0 0 ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let path = svg.split(" d='").nth(1).unwrap().split('\'').next().unwrap();
        let scale = 4;
        let mut pixels = vec![255u8; size * size * scale * scale];
        let (mut x, mut y) = (0usize, 0usize);
        // Commands: M x y.5 | m dx 0 | h w.
        let mut rest = path;
        while let Some(command) = rest.chars().next() {
            let end = rest[1..].find(['M', 'm', 'h']).map_or(rest.len(), |i| i + 1);
            let args = &rest[1..end];
            match command {
                'M' => {
                    let (a, b) = args.split_once(' ').unwrap();
                    x = a.parse().unwrap();
                    y = b.trim_end_matches(".5").parse().unwrap();
                }
                'm' => x += args.split(' ').next().unwrap().parse::<usize>().unwrap(),
                'h' => {
                    let w: usize = args.parse().unwrap();
                    for py in y * scale..(y + 1) * scale {
                        for px in x * scale..(x + w) * scale {
                            pixels[py * size * scale + px] = 0;
                        }
                    }
                    x += w;
                }
                other => panic!("unexpected {other}"),
            }
            rest = &rest[end..];
        }
        let side = size * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    /// The penalty rules written plainly, module by module.
    fn reference_penalty(m: &[bool], w: usize) -> u32 {
        let at = |x: isize, y: isize| {
            x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < w && m[y as usize * w + x as usize]
        };
        let mut score = 0;
        for horizontal in [true, false] {
            for i in 0..w as isize {
                let get = |j: isize| if horizontal { at(j, i) } else { at(i, j) };
                let mut run = 1;
                for j in 1..=w as isize {
                    if j < w as isize && get(j) == get(j - 1) {
                        run += 1;
                    } else {
                        if run >= 5 {
                            score += run - 2;
                        }
                        run = 1;
                    }
                }
                let pattern = [true, false, true, true, true, false, true];
                for j in -4..w as isize {
                    let core = (0..7).all(|k| get(j + k) == pattern[k as usize]);
                    if core && (7..11).all(|k| !get(j + k)) {
                        score += 40;
                    }
                    if core && (1..5).all(|k| !get(j - k)) {
                        score += 40;
                    }
                }
            }
        }
        for y in 0..w as isize - 1 {
            for x in 0..w as isize - 1 {
                let c = at(x, y);
                if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                    score += 3;
                }
            }
        }
        let dark = m.iter().filter(|d| **d).count() as u32;
        score + 10 * ((dark * 100 / (w * w) as u32).abs_diff(50) / 5)
    }

    #[test]
    fn packed_penalty_agrees_with_the_plain_rules() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for w in [21, 25, 41, 49] {
            for density in [2, 3, 5] {
                let modules: Vec<bool> = (0..w * w).map(|_| next() % density == 0).collect();
                assert_eq!(packed_penalty(&modules, w), reference_penalty(&modules, w), "width {w}");
            }
            assert_eq!(packed_penalty(&vec![true; w * w], w), reference_penalty(&vec![true; w * w], w));
        }
        assert_eq!(packed_penalty(&vec![true; 21 * 21], 21), 42 * 19 + 400 * 3 + 100);
    }

    fn packed_penalty(modules: &[bool], width: usize) -> u32 {
        let colors: Vec<Color> = modules.iter().map(|d| if *d { Color::Dark } else { Color::Light }).collect();
        let (rows, cols) = pack(&colors, width);
        penalty(&rows, &cols, width)
    }

    #[test]
    fn symbols_match_the_qrcode_crate_with_the_same_mask() {
        // For each content, the symbol assembled here equals one of qrcode's eight masked
        // symbols (the one with the lowest penalty by the plain rules), and it decodes.
        for content in [
            "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.5.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8",
            "bankid.x.0.y",
            "hello",
            &"a".repeat(150),
            &"b".repeat(400), // version 13: qrcode's own path
        ] {
            let (modules, width) = qr_modules(content.as_bytes()).unwrap();
            let bits = qrcode::bits::encode_auto(content.as_bytes(), EcLevel::L).unwrap();
            let version = bits.version();
            let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::L).unwrap();
            let mut canvas = Canvas::new(version, EcLevel::L);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(&data, &ec);
            let candidates: Vec<Vec<bool>> = MASKS
                .iter()
                .map(|mask| {
                    let mut masked = canvas.clone();
                    masked.apply_mask(*mask);
                    masked.into_colors().into_iter().map(|c| c == Color::Dark).collect()
                })
                .collect();
            let lowest = candidates.iter().map(|c| reference_penalty(c, width)).min().unwrap();
            assert!(candidates.contains(&modules), "{content}: not one of qrcode's masked symbols");
            assert_eq!(reference_penalty(&modules, width), lowest, "{content}: not the lowest penalty");
            assert_eq!(decode(&qr_svg(content).unwrap()), content);
        }
    }

    #[test]
    fn svg_decodes_to_the_content() {
        let content = "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.12.\
                       dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8";
        let svg = qr_svg(content).unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains('"'), "no double quotes: nothing to escape in JSON");
        assert!(svg.len() < 8_000, "{} bytes", svg.len());
        assert_eq!(decode(&svg), content);
        assert!(qr_svg(&"x".repeat(10_000)).is_none());
    }
}
