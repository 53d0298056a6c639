//! `Logs`: the ordered `name -> value` map passed to callbacks, as Keras's `logs` dict.

/// Ordered `name -> f32` pairs (`loss`, metrics, `val_*`, `learning_rate`).
///
/// Keys keep their insertion order, which is Keras's order: `loss`, the compiled metrics, then
/// the `val_` versions.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Logs {
    entries: Vec<(String, f32)>,
}

impl Logs {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<f32> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// Sets `key` to `value`, appending the key if new (no allocation when it exists).
    pub fn set(&mut self, key: &str, value: f32) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 = value;
        } else {
            self.entries.push((key.to_string(), value));
        }
    }

    /// Removes every entry (keeps the allocation).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The `(key, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys joined by `", "` (for error messages that list what is available).
    pub fn key_list(&self) -> String {
        self.keys().collect::<Vec<_>>().join(", ")
    }
}
