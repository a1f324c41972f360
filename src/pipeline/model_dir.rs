//! A model folder on disk (www/models, or any folder with a manifest.json): the CLI and the tests.

use std::collections::HashMap;
use std::path::Path;

use crate::weights::Manifest;
use crate::{Error, Result};

/// Reads www/models (or any folder with a manifest.json) from disk: native CLI and tests.
pub fn read_model_dir(dir: &Path) -> Result<(Manifest, HashMap<String, Vec<u8>>)> {
    let manifest = read_manifest(dir)?;
    let mut files = HashMap::new();
    for name in manifest.all_names() {
        let bytes = read_model_file(dir, &name)?;
        files.insert(name, bytes);
    }
    Ok((manifest, files))
}

/// The manifest.json of a model folder on disk.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Weights(format!("cannot read {}: {e}", path.display())))?;
    Manifest::from_json(&text)
}

/// One file of a model folder on disk, unchecked (the caller verifies it against the manifest).
pub fn read_model_file(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| Error::Weights(format!("cannot read {}: {e}", path.display())))
}
