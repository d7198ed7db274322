//! Generated bindings of the plugin contract, one module per WIT version, each converting to
//! and from the host's own types ([`super::types`]) so the runtime never depends on one version.

pub mod v0_1_0;

pub use v0_1_0::{HintProvider, Provider, ProviderPre};
