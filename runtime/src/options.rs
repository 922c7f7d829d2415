//! What `#[derive(Objects)]` users can set for a load.

use crate::error::Result;
use crate::object::OpenObject;

/// Settings for `Struct::load_with`, applied after the struct's selection
/// and before the kernel sees the object.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    max_entries: Vec<(String, u32)>,
}

impl LoadOptions {
    /// Default settings: the object's own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the most entries of the map `map` (for a ring buffer, its size
    /// in bytes).
    pub fn max_entries(mut self, map: impl Into<String>, entries: u32) -> Self {
        self.max_entries.push((map.into(), entries));
        self
    }

    /// Applies the settings; a map name the object lacks is an error.
    pub fn apply(&self, object: &mut OpenObject) -> Result<()> {
        for (map, entries) in &self.max_entries {
            let mut spec = object.map_spec(map)?;
            spec.max_entries = *entries;
            object.apply_map(&spec)?;
        }
        Ok(())
    }
}
