//! The `hintd-bench` binary.

// The allocator of `hintd` itself, so the server measured in this process allocates as the
// product does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    hintd_bench::main()
}
