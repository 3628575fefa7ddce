//! Writing data sources as an inventory file.

use attest_core::source::DataSource;

use crate::import::inventory::spec::{InventoryFile, Silence, SourceEntry, State, VERSION};

/// Why an inventory could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The YAML serializer refused the data.
    #[error("cannot write the inventory as YAML: {0}")]
    Yaml(String),
}

fn entry(s: &DataSource) -> SourceEntry {
    SourceEntry {
        name: s.name.clone(),
        description: s.description.clone(),
        platforms: s.platforms.clone(),
        scope: s.scope.clone(),
        components: s.components.clone(),
        log_sources: s.log_sources.iter().map(ToString::to_string).collect(),
        state: State(s.state),
        products: s.products.clone(),
        owner: s.owner.clone(),
        max_silence: s.max_silence.map(Silence),
    }
}

/// The inventory file for `sources`, in the order given, with a header comment.
pub fn write_inventory(sources: &[DataSource]) -> Result<String, WriteError> {
    let file = InventoryFile {
        version: VERSION,
        sources: sources.iter().map(entry).collect(),
    };
    let body = yaml_serde::to_string(&file).map_err(|e| WriteError::Yaml(e.to_string()))?;
    Ok(format!(
        "# attest data source inventory (schema version {VERSION}); apply with `attest sources apply`\n{body}"
    ))
}
