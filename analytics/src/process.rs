//! Settings for a process that runs the analytics pass over large frames.
//!
//! polars and mimalloc read these from the environment (mimalloc once, before `main`), and setting a variable
//! from inside a running program would need `unsafe`, which this workspace forbids. So a program that wants them
//! runs itself again with the ones its environment lacks: [`restart_with`]. A value already set is kept.

/// polars runs a group-by in parts on its streaming engine only when it estimates fewer distinct keys than
/// `POLARS_PARTITION_UNIQUE_COUNT` (default 1,000), and otherwise builds every group's row indices first. Its
/// estimate (distinct keys in √n rows drawn with replacement, plus the share seen once times the rows not drawn)
/// puts 2,000 dealers among 7 million rows at over a million. Every group-by of the figures is by dealer, or by
/// policy over the endorsed ones, and both run faster in parts: over 10 million policies the pass took 3.3–3.8 s
/// on one thread with polars' choice and 2.3–2.5 s in parts; frames under 1,000 rows keep the default.
pub const POLARS_SETTINGS: [(&str, &str); 1] = [("POLARS_PARTITION_UNIQUE_COUNT", "1000000000")];

/// For a batch command, whose process ends with its job: mimalloc keeps the memory it freed for reuse instead of
/// handing it back to the system after a second. The pass frees and allocates columns of tens of megabytes, and
/// every page handed back is zeroed by the kernel when it is touched again; that was a fifth to a third of the
/// pass's CPU time (10 million policies: 1.47 / 1.52 s min / median instead of 1.84 / 2.28 s, peak 3.76 GiB).
pub const BATCH_ALLOCATOR_SETTINGS: [(&str, &str); 1] = [("MIMALLOC_PURGE_DELAY", "-1")];

/// Runs this program again, with the same arguments and process id, with those of `settings` its environment
/// lacks. Returns `None` when none was missing (nothing to do), or the error when the restart failed; it does not
/// return when the restart succeeded.
#[cfg(unix)]
pub fn restart_with(settings: &[(&str, &str)]) -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt;
    let missing: Vec<(&str, &str)> =
        settings.iter().copied().filter(|(variable, _)| std::env::var_os(variable).is_none()).collect();
    if missing.is_empty() {
        return None;
    }
    let executable = match std::env::current_exe() {
        Ok(executable) => executable,
        Err(error) => return Some(error),
    };
    let mut args = std::env::args_os();
    let program_name = args.next().unwrap_or_else(|| executable.clone().into_os_string());
    Some(std::process::Command::new(&executable).arg0(program_name).args(args).envs(missing).exec())
}

/// Elsewhere the process carries on without the settings (no `exec` that keeps the process).
#[cfg(not(unix))]
pub fn restart_with(_settings: &[(&str, &str)]) -> Option<std::io::Error> {
    None
}
