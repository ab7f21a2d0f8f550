//! What the terminal shows while an order runs: the animated QR code drawn with unicode half
//! blocks, the user message and the elapsed time. Pure functions from that state to text; the
//! caller ([`crate::progress`]) writes it and redraws it in place.
//!
//! # Layout
//! The QR code is drawn with two modules per character cell (`▀`, `▄`, `█`, space), with a
//! quiet zone of two modules and error correction level L, so the 41-module code of a BankID
//! QR content (version 6) takes 45 columns and 23 rows: it fits an 80x24 terminal with the
//! message in a column to its right. Colours are explicit (black modules on a white
//! background, 256-colour palette), so the code scans on dark and light terminals alike.

use std::time::Duration;

use qrcode::{Color, EcLevel, QrCode};

/// Modules of light margin around the code. The QR standard asks for 4; phones scanning a
/// screen need far less, and 2 keeps the drawing within 24 terminal rows.
pub(crate) const QUIET_ZONE: usize = 2;

/// Width of the text column beside the QR code.
const SIDE_WIDTH: usize = 30;

/// Width of the text when no QR code is shown.
const TEXT_WIDTH: usize = 76;

/// Black foreground on a white background (256-colour palette: 16 is black, 231 white).
const QR_COLOURS: &str = "\x1b[38;5;16;48;5;231m";

/// Back to the terminal's colours.
const RESET: &str = "\x1b[0m";

/// What the live view shows at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Screen<'a> {
    /// The QR content to draw, while the order waits for the app to scan it.
    pub(crate) qr: Option<&'a str>,
    /// The user message (an RFA text).
    pub(crate) message: &'a str,
    /// A second line, such as the hint code or a retry note.
    pub(crate) detail: Option<&'a str>,
    /// Time since the order started.
    pub(crate) elapsed: Duration,
    /// Notes under the elapsed time: the server, what to do, how to cancel.
    pub(crate) notes: &'a [String],
}

