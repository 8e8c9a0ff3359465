//! Reading a page of many items, the engine of Query and Scan: walk a key
//! range of the table or of one index in bounded chunks, stop at the
//! request's Limit (counted before the filter) or once 1 MB has been read,
//! and say where the next page starts.
//!
//! Only the entries inside the range are touched, chunk by chunk, so a
//! Query reads what it returns plus what its filter drops, and memory stays
//! bounded by one chunk and one page whatever the size of the table; a
//! chunk stops once it holds about what the page can still take.

use std::ops::Bound;
use std::sync::Arc;

use openddb_core::expr::{evaluate, project, Condition, DocumentPath};
use openddb_core::keyenc::{
    decode_key_value, encode_key_prefix, encode_key_value, KeyValue, NotAKeyType,
};
use openddb_core::size::item_size;
use openddb_core::value::decode_item;
use openddb_core::{AttributeValue, DynamoError, Item};
use openddb_kv::{prefix_successor, KeyRange, ReadTxn};

use crate::catalog::{IndexMeta, TableMeta};
use crate::keys;
use crate::run::storage_error;

/// DynamoDB stops a Query or Scan page once it has read this much.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// How many entries one storage scan fetches at most.
const CHUNK: usize = 256;

/// A range condition on the sort attribute after the fixed ones.
pub use openddb_core::expr::keycond::SortRange;

/// What to read and how to shape it.
pub struct PageRequest {
    pub meta: Arc<TableMeta>,
    /// The index read, or `None` for the table.
    pub index: Option<IndexMeta>,
    pub range: KeyRange,
    /// Descending key order (Query with ScanIndexForward=false).
    pub reverse: bool,
    /// Most entries to read (DynamoDB's Limit, counted before the filter).
    pub limit: Option<usize>,
    /// Parallel scan: only entries whose partition key hashes to this
    /// segment of that many.
    pub segment: Option<(u32, u32)>,
    pub filter: Option<Condition>,
    /// Paths to return, or every attribute when `None`.
    pub projection: Option<Vec<DocumentPath>>,
    /// Only count (Select=COUNT).
    pub count_only: bool,
    /// Read each entry's item from the table (a local index queried for
    /// attributes it does not project).
    pub fetch_from_table: bool,
}

/// One page of results.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub count: usize,
    pub scanned_count: usize,
    pub last_evaluated_key: Option<Item>,
    /// Bytes read from the index (or the table when no index is read).
    pub read_bytes: usize,
    /// 4 KB blocks read from the table for entries of a local index: each
    /// item fetched is its own read, rounded up on its own, as DynamoDB
    /// charges them.
    pub fetched_blocks: usize,
    /// Bytes of the items fetched from the table: they count towards the
    /// page's 1 MB with the entries, or a page of small entries of a keys-
    /// only index could bring thousands of 400 KB items.
    pub fetched_bytes: usize,
}

/// Where the items of a table or index live.
pub fn target_prefix(meta: &TableMeta, index: Option<&IndexMeta>) -> Vec<u8> {
    keys::index_prefix(meta.id, index.map_or(keys::BASE_INDEX, |i| i.id))
}

/// The key range a key condition selects: the fixed partition and leading
/// sort values, then an optional range on the next sort attribute. A value
/// of a type no key can have is refused (the caller words the error for
/// its request; its own checks should have caught it first).
pub fn key_condition_range(
    prefix: &[u8],
    partition: &[AttributeValue],
    sort_equal: &[AttributeValue],
    sort_range: Option<&SortRange>,
) -> Result<KeyRange, NotAKeyType> {
    let mut base = prefix.to_vec();
    for v in partition.iter().chain(sort_equal) {
        encode_key_value(KeyValue::try_from(v)?, &mut base);
    }
    let end_of = |p: &[u8]| match prefix_successor(p) {
        Some(e) => Bound::Excluded(e),
        None => Bound::Unbounded,
    };
    let with = |v: &AttributeValue| -> Result<Vec<u8>, NotAKeyType> {
        let mut k = base.clone();
        encode_key_value(KeyValue::try_from(v)?, &mut k);
        Ok(k)
    };
    let after = |v: &AttributeValue| -> Result<Bound<Vec<u8>>, NotAKeyType> {
        Ok(match prefix_successor(&with(v)?) {
            Some(k) => Bound::Included(k),
            None => Bound::Unbounded,
        })
    };
    let (start, end) = match sort_range {
        None => (Bound::Included(base.clone()), end_of(&base)),
        Some(SortRange::Lt(v)) => (Bound::Included(base.clone()), Bound::Excluded(with(v)?)),
        Some(SortRange::Le(v)) => (Bound::Included(base.clone()), end_of(&with(v)?)),
        Some(SortRange::Gt(v)) => (after(v)?, end_of(&base)),
        Some(SortRange::Ge(v)) => (Bound::Included(with(v)?), end_of(&base)),
        Some(SortRange::Between(a, b)) => (Bound::Included(with(a)?), end_of(&with(b)?)),
        Some(SortRange::BeginsWith(v)) => {
            let mut k = base.clone();
            encode_key_prefix(KeyValue::try_from(v)?, &mut k);
            (Bound::Included(k.clone()), end_of(&k))
        }
    };
    Ok(KeyRange { start, end })
}

