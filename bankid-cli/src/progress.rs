//! Progress while an order runs, in one of three forms:
//!
//! - **live**, when stdout is a terminal: the screen of [`crate::render`] redrawn in place
//!   every second and on every event (on stderr with `--json`, which keeps stdout for the
//!   JSON document, when stderr is a terminal too);
//! - **plain**, when stdout is not a terminal: one line per change on stderr, no escape codes;
//! - **quiet** with `--quiet`: nothing but what the user must act on (the launch URL).

use std::io::{IsTerminal as _, Write};
use std::time::Instant;

use bankid_core::{DeviceKind, Event, Language, PendingHintCode, Rfa, StartMode};

use crate::args::OutputArgs;
use crate::output::describe;
use crate::render::{self, Screen};

/// Where progress goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// Redrawn in place on stdout.
    LiveStdout,
    /// Redrawn in place on stderr.
    LiveStderr,
    /// Lines on stderr.
    Plain,
    /// Nothing.
    Quiet,
}

/// The progress display of one order.
#[derive(Debug)]
pub(crate) struct Progress {
    sink: Sink,
    lang: Language,
    started: Instant,
    /// The QR content of the latest [`Event::QrChanged`], while the QR code is shown.
    qr: Option<String>,
    message: Rfa,
    detail: Option<String>,
    url: String,
    /// Notes shown in the live screen.
    notes: Vec<String>,
    /// Lines of the live screen on the terminal now.
    drawn: usize,
}

impl Progress {
    /// The display of an order started at `started` in `mode`, on the server at `url`.
    pub(crate) fn new(output: &OutputArgs, mode: StartMode, started: Instant, url: &str) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let sink = match () {
            () if output.quiet => Sink::Quiet,
            () if stdout_tty && !output.json => Sink::LiveStdout,
            () if stdout_tty && std::io::stderr().is_terminal() => Sink::LiveStderr,
            () => Sink::Plain,
        };
        let message = Rfa::for_pending(&PendingHintCode::OutstandingTransaction, mode, DeviceKind::Computer);
        Self {
            sink,
            lang: output.lang,
            started,
            qr: None,
            message,
            detail: None,
            url: url.to_owned(),
            notes: Vec::new(),
            drawn: 0,
        }
    }

    /// Shows a note: in the live screen, or as a line (nothing with `--quiet`).
    pub(crate) fn note(&mut self, text: &str) {
        match self.sink {
            Sink::Quiet => {}
            Sink::Plain => self.write(&format!("{text}\n")),
            Sink::LiveStdout | Sink::LiveStderr => self.notes.push(text.to_owned()),
        }
    }

    /// Shows a note the user needs to act on, even with `--quiet`.
    pub(crate) fn essential(&mut self, text: &str) {
        match self.sink {
            Sink::Quiet | Sink::Plain => self.write(&format!("{text}\n")),
            Sink::LiveStdout | Sink::LiveStderr => self.notes.push(text.to_owned()),
        }
    }

    /// Prints a line without the live screen (plain progress only): the order reference does
    /// not fit beside the QR code, and the result shows it anyway.
    pub(crate) fn plain_note(&mut self, text: &str) {
        if self.sink == Sink::Plain {
            self.write(&format!("{text}\n"));
        }
    }

    /// Shows what `event` changes.
    pub(crate) fn on_event(&mut self, event: &Event) {
        match event {
            Event::QrChanged(content) => {
                self.qr = Some(content.clone());
                if self.sink == Sink::Plain {
                    self.plain(&format!("QR code: {content}"));
                }
            }
            Event::Progress { hint_code, message } => {
                if *hint_code != PendingHintCode::OutstandingTransaction {
                    self.qr = None;
                }
                self.message = *message;
                self.detail = Some(format!("hint code: {hint_code}"));
                if self.sink == Sink::Plain {
                    self.plain(&format!("{} ({hint_code})", message.text(self.lang)));
                }
            }
            Event::Retrying { attempt, error, .. } => {
                let text = format!("retrying (attempt {attempt}): {}", describe(error, &self.url));
                if self.sink == Sink::Plain {
                    self.plain(&text);
                }
                self.detail = Some(text);
            }
            _ => {}
        }
        self.redraw();
    }

    /// Redraws the live screen (the elapsed time changes every second).
    pub(crate) fn redraw(&mut self) {
        if !self.is_live() {
            return;
        }
        let now = Instant::now();
        let screen = render::screen(
            &Screen {
                qr: self.qr.as_deref(),
                message: self.message.text(self.lang),
                detail: self.detail.as_deref(),
                elapsed: now.saturating_duration_since(self.started),
                notes: &self.notes,
            },
            true,
        );
        // One write: the terminal never shows the screen half erased.
        let erase = self.erase_codes();
        self.write(&(erase + &screen));
        self.drawn = screen.lines().count();
    }

    /// Removes the live screen, before the result is printed.
    pub(crate) fn finish(&mut self) {
        self.erase();
    }

    fn is_live(&self) -> bool {
        matches!(self.sink, Sink::LiveStdout | Sink::LiveStderr)
    }

    /// Removes the live screen: moves the cursor back to its first line and clears from there down.
    fn erase(&mut self) {
        let erase = self.erase_codes();
        if !erase.is_empty() {
            self.write(&erase);
        }
    }

    /// The escape codes that remove the live screen (none when nothing is drawn).
    fn erase_codes(&mut self) -> String {
        let lines = std::mem::take(&mut self.drawn);
        if lines == 0 { String::new() } else { format!("\r\x1b[{lines}A\x1b[J") }
    }

    fn plain(&mut self, text: &str) {
        self.write(&format!("[{:>6}] {text}\n", render::elapsed(self.started.elapsed())));
    }

    fn write(&mut self, text: &str) {
        // A closed terminal or pipe must not stop the order: its result still matters.
        let result = match self.sink {
            Sink::LiveStdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            _ => std::io::stderr().lock().write_all(text.as_bytes()),
        };
        _ = result;
    }
}