/// The lines of the live view, each ending with a newline. With `colour`, the QR code carries
/// ANSI colour codes; without, the text holds no escape byte at all.
pub(crate) fn screen(screen: &Screen<'_>, colour: bool) -> String {
    let elapsed = format!("Elapsed: {}", elapsed(screen.elapsed));
    let (qr, qr_width) = screen.qr.map(|content| qr_lines(content, colour)).unwrap_or_default();
    let width = if qr.is_empty() { TEXT_WIDTH } else { SIDE_WIDTH };
    let mut side = wrap(screen.message, width);
    side.push(String::new());
    if let Some(detail) = screen.detail {
        side.extend(wrap(detail, width));
    }
    side.push(elapsed);
    if !screen.notes.is_empty() {
        side.push(String::new());
        side.extend(screen.notes.iter().flat_map(|note| wrap(note, width)));
    }

    let mut out = String::new();
    if qr.is_empty() {
        for line in side {
            out.push_str(&line);
            out.push('\n');
        }
        return out;
    }
    // The text column starts on the code's second row, beside the quiet zone.
    let mut side = std::iter::once(String::new()).chain(side);
    for line in &qr {
        out.push_str(line);
        if let Some(text) = side.next().filter(|text| !text.is_empty()) {
            out.push_str("   ");
            out.push_str(&text);
        }
        out.push('\n');
    }
    for text in side {
        out.push_str(&" ".repeat(qr_width + 3));
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// The QR code of `content` as rows of half blocks, and their width in terminal columns: each
/// character cell holds two module rows, the upper one drawn by `▀`, the lower one by `▄`, both
/// by `█`. Dark modules are drawn, light ones left blank; with `colour`, each row is wrapped in
/// black-on-white colour codes.
pub(crate) fn qr_lines(content: &str, colour: bool) -> (Vec<String>, usize) {
    let Ok(code) = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::L) else {
        // Only contents beyond ~2900 bytes fail to encode; a BankID QR content has ~110.
        let text = format!("(cannot draw a QR code for {content})");
        let width = text.chars().count();
        return (vec![text], width);
    };
    let size = code.width();
    let colors = code.to_colors();
    let full = size + 2 * QUIET_ZONE;
    let dark = |x: usize, y: usize| {
        let (x, y) = (x.wrapping_sub(QUIET_ZONE), y.wrapping_sub(QUIET_ZONE));
        x < size && y < size && colors[y * size + x] == Color::Dark
    };
    let lines = (0..full)
        .step_by(2)
        .map(|y| {
            let cells: String = (0..full)
                .map(|x| match (dark(x, y), dark(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect();
            if colour { format!("{QR_COLOURS}{cells}{RESET}") } else { cells }
        })
        .collect();
    (lines, full)
}

/// `7 s`, `2 min 05 s`.
pub(crate) fn elapsed(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds < 60 { format!("{seconds} s") } else { format!("{} min {:02} s", seconds / 60, seconds % 60) }
}

/// Splits `text` into lines of at most `width` characters at spaces; a longer word is cut.
/// No line is ever wider, so the live screen always knows how many rows it takes.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let words = text.split_whitespace().flat_map(|word| {
        let chars: Vec<char> = word.chars().collect();
        chars.chunks(width).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>()
    });
    for word in words {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official test vector's content at t = 0 (spec §6.2).
    const CONTENT: &str = "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.\
                           dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8";

    /// Reads the modules back from the half blocks.
    fn decode(lines: &[String]) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in lines {
            let (top, bottom): (Vec<bool>, Vec<bool>) =
                line.chars().map(|c| (matches!(c, '█' | '▀'), matches!(c, '█' | '▄'))).unzip();
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn the_drawing_holds_exactly_the_modules_of_the_code() {
        let code = QrCode::with_error_correction_level(CONTENT.as_bytes(), EcLevel::L).unwrap();
        let size = code.width();
        assert_eq!(size, 41, "version 6");
        let (lines, width) = qr_lines(CONTENT, false);
        assert_eq!(width, size + 2 * QUIET_ZONE);
        assert_eq!(lines.len(), (size + 2 * QUIET_ZONE).div_ceil(2));
        assert!(lines.iter().all(|line| line.chars().count() == size + 2 * QUIET_ZONE));
        let modules = decode(&lines);
        let colors = code.to_colors();
        for (y, row) in modules.iter().enumerate() {
            for (x, &dark) in row.iter().enumerate() {
                let inside =
                    (QUIET_ZONE..QUIET_ZONE + size).contains(&x) && (QUIET_ZONE..QUIET_ZONE + size).contains(&y);
                let expected = inside && colors[(y - QUIET_ZONE) * size + x - QUIET_ZONE] == Color::Dark;
                assert_eq!(dark, expected, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn a_qr_reader_reads_the_content_back_from_the_drawing() {
        // Rasterise the half blocks (4 x 4 pixels per module; a white border like a terminal
        // background), then let an independent QR decoder read them.
        let (lines, _) = qr_lines(CONTENT, false);
        let modules = decode(&lines);
        let (scale, border) = (4, 8);
        let size = modules.len() * scale + 2 * border;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
            let (mx, my) = (x.wrapping_sub(border) / scale, y.wrapping_sub(border) / scale);
            let dark = modules.get(my).and_then(|row| row.get(mx)).copied().unwrap_or(false);
            if dark { 0 } else { 255 }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, CONTENT);
    }

    #[test]
    fn colour_wraps_each_row_and_plain_has_no_escapes() {
        let (lines, _) = qr_lines(CONTENT, true);
        assert!(lines.iter().all(|line| line.starts_with(QR_COLOURS) && line.ends_with(RESET)));
        let plain = screen(
            &Screen {
                qr: Some(CONTENT),
                message: "Start your BankID app.",
                detail: None,
                elapsed: Duration::ZERO,
                notes: &[],
            },
            false,
        );
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn the_screen_puts_the_message_beside_the_code_and_fits_24_rows() {
        let message = "Enter your security code in the BankID app and select Identify or Sign.";
        let notes = ["Server: https://bankid-proxy.internal.example.com:8443".to_owned(), "Ctrl-C cancels.".to_owned()];
        let text = screen(
            &Screen {
                qr: Some(CONTENT),
                message,
                detail: Some("userSign"),
                elapsed: Duration::from_secs(75),
                notes: &notes,
            },
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 23);
        assert!(lines.iter().all(|line| line.chars().count() <= 80), "{text}");
        assert!(lines[0].trim().is_empty(), "the first row is quiet zone only");
        assert!(lines[1].ends_with("   Enter your security code in"), "{:?}", lines[1]);
        assert!(text.contains("userSign"));
        assert!(text.contains("Elapsed: 1 min 15 s"));
        assert!(text.contains("   Ctrl-C cancels.\n"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn without_a_code_the_screen_is_the_text_alone() {
        let text = screen(
            &Screen {
                qr: None,
                message: "Start your BankID app.",
                detail: None,
                elapsed: Duration::from_millis(3900),
                notes: &[],
            },
            true,
        );
        assert_eq!(text, "Start your BankID app.\n\nElapsed: 3 s\n");
    }

    #[test]
    fn wrapping_and_durations() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 6), [""]);
        assert_eq!(wrap("abcdefghi ij", 4), ["abcd", "efgh", "i ij"]);
        assert_eq!(elapsed(Duration::from_secs(59)), "59 s");
        assert_eq!(elapsed(Duration::from_secs(125)), "2 min 05 s");
    }
}
