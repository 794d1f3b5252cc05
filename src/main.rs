//! The `autochannel` command; see `cli` for what it does.

// mimalloc: glibc's malloc spent about an eighth of the server's CPU under the issuing load
// (per-thread arenas, consolidation); mimalloc's thread-local free lists cost a fraction of that.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(all(feature = "mimalloc", target_os = "linux"))]
    restart_with_allocator_settings();
    autochannel::cli::main()
}

/// Allocator settings the server (`serve`) runs with unless the environment already sets them; see the README's
/// soaks. The other commands keep mimalloc's defaults: the analytics pass over 10 million policies took twice as
/// long with them (its columns of many megabytes faulted in again after each purge).
///
/// - `MIMALLOC_ALLOW_THP=0`: mimalloc asks for transparent huge pages on its arenas (`MADV_HUGEPAGE`), and the
///   kernel then backs a whole 2 MiB range once any page of it is touched: in a 6-minute soak 39–43 MiB of the
///   server's 56–60 MiB of anonymous memory were huge pages, and resident memory moved in 2 MiB steps that no
///   allocation made (one run stepped up 15 MiB after 19 minutes). Without them the same soak held 25–27 MiB.
/// - `MIMALLOC_PURGE_DELAY=0`: freed pages go back to the system at once rather than after a second (ten for
///   its arenas), which kept resident memory climbing ~1.6 MiB a minute under a steady load.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
const ALLOCATOR_SETTINGS: [(&str, &str); 2] = [("MIMALLOC_ALLOW_THP", "0"), ("MIMALLOC_PURGE_DELAY", "0")];

/// mimalloc reads its options from the environment when it starts, before `main`, and setting them through its C
/// API would need `unsafe` (which this crate forbids), so the process runs itself again once (same process id)
/// with the [`ALLOCATOR_SETTINGS`] the environment lacks. A value already set (by an operator, or by this first
/// run) is kept.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
fn restart_with_allocator_settings() {
    use std::os::unix::process::CommandExt;
    // `serve` may follow global options (`--database-url URL serve`); a value that happens to read "serve" only
    // costs the other command some speed.
    let serving = std::env::args_os().skip(1).any(|arg| arg == "serve");
    let missing: Vec<_> =
        ALLOCATOR_SETTINGS.into_iter().filter(|(variable, _)| std::env::var_os(variable).is_none()).collect();
    if !serving || missing.is_empty() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let program_name = args.next().unwrap_or_else(|| executable.clone().into_os_string());
    // `exec` returns only when it failed; the process then carries on with mimalloc's defaults.
    let error = std::process::Command::new(&executable).arg0(program_name).args(args).envs(missing).exec();
    eprintln!("autochannel: could not restart with the allocator settings ({error}); memory use will be higher");
}
