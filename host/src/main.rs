//! The `hintd` binary.

// A server that allocates per request and per event: mimalloc's thread-local free lists
// beat glibc's arenas under tokio's work stealing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    hintd::cli::main()
}
