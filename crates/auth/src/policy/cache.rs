//! Parsed policies by their text, so a request does not parse the
//! documents it is evaluated against. Failures are kept too: a stored
//! document that does not parse fails closed, and fails fast.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Policy, PolicyError};

type Entry = (Result<Arc<Policy>, PolicyError>, u64);

/// A bounded cache of parsed policies. When full, the least recently used
/// eighth is dropped at once, so eviction's cost is spread over many
/// misses.
pub struct PolicyCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    entries: HashMap<Arc<str>, Entry>,
    clock: u64,
}

impl PolicyCache {
    pub fn new(capacity: usize) -> Self {
        PolicyCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                clock: 0,
            }),
        }
    }

    /// The policy `text` holds, parsed once.
    pub fn get(&self, text: &str) -> Result<Arc<Policy>, PolicyError> {
        {
            let mut inner = self.lock();
            inner.clock += 1;
            let now = inner.clock;
            if let Some((result, used)) = inner.entries.get_mut(text) {
                *used = now;
                return result.clone();
            }
        }
        // Parsed outside the lock: a large document does not hold up
        // other requests.
        let result = Policy::parse(text).map(Arc::new);
        let mut inner = self.lock();
        if inner.entries.len() >= self.capacity {
            let mut ages: Vec<u64> = inner.entries.values().map(|(_, used)| *used).collect();
            let drop = (self.capacity / 8).max(1);
            let cut = *ages.select_nth_unstable(drop - 1).1;
            inner.entries.retain(|_, (_, used)| *used > cut);
        }
        let now = inner.clock;
        inner.entries.insert(Arc::from(text), (result.clone(), now));
        result
    }

    /// How many documents are cached.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#;

    #[test]
    fn parses_once_and_stays_bounded() {
        let cache = PolicyCache::new(16);
        let text: Arc<str> = DOC.into();
        let a = cache.get(&text).unwrap();
        let b = cache.get(&text).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..100 {
            let t: Arc<str> = DOC.replace("dynamodb:*", &format!("dynamodb:A{i}")).into();
            cache.get(&t).unwrap();
            assert!(cache.len() <= 16);
        }
    }

    #[test]
    fn a_bad_document_is_an_error_every_time() {
        let cache = PolicyCache::new(4);
        let text: Arc<str> = "{not json".into();
        assert_eq!(cache.get(&text).unwrap_err(), PolicyError::InvalidJson);
        assert_eq!(cache.get(&text).unwrap_err(), PolicyError::InvalidJson);
    }
}
