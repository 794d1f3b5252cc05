//! The `autochannel` command; see `cli` for what it does.

// mimalloc: glibc's malloc spent about an eighth of the server's CPU under the issuing load
// (per-thread arenas, consolidation); mimalloc's thread-local free lists cost a fraction of that.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(feature = "mimalloc")]
    restart_with_allocator_settings();
    autochannel::cli::main()
}

/// Allocator settings the server (`serve`) runs with unless the environment already sets them; see the README's
/// soaks. The analytics commands instead keep freed memory for reuse
/// ([`analytics::process::BATCH_ALLOCATOR_SETTINGS`]); the other commands keep mimalloc's defaults.
///
/// - `MIMALLOC_ALLOW_THP=0`: mimalloc asks for transparent huge pages on its arenas (`MADV_HUGEPAGE`), and the
///   kernel then backs a whole 2 MiB range once any page of it is touched: in a 6-minute soak 39–43 MiB of the
///   server's 56–60 MiB of anonymous memory were huge pages, and resident memory moved in 2 MiB steps that no
///   allocation made (one run stepped up 15 MiB after 19 minutes). Without them the same soak held 25–27 MiB.
/// - `MIMALLOC_PURGE_DELAY=0`: freed pages go back to the system at once rather than after a second (ten for
///   its arenas), which kept resident memory climbing ~1.6 MiB a minute under a steady load.
#[cfg(feature = "mimalloc")]
const SERVER_ALLOCATOR_SETTINGS: [(&str, &str); 2] = [("MIMALLOC_ALLOW_THP", "0"), ("MIMALLOC_PURGE_DELAY", "0")];

/// mimalloc reads its options when the process starts, so the process runs itself again once (same process id)
/// with the settings its command wants and the environment lacks (see [`analytics::process`]).
#[cfg(feature = "mimalloc")]
fn restart_with_allocator_settings() {
    // A command may follow global options (`--database-url URL serve`); a value that happens to read like one
    // only changes how the other command's allocator is tuned.
    let has = |command: &str| std::env::args_os().skip(1).any(|arg| arg == command);
    let settings: &[(&str, &str)] = if has("serve") {
        &SERVER_ALLOCATOR_SETTINGS
    } else if has("analytics") {
        &analytics::process::BATCH_ALLOCATOR_SETTINGS
    } else {
        &[]
    };
    // Returns only when nothing was missing or the restart failed; the process then carries on as it is.
    if let Some(error) = analytics::process::restart_with(settings) {
        eprintln!(
            "autochannel: could not restart with the allocator settings ({error}); it may use more memory or time"
        );
    }
}
