fn main() {
    std::process::exit(crew_runner::cli::main());
}
