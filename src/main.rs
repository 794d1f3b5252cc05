//! The `autochannel` command; see `cli` for what it does.

// mimalloc: glibc's malloc spent about an eighth of the server's CPU under the issuing load
// (per-thread arenas, consolidation); mimalloc's thread-local free lists cost a fraction of that.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    autochannel::cli::main()
}
