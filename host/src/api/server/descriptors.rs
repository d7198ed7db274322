//! File descriptors: each connection holds one, and so do the store, the plugins and the
//! outbound HTTP clients. The connection limit is kept below the process's open-files
//! limit, so that a flood of connections cannot starve the rest of the process.

/// Descriptors left to everything but client connections.
const RESERVED: u64 = 256;

/// Raises the soft open-files limit to the hard one (as Go programs do at start) and
/// returns how many connections fit below it with [`RESERVED`] to spare; `None` when the
/// limit cannot be read or is unlimited.
pub(super) fn connections_that_fit() -> Option<usize> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                limit = raised;
            }
        }
        let current = limit.current?;
        Some(current.saturating_sub(RESERVED).max(1) as usize)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
