//! Parsed policies by their text, so a request does not parse the
//! documents it is evaluated against. Failures are kept too: a stored
//! document that does not parse fails closed, and fails fast.
//!
//! A document held in an `Arc<str>` (an identity policy of a loaded
//! principal) is found by the address of its text, without hashing the
//! text: the entry holds a clone of the `Arc`, so while it is cached no
//! other text can be allocated at that address.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use super::{Policy, PolicyError};

type Parsed = Result<Arc<Policy>, PolicyError>;

/// A bounded cache of parsed policies. When full, the least recently used
/// eighth is dropped at once, so eviction's cost is spread over many
/// misses.
pub struct PolicyCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    /// By text: (parsed, last used).
    by_text: HashMap<Arc<str>, (Parsed, u64)>,
    /// By the address of a shared text: (that text, parsed, last used).
    by_address: HashMap<usize, (Arc<str>, Parsed, u64), BuildHasherDefault<AddressHasher>>,
    clock: u64,
}

impl PolicyCache {
    pub fn new(capacity: usize) -> Self {
        PolicyCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                by_text: HashMap::new(),
                by_address: HashMap::default(),
                clock: 0,
            }),
        }
    }

    /// The policy `text` holds, parsed once.
    pub fn get(&self, text: &str) -> Parsed {
        {
            let mut inner = self.lock();
            let now = inner.tick();
            if let Some((result, used)) = inner.by_text.get_mut(text) {
                *used = now;
                return result.clone();
            }
        }
        // Parsed outside the lock: a large document does not hold up
        // other requests.
        let result = Policy::parse(text).map(Arc::new);
        let mut inner = self.lock();
        make_room(&mut inner.by_text, self.capacity, |(_, used)| *used);
        let now = inner.clock;
        inner.by_text.insert(Arc::from(text), (result.clone(), now));
        result
    }

    /// The policy a shared `text` holds, found by the text's address: as
    /// [`PolicyCache::get`], without reading the text when it was seen
    /// before. Texts equal but apart share one parse.
    pub fn get_shared(&self, text: &Arc<str>) -> Parsed {
        let address = text.as_ptr() as usize;
        {
            let mut inner = self.lock();
            let now = inner.tick();
            if let Some((held, result, used)) = inner.by_address.get_mut(&address) {
                // The entry holds its text alive, so an equal address is
                // the same allocation; checked all the same.
                if Arc::ptr_eq(held, text) {
                    *used = now;
                    return result.clone();
                }
            }
        }
        let result = self.get(text);
        let mut inner = self.lock();
        make_room(&mut inner.by_address, self.capacity, |(_, _, used)| *used);
        let now = inner.clock;
        inner
            .by_address
            .insert(address, (Arc::clone(text), result.clone(), now));
        result
    }

    /// How many documents are cached.
    pub fn len(&self) -> usize {
        self.lock().by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// Drops the least recently used eighth of a full map.
fn make_room<K, V, S>(map: &mut HashMap<K, V, S>, capacity: usize, used: impl Fn(&V) -> u64) {
    if map.len() < capacity {
        return;
    }
    let mut ages: Vec<u64> = map.values().map(&used).collect();
    let drop = (capacity / 8).max(1);
    let cut = *ages.select_nth_unstable(drop - 1).1;
    map.retain(|_, v| used(v) > cut);
}

/// Hashes an address: aligned, so its low bits carry nothing; a folded
/// multiply spreads the rest over the whole word (SipHash's resistance
/// to chosen keys is not needed: the keys are our own allocations).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
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
    fn shared_texts_are_found_by_address_and_never_confused() {
        let cache = PolicyCache::new(16);
        let a: Arc<str> = DOC.into();
        let first = cache.get_shared(&a).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get_shared(&a).unwrap()));
        // Another allocation of the same text shares the parse.
        let b: Arc<str> = String::from(DOC).into();
        assert!(Arc::ptr_eq(&first, &cache.get_shared(&b).unwrap()));
        assert_eq!(cache.len(), 1);
        // Texts dropped and made again, while the cache evicts: an address
        // the allocator hands out again (the cache holds a text alive only
        // while it is cached) must never answer for the old text.
        for i in 0..400 {
            let action = format!("dynamodb:A{i}");
            let text: Arc<str> = DOC.replace("dynamodb:*", &action).into();
            let parsed = cache.get_shared(&text).unwrap();
            assert_eq!(
                parsed.named_actions().collect::<Vec<_>>(),
                [action.as_str()]
            );
            assert!(cache.lock().by_address.len() <= 16);
            assert!(cache.len() <= 16);
        }
        // Same address, other text: only possible once the entry is gone,
        // and then the text decides.
        let bad: Arc<str> = "{not json".into();
        assert_eq!(
            cache.get_shared(&bad).unwrap_err(),
            PolicyError::InvalidJson
        );
        assert_eq!(
            cache.get_shared(&bad).unwrap_err(),
            PolicyError::InvalidJson
        );
    }

    #[test]
    fn a_held_address_is_checked_against_its_text() {
        let cache = PolicyCache::new(4);
        let a: Arc<str> = DOC.into();
        cache.get_shared(&a).unwrap();
        // Forge an entry under another text's address: the held text does
        // not match, so the lookup parses the text it was given.
        let b: Arc<str> = "{not json".into();
        {
            let mut inner = cache.lock();
            let entry = inner
                .by_address
                .get(&(a.as_ptr() as usize))
                .unwrap()
                .clone();
            inner.by_address.insert(b.as_ptr() as usize, entry);
        }
        assert_eq!(cache.get_shared(&b).unwrap_err(), PolicyError::InvalidJson);
    }

    #[test]
    fn a_bad_document_is_an_error_every_time() {
        let cache = PolicyCache::new(4);
        let text: Arc<str> = "{not json".into();
        assert_eq!(cache.get(&text).unwrap_err(), PolicyError::InvalidJson);
        assert_eq!(cache.get(&text).unwrap_err(), PolicyError::InvalidJson);
    }
}