/// Narrows `range` to the entries after `exclusive_start` in the reading
/// direction.
pub fn resume_after(range: KeyRange, exclusive_start: Vec<u8>, reverse: bool) -> KeyRange {
    let tighter_start = |b: &Bound<Vec<u8>>| match b {
        Bound::Included(s) | Bound::Excluded(s) => exclusive_start >= *s,
        Bound::Unbounded => true,
    };
    let tighter_end = |b: &Bound<Vec<u8>>| match b {
        Bound::Included(e) | Bound::Excluded(e) => exclusive_start <= *e,
        Bound::Unbounded => true,
    };
    if reverse {
        KeyRange {
            end: if tighter_end(&range.end) {
                Bound::Excluded(exclusive_start)
            } else {
                range.end
            },
            start: range.start,
        }
    } else {
        KeyRange {
            start: if tighter_start(&range.start) {
                Bound::Excluded(exclusive_start)
            } else {
                range.start
            },
            end: range.end,
        }
    }
}

/// The storage key of the entry an ExclusiveStartKey (or a NextToken)
/// names; `None` unless it holds the table's and the index's key
/// attributes with their schema types.
pub fn start_key(meta: &TableMeta, index: Option<&IndexMeta>, key: &Item) -> Option<Vec<u8>> {
    let typed = |attr: &crate::catalog::KeyAttribute| {
        let v = KeyValue::try_from(key.get(&attr.name)?).ok()?;
        (v.type_name() == attr.attr_type).then_some(v)
    };
    let pk = typed(&meta.key_schema.partition_key)?;
    let sk = match &meta.key_schema.sort_key {
        Some(s) => Some(typed(s)?),
        None => None,
    };
    Some(match index {
        None => keys::item_key(meta.id, pk, sk),
        Some(i) => keys::index_entry_key(meta.id, i.id, i.key_values(key)?, pk, sk),
    })
}

