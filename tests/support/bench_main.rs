//! The real `hintd-bench` entry point, built inside the test package so that tests can spawn
//! it (`CARGO_BIN_EXE_hintd-bench-under-test`), with the same allocator as `hintd-bench`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    hintd_bench::main()
}
