//! Progress bars for long CLI work, only when a person is watching (stderr is a terminal), so
//! scripts and tests get clean output.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}
