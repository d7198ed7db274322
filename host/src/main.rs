//! The `hintd` binary.

fn main() -> anyhow::Result<()> {
    hintd::cli::main()
}
