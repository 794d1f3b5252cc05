//! The `autochannel` command; see `cli` for what it does.

// mimalloc: glibc's malloc spent about an eighth of the server's CPU under the issuing load
// (per-thread arenas, consolidation); mimalloc's thread-local free lists cost a fraction of that.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(all(feature = "mimalloc", target_os = "linux"))]
    return_freed_memory_at_once();
    autochannel::cli::main()
}

/// mimalloc gives freed pages back to the system only after a delay (a second, ten for its arenas); under a steady
/// load that kept the server's resident memory climbing about 2 MiB a minute in a 30-minute soak; with no delay it
/// stays lower and mostly flat (see the README's soaks). The delay is read from the environment when the allocator
/// starts, before `main`, and setting it through mimalloc's C API would need `unsafe` (which this crate forbids), so
/// the process runs itself again once with `MIMALLOC_PURGE_DELAY=0`. A value already set (by an operator, or by
/// this first run) is kept.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
fn return_freed_memory_at_once() {
    use std::os::unix::process::CommandExt;
    const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(PURGE_DELAY).is_some() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let program_name = args.next().unwrap_or_else(|| executable.clone().into_os_string());
    // `exec` returns only when it failed; the process then carries on with mimalloc's default delay.
    let error = std::process::Command::new(&executable).arg0(program_name).args(args).env(PURGE_DELAY, "0").exec();
    eprintln!("autochannel: could not restart with {PURGE_DELAY}=0 ({error}); freed memory returns to the system late");
}
