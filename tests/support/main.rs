//! The real `hintd` entry point, built inside the test package so that tests can spawn it
//! (`CARGO_BIN_EXE_hintd-under-test`), with the same allocator as `hintd`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    hintd::cli::main()
}
