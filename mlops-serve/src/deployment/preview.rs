//! Blue/green routing: everything to the active version, chosen keys to the preview.

use std::collections::HashSet;
use std::sync::Arc;

use mlops_core::{DeploymentStrategy, Route};

/// Sends every request to `active`, except the keys listed for `preview`
/// (testers, synthetic checks), which the preview answers.
#[derive(Clone, Debug)]
pub struct Preview {
    active: u64,
    preview: u64,
    keys: Arc<HashSet<u64>>,
}

impl Preview {
    /// `active` answers all keys but `keys`, which `preview` answers.
    pub fn new(active: u64, preview: u64, keys: impl IntoIterator<Item = u64>) -> Preview {
        Preview {
            active,
            preview,
            keys: Arc::new(keys.into_iter().collect()),
        }
    }
}

impl DeploymentStrategy for Preview {
    fn name(&self) -> &str {
        "blue_green"
    }

    fn route(&self, request_key: u64) -> Route {
        let primary = if self.keys.contains(&request_key) {
            self.preview
        } else {
            self.active
        };
        Route {
            primary,
            shadows: Vec::new(),
        }
    }

    fn versions(&self) -> Vec<u64> {
        if self.active == self.preview {
            vec![self.active]
        } else {
            vec![self.active, self.preview]
        }
    }
}