/// The storage key of the entry whose encoded key values (index key, then
/// table key, as they follow `prefix` in its storage key) are `values`;
/// `None` unless they decode, each with its schema type, with nothing
/// left over.
pub fn resume_key(
    meta: &TableMeta,
    index: Option<&IndexMeta>,
    prefix: &[u8],
    values: &[u8],
) -> Option<Vec<u8>> {
    let index_attrs = index.into_iter().flat_map(|i| i.key_attributes());
    let table_attrs =
        std::iter::once(&meta.key_schema.partition_key).chain(meta.key_schema.sort_key.as_ref());
    let mut rest = values;
    for attr in index_attrs.chain(table_attrs) {
        let (value, used) = decode_key_value(rest)?;
        if value.type_name() != attr.attr_type {
            return None;
        }
        rest = rest.get(used..)?;
    }
    if !rest.is_empty() {
        return None;
    }
    let mut key = Vec::with_capacity(prefix.len() + values.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(values);
    Some(key)
}

/// Whether `key` lies inside `range`.
pub fn range_holds(range: &KeyRange, key: &[u8]) -> bool {
    let after_start = match &range.start {
        Bound::Included(s) => key >= s.as_slice(),
        Bound::Excluded(s) => key > s.as_slice(),
        Bound::Unbounded => true,
    };
    let before_end = match &range.end {
        Bound::Included(e) => key <= e.as_slice(),
        Bound::Excluded(e) => key < e.as_slice(),
        Bound::Unbounded => true,
    };
    after_start && before_end
}

/// The LastEvaluatedKey of an entry, decoded from its storage key: the
/// index's key attributes when an index is read, then the table's.
fn key_of(meta: &TableMeta, index: Option<&IndexMeta>, storage_key: &[u8]) -> Option<Item> {
    let mut rest = storage_key.get(target_prefix(meta, index).len()..)?;
    let index_names = index
        .into_iter()
        .flat_map(|i| i.key_attributes().map(|a| a.name.as_str()));
    let mut key = Item::new();
    for name in index_names.chain(meta.key_schema.names()) {
        let (value, used) = decode_key_value(rest)?;
        rest = &rest[used..];
        key.insert(name.to_string(), value);
    }
    Some(key)
}

/// The segment of a parallel scan an entry belongs to: a stable hash of
/// its partition key (FNV-1a; stability across versions matters, quality
/// beyond spreading keys evenly does not).
pub fn segment_of(partition_key: KeyValue<'_>, total: u32) -> u32 {
    let mut enc = Vec::with_capacity(32);
    encode_key_value(partition_key, &mut enc);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in enc {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits in: FNV's low bits alone spread poorly.
    // `max(1)`: a total of zero is refused by request validation; here it
    // must not divide by zero.
    ((h ^ (h >> 32)) % u64::from(total.max(1))) as u32
}

fn corrupt(e: impl std::fmt::Display) -> DynamoError {
    storage_error(openddb_kv::KvError::Fatal(format!("corrupt item: {e}")))
}

/// A page being read: what has been gathered and where the walk stands.
/// A walk may be continued in another snapshot (a Query or Scan page is not
/// a snapshot read in DynamoDB either: each item is read consistently, and
/// the walk resumes strictly after the last key it read).
pub struct PageWalk {
    pub page: Page,
    range: KeyRange,
    finished: bool,
}

impl PageWalk {
    pub fn new(req: &PageRequest) -> PageWalk {
        PageWalk {
            page: Page::default(),
            range: req.range.clone(),
            finished: false,
        }
    }

    pub fn finished(&self) -> bool {
        self.finished
    }
}

/// Reads one page in `txn`.
pub fn read_page(txn: &dyn ReadTxn, req: &PageRequest) -> Result<Page, DynamoError> {
    let mut walk = PageWalk::new(req);
    continue_page(txn, req, &mut walk, usize::MAX)?;
    Ok(walk.page)
}

/// Reads at most `max_chunks` more chunks of the page in `txn`; afterwards
/// `walk.finished()` says whether the page is complete.
pub fn continue_page(
    txn: &dyn ReadTxn,
    req: &PageRequest,
    walk: &mut PageWalk,
    max_chunks: usize,
) -> Result<(), DynamoError> {
    let meta = &req.meta;
    let index = req.index.as_ref();
    let page = &mut walk.page;
    let mut last_evaluated: Option<Vec<u8>> = None;
    let mut stopped = false;
    let mut chunks = 0;
    'chunks: while chunks < max_chunks {
        chunks += 1;
        let want = match req.limit {
            Some(l) => l.saturating_sub(page.scanned_count).min(CHUNK),
            None => CHUNK,
        };
        // A chunk stops after about what the page can still take: 256
        // items of 400 KB must not be read (and decoded) for a 1 MB page.
        let max_bytes = PAGE_BYTES.saturating_sub(page.read_bytes + page.fetched_bytes);
        let rows = txn
            .scan_bounded(&walk.range, req.reverse, want, max_bytes)
            .map_err(storage_error)?;
        let read: usize = rows.iter().map(|(k, v)| k.len() + v.len()).sum();
        let exhausted = rows.len() < want && read <= max_bytes;
        let mut last_read: Option<Vec<u8>> = None;
        for (k, v) in rows {
            let stored = decode_item(&v).map_err(corrupt)?;
            if let Some((segment, total)) = req.segment {
                let pk = stored
                    .get(&meta.key_schema.partition_key.name)
                    .and_then(|v| KeyValue::try_from(v).ok());
                if pk.is_none_or(|pk| segment_of(pk, total) != segment) {
                    last_read = Some(k);
                    continue;
                }
            }
            page.scanned_count += 1;
            page.read_bytes += item_size(&stored);
            let item = if req.fetch_from_table {
                fetch(txn, meta, &stored, page)?.unwrap_or(stored)
            } else {
                stored
            };
            if req.filter.as_ref().is_none_or(|f| evaluate(f, Some(&item))) {
                page.count += 1;
                if !req.count_only {
                    page.items.push(match &req.projection {
                        Some(paths) => project(paths, &item),
                        None => item,
                    });
                }
            }
            if req.limit.is_some_and(|l| page.scanned_count >= l)
                || page.read_bytes + page.fetched_bytes > PAGE_BYTES
            {
                last_evaluated = Some(k);
                stopped = true;
                break 'chunks;
            }
            last_read = Some(k);
        }
        match last_read {
            Some(k) if !exhausted => {
                let range = std::mem::replace(&mut walk.range, KeyRange::prefix(&[]));
                walk.range = resume_after(range, k, req.reverse);
            }
            _ => {
                walk.finished = true;
                return Ok(());
            }
        }
    }
    if stopped {
        page.last_evaluated_key = last_evaluated.and_then(|k| key_of(meta, index, &k));
        walk.finished = true;
    }
    Ok(())
}

/// The table's item for an index entry, adding its 4 KB blocks to `blocks`.
fn fetch(
    txn: &dyn ReadTxn,
    meta: &TableMeta,
    entry: &Item,
    page: &mut Page,
) -> Result<Option<Item>, DynamoError> {
    let key_of = |name: &str| entry.get(name).and_then(|v| KeyValue::try_from(v).ok());
    let Some(pk) = key_of(&meta.key_schema.partition_key.name) else {
        return Ok(None);
    };
    let sk = match &meta.key_schema.sort_key {
        Some(s) => match key_of(&s.name) {
            Some(v) => Some(v),
            None => return Ok(None),
        },
        None => None,
    };
    let Some(raw) = txn
        .get(&keys::item_key(meta.id, pk, sk))
        .map_err(storage_error)?
    else {
        return Ok(None);
    };
    let item = decode_item(&raw).map_err(corrupt)?;
    let size = item_size(&item);
    page.fetched_blocks += size.div_ceil(4096).max(1);
    page.fetched_bytes += size;
    Ok(Some(item))
}
