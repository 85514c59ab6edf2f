//! Command output on stdout that survives a closed pipe.
//!
//! `println!` panics when stdout is gone (`crew-runner logs ID | head`). `outln!` and `out!`
//! write like `println!`/`print!`, but when the reader has gone away (broken pipe) the process
//! exits quietly with code 0, as `head`-style pipelines expect; any other write error is reported
//! on stderr and exits 1. Either way nothing more can be shown, and everything the command did
//! is already recorded (commands print only after their writes are committed).

/// Like `println!`, for command output (see the module docs).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Like `print!`, for command output (see the module docs).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes `args` to stdout and flushes; exits the process when stdout is closed or failing.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "crew-runner: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
