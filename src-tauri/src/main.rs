//! The `crew-runner` binary: headless commands, or the desktop app when none is given.
//!
//! The command line is parsed before anything GUI-related is touched, so `--run` and the
//! subcommands work on machines without a display.

/// mimalloc: the store's writer thread allocates and frees small buffers at a high rate, where
/// glibc's malloc spent a few percent of it consolidating its heap (`docs/BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    crew_runner::app::memory::no_transparent_huge_pages();
    let cli = crew_runner::cli::parse();
    if crew_runner::cli::is_headless(&cli) {
        std::process::exit(crew_runner::cli::execute(cli));
    }
    #[cfg(feature = "gui")]
    std::process::exit(crew_runner::gui::run(cli.global.data_dir, cli.global.config_dir));
    #[cfg(not(feature = "gui"))]
    {
        eprintln!("crew-runner: no command given and this build has no desktop app; try `crew-runner --help`");
        std::process::exit(2);
    }
}
