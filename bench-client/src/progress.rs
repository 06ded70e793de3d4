//! The live progress line on stderr (elapsed, remaining, req/s, errors).
//!
//! Workers never talk to it: each publishes its running totals into its own
//! cache-line-sized slot of the engine's [`Counters`] with relaxed stores,
//! and a separate thread samples the slots a few times a second. The bar is hidden when stderr is
//! not a terminal or with `--quiet`, and then no thread is started at all.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::config::Stop;
use crate::engine::Counters;
use crate::watcher::Watcher;

const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// The running progress bar; [`finish`](Self::finish) clears it.
pub struct Progress {
    watcher: Option<Watcher>,
}

impl Progress {
    /// Starts the bar unless `quiet` or stderr is not a terminal.
    pub fn start(counters: Arc<Counters>, warmup: Duration, stop: Stop, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { watcher: None };
        }
        let watcher = Watcher::spawn("bench-progress", move |done| {
            draw(&counters, warmup, stop, done)
        })
        .ok();
        Progress { watcher }
    }

    pub fn finish(self) {
        if let Some(w) = self.watcher {
            w.finish();
        }
    }
}

/// Columns left free at the end of the bar's line.
const ECHO_COLUMNS: u16 = 3;

/// stderr, reported [`ECHO_COLUMNS`] narrower than it is. Ctrl-C makes the
/// terminal echo `^C` after the bar; indicatif pads its line to the full
/// width, so the echo wrapped onto a new line and the clear that follows
/// wiped that line instead of the bar, which stayed above the summary.
#[derive(Debug)]
struct EchoRoom(console::Term);

impl TermLike for EchoRoom {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(ECHO_COLUMNS).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn draw(counters: &Counters, warmup: Duration, stop: Stop, done: &AtomicBool) {
    let (len, template) = match stop {
        Stop::Duration(d) => (
            (warmup + d).as_millis() as u64,
            "{spinner} [{elapsed_precise}] [{bar:30}] {msg}",
        ),
        Stop::Requests(n) => (
            n,
            "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} {msg}",
        ),
    };
    let bar = ProgressBar::with_draw_target(
        Some(len),
        ProgressDrawTarget::term_like(Box::new(EchoRoom(console::Term::stderr()))),
    );
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut last = (Instant::now(), 0u64);
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        // Ctrl-C: clear the line at once, so that the partial summary that
        // follows does not start after a half-drawn bar (or under `^C`).
        if crate::signals::received().is_some() {
            break;
        }
        let now = Instant::now();
        let (requests, errors) = counters.totals();
        let rate =
            (requests - last.1.min(requests)) as f64 / (now - last.0).as_secs_f64().max(1e-3);
        last = (now, requests);
        let Some(&origin) = counters.origin.get() else {
            bar.set_message("connecting");
            continue;
        };
        let elapsed = now.saturating_duration_since(origin);
        let phase = if elapsed < warmup { "warm-up, " } else { "" };
        let remaining = match stop {
            Stop::Duration(d) => {
                bar.set_position((elapsed.as_millis() as u64).min(len));
                let left = (warmup + d).saturating_sub(elapsed);
                // Whole seconds read well on long runs; tenths matter on short ones.
                if left < Duration::from_secs(10) {
                    format!(", {:.1}s left", left.as_secs_f64())
                } else {
                    format!(", {}s left", left.as_secs())
                }
            }
            Stop::Requests(_) => {
                bar.set_position(requests + errors);
                String::new()
            }
        };
        bar.set_message(format!(
            "{phase}{rate:.0} req/s, {errors} errors{remaining}"
        ));
    }
    bar.finish_and_clear();
}
