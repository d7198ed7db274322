//! The `config` import: read access to the manifest's `[config]` table.

use super::HostState;
use crate::plugins::manifest::Capability;
use crate::plugins::wit::v0_1_0::hintd::provider::config::Host;

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        if !self.ctx.grants(Capability::Config) {
            return Ok(None);
        }
        Ok(self.ctx.config.get(&key).map(|v| v.to_string()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<String> {
        if !self.ctx.grants(Capability::Config) {
            return Ok("{}".into());
        }
        Ok(self.ctx.config_text.clone())
    }
}
