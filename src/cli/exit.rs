//! The process exit statuses, defined once: every subcommand returns one of
//! these, and [`EXIT_CODES_HELP`] (shown by each subcommand's `--help`) and
//! the README's command-line section describe the same table.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;

/// Why the process ends; `as u8` is the status a shell sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything was delivered (or, for `wrap`/`subscribe`, done).
    Ok = 0,
    /// Some record, event or log group was not delivered / failed.
    Failed = 1,
    /// Usage, configuration or unreadable input: nothing was attempted.
    Usage = 2,
    /// An unexpected panic: a bug in rds-forwarder (EX_SOFTWARE, sysexits.h).
    Bug = 70,
    /// stdout was closed early (e.g. `| head`): 128 + SIGPIPE, what a shell
    /// reports for a tool killed by SIGPIPE, so `set -o pipefail` scripts
    /// still see that not everything was written.
    StdoutClosed = 141,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// The exit status table, as each subcommand's `--help` shows it.
pub const EXIT_CODES_HELP: &str = "\
Exit status:
  0    everything delivered (or done)
  1    some record, event or log group not delivered / failed
  2    usage, configuration or unreadable input (nothing attempted)
  70   internal error: a bug in rds-forwarder (please report it)
  141  stdout closed before everything was written (e.g. `| head`)";

/// The one line printed for a panic: what happened, where, and that it is
/// a bug (never a backtrace dump or a Debug structure).
pub fn panic_line(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "rds-forwarder: internal error (a bug, please report it): {}{place}",
        message.replace('\n', " ")
    )
}

/// Installs the hook that prints [`panic_line`] on stderr instead of the
/// default multi-line panic report.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| eprintln!("{}", panic_line(info))));
}

/// Runs `main`, turning an unexpected panic into [`Exit::Bug`] (the hook has
/// already said what it was) rather than Rust's exit status 101.
pub fn guarded(main: impl FnOnce() -> Exit) -> Exit {
    catch_unwind(AssertUnwindSafe(main)).unwrap_or(Exit::Bug)
}

/// Whether an I/O error means the reader of our output went away.
pub fn is_closed_output(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_documented_bug_status_not_101() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let exit = guarded(|| panic!("boom"));
        std::panic::set_hook(previous);
        assert_eq!(exit, Exit::Bug);
        assert_eq!(guarded(|| Exit::Failed), Exit::Failed);
    }

    #[test]
    fn the_help_table_lists_every_status() {
        for e in [
            Exit::Ok,
            Exit::Failed,
            Exit::Usage,
            Exit::Bug,
            Exit::StdoutClosed,
        ] {
            let row = format!("\n  {:<4} ", e.code());
            assert!(EXIT_CODES_HELP.contains(&row), "{row:?} missing");
        }
    }
}
