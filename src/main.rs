//! The `autochannel` command; see `cli` for what it does.

fn main() -> std::process::ExitCode {
    autochannel::cli::main()
}
