//! Settings for a process that runs the analytics pass over large frames.
//!
//! mimalloc reads its options from the environment once, before `main`, and setting a variable from inside a
//! running program would need `unsafe`, which this workspace forbids. So a program that wants them runs itself
//! again with the ones its environment lacks: [`restart_with`]. A value already set is kept.

/// For a batch command, whose process ends with its job: mimalloc keeps the memory it freed for reuse instead of
/// handing it back to the system after a second. The pass frees and allocates columns of tens of megabytes, and
/// every page handed back is zeroed by the kernel when it is touched again; that was a fifth to a third of the
/// pass's CPU time. Over 10 million policies: 1.09 / 1.14 s min / median of 5 runs (CPU 2.0–2.1 s) against
/// 1.26 / 1.96 s (CPU 2.4–4.1 s) with mimalloc's default; peak 3.66 GiB against 3.21.
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
