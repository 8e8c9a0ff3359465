//! Property tests: Query and Scan over SQLite storage return exactly what a
//! naive model returns. Random tables (hash-only or with an S or N sort
//! key, optionally one local or global index with any projection), random
//! puts and deletes, random key conditions, filters, Limits, directions and
//! parallel segments; every request is read page by page through the
//! embedded API and compared with the items the test kept itself, filtered
//! and ordered in plain Rust.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use openddb_core::api::{QueryInput, QueryOutput, ScanInput};
use openddb_core::{AttributeValue, Item};
use openddb_engine::{Database, StorageConfig};
use proptest::prelude::*;

const TABLE: &str = "prop";
const INDEX: &str = "idx";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    S,
    N,
}

/// A key value of the model, ordered as DynamoDB orders keys: strings by
/// bytes, numbers by value (kept as a count of halves, exact).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyVal {
    S(String),
    N(i64),
}

impl KeyVal {
    fn attr(&self) -> AttributeValue {
        match self {
            KeyVal::S(v) => s(v),
            KeyVal::N(halves) => n(&(*halves as f64 / 2.0).to_string()),
        }
    }

    fn of(t: KeyType, text: &str, halves: i64) -> KeyVal {
        match t {
            KeyType::S => KeyVal::S(text.to_string()),
            KeyType::N => KeyVal::N(halves),
        }
    }

    /// The model value of an attribute the database returned.
    fn from_attr(v: &AttributeValue) -> KeyVal {
        match v {
            AttributeValue::S(v) => KeyVal::S(v.clone()),
            AttributeValue::N(v) => KeyVal::N((v.to_f64() * 2.0).round() as i64),
            other => panic!("not a key value: {other:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proj {
    All,
    KeysOnly,
    /// INCLUDE `x`.
    IncludeX,
}

#[derive(Debug, Clone)]
enum IndexSpec {
    /// On `pk` and `lsk`.
    Local { sort: KeyType, proj: Proj },
    /// On `gpk` (S) and, when given, `gsk`.
    Global { sort: Option<KeyType>, proj: Proj },
}

#[derive(Debug, Clone)]
struct TableSpec {
    sort: Option<KeyType>,
    index: Option<IndexSpec>,
}

/// An item as the model keeps it.
#[derive(Debug, Clone)]
struct ItemSpec {
    pk: String,
    sk: Option<KeyVal>,
    x: Option<i64>,
    y: Option<String>,
    lsk: Option<KeyVal>,
    gpk: Option<String>,
    gsk: Option<KeyVal>,
}

impl ItemSpec {
    fn to_item(&self) -> Item {
        let mut it = item(&[("pk", s(&self.pk))]);
        let mut add = |name: &str, v: Option<AttributeValue>| {
            if let Some(v) = v {
                it.insert(name.to_string(), v);
            }
        };
        add("sk", self.sk.as_ref().map(KeyVal::attr));
        add("x", self.x.map(|x| n(&x.to_string())));
        add("y", self.y.as_deref().map(s));
        add("lsk", self.lsk.as_ref().map(KeyVal::attr));
        add("gpk", self.gpk.as_deref().map(s));
        add("gsk", self.gsk.as_ref().map(KeyVal::attr));
        it
    }

    fn key(&self) -> (String, Option<KeyVal>) {
        (self.pk.clone(), self.sk.clone())
    }
}

#[derive(Debug, Clone)]
enum Write {
    Put(ItemSpec),
    /// Deletes the item of the n-th put so far (modulo), if still there.
    Delete(usize),
}

/// A filter the test can evaluate itself.
#[derive(Debug, Clone)]
enum Filter {
    XGreater(i64),
    XAtMost(i64),
    YEquals(String),
    YBeginsWith(String),
    YExists,
    NoXOrYEquals(String),
}

impl Filter {
    fn expression(&self) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
        match self {
            Filter::XGreater(v) => ("x > :f", vec![(":f", n(&v.to_string()))]),
            Filter::XAtMost(v) => ("x <= :f", vec![(":f", n(&v.to_string()))]),
            Filter::YEquals(v) => ("y = :f", vec![(":f", s(v))]),
            Filter::YBeginsWith(v) => ("begins_with(y, :f)", vec![(":f", s(v))]),
            Filter::YExists => ("attribute_exists(y)", vec![]),
            Filter::NoXOrYEquals(v) => ("attribute_not_exists(x) OR y = :f", vec![(":f", s(v))]),
        }
    }

    fn matches(&self, it: &ItemSpec) -> bool {
        match self {
            Filter::XGreater(v) => it.x.is_some_and(|x| x > *v),
            Filter::XAtMost(v) => it.x.is_some_and(|x| x <= *v),
            Filter::YEquals(v) => it.y.as_ref() == Some(v),
            Filter::YBeginsWith(v) => it.y.as_ref().is_some_and(|y| y.starts_with(v.as_str())),
            Filter::YExists => it.y.is_some(),
            Filter::NoXOrYEquals(v) => it.x.is_none() || it.y.as_ref() == Some(v),
        }
    }

    /// Whether the filter reads only attributes the projection keeps (a
    /// global index refuses others; a local one would read the table).
    fn fits(&self, proj: Proj) -> bool {
        match proj {
            Proj::All => true,
            Proj::IncludeX => matches!(self, Filter::XGreater(_) | Filter::XAtMost(_)),
            Proj::KeysOnly => false,
        }
    }
}

/// A sort-key condition drawn independently of the key's type: `op`
/// picks the operator, the strings serve S keys, the halves N keys.
#[derive(Debug, Clone)]
struct SortSeed {
    op: u8,
    a: (String, i64),
    b: (String, i64),
}

#[derive(Debug, Clone)]
enum SortCond {
    Eq(KeyVal),
    Lt(KeyVal),
    Le(KeyVal),
    Gt(KeyVal),
    Ge(KeyVal),
    Between(KeyVal, KeyVal),
    BeginsWith(String),
}

impl SortCond {
    fn from_seed(seed: &SortSeed, t: KeyType) -> SortCond {
        let a = KeyVal::of(t, &seed.a.0, seed.a.1);
        let b = KeyVal::of(t, &seed.b.0, seed.b.1);
        match seed.op % 7 {
            0 => SortCond::Eq(a),
            1 => SortCond::Lt(a),
            2 => SortCond::Le(a),
            3 => SortCond::Gt(a),
            4 => SortCond::Ge(a),
            5 => SortCond::Between(a.clone().min(b.clone()), a.max(b)),
            _ => match t {
                KeyType::S => SortCond::BeginsWith(seed.a.0[..1].to_string()),
                KeyType::N => SortCond::Ge(a),
            },
        }
    }

    fn expression(&self, attr: &str) -> (String, Vec<(&'static str, AttributeValue)>) {
        let one = |op: &str, v: &KeyVal| (format!("{attr} {op} :s"), vec![(":s", v.attr())]);
        match self {
            SortCond::Eq(v) => one("=", v),
            SortCond::Lt(v) => one("<", v),
            SortCond::Le(v) => one("<=", v),
            SortCond::Gt(v) => one(">", v),
            SortCond::Ge(v) => one(">=", v),
            SortCond::Between(a, b) => (
                format!("{attr} BETWEEN :s AND :t"),
                vec![(":s", a.attr()), (":t", b.attr())],
            ),
            SortCond::BeginsWith(p) => (format!("begins_with({attr}, :s)"), vec![(":s", s(p))]),
        }
    }

    fn matches(&self, v: &KeyVal) -> bool {
        match self {
            SortCond::Eq(a) => v == a,
            SortCond::Lt(a) => v < a,
            SortCond::Le(a) => v <= a,
            SortCond::Gt(a) => v > a,
            SortCond::Ge(a) => v >= a,
            SortCond::Between(a, b) => a <= v && v <= b,
            SortCond::BeginsWith(p) => matches!(v, KeyVal::S(s) if s.starts_with(p.as_str())),
        }
    }
}

#[derive(Debug, Clone)]
struct QuerySpec {
    on_index: bool,
    /// Picks the partition value (one past the values in use: empty).
    partition: usize,
    sort: Option<SortSeed>,
    filter: Option<Filter>,
    limit: Option<i64>,
    forward: bool,
    count: bool,
}

#[derive(Debug, Clone)]
struct ScanSpec {
    on_index: bool,
    filter: Option<Filter>,
    limit: Option<i64>,
    segments: Option<i64>,
}

const SORT_TEXT: &str = "[a-c]{1,3}";
const Y_VALUES: &[&str] = &["red", "green", "grey", "blue"];
const GPK_VALUES: &[&str] = &["g1", "g2", "g3"];

fn key_type() -> impl Strategy<Value = KeyType> {
    prop_oneof![Just(KeyType::S), Just(KeyType::N)]
}

fn proj() -> impl Strategy<Value = Proj> {
    prop_oneof![Just(Proj::All), Just(Proj::KeysOnly), Just(Proj::IncludeX)]
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    prop_oneof![
        // Hash-only, with or without a global index.
        prop::option::of((prop::option::of(key_type()), proj())).prop_map(|g| TableSpec {
            sort: None,
            index: g.map(|(sort, proj)| IndexSpec::Global { sort, proj }),
        }),
        // Hash and range, with no index, a local or a global one.
        (
            key_type(),
            prop_oneof![
                Just(None),
                (key_type(), proj()).prop_map(|(sort, proj)| Some(IndexSpec::Local { sort, proj })),
                (prop::option::of(key_type()), proj())
                    .prop_map(|(sort, proj)| Some(IndexSpec::Global { sort, proj })),
            ]
        )
            .prop_map(|(sort, index)| TableSpec {
                sort: Some(sort),
                index
            }),
    ]
}

fn key_val(t: KeyType) -> BoxedStrategy<KeyVal> {
    match t {
        KeyType::S => SORT_TEXT.prop_map(KeyVal::S).boxed(),
        KeyType::N => (-8i64..8).prop_map(KeyVal::N).boxed(),
    }
}

fn optional_key(t: Option<KeyType>) -> BoxedStrategy<Option<KeyVal>> {
    match t {
        Some(t) => prop::option::weighted(0.8, key_val(t)).boxed(),
        None => Just(None).boxed(),
    }
}

fn partitions(spec: &TableSpec) -> Vec<String> {
    let count = if spec.sort.is_some() { 3 } else { 8 };
    (0..count)
        .map(|i| ((b'a' + i) as char).to_string())
        .collect()
}

fn item_spec(spec: &TableSpec) -> impl Strategy<Value = ItemSpec> {
    let (lsk, gpk, gsk) = match &spec.index {
        Some(IndexSpec::Local { sort, .. }) => (Some(*sort), false, None),
        Some(IndexSpec::Global { sort, .. }) => (None, true, *sort),
        None => (None, false, None),
    };
    let sk = match spec.sort {
        Some(t) => key_val(t).prop_map(Some).boxed(),
        None => Just(None).boxed(),
    };
    let gpk = if gpk {
        prop::option::weighted(
            0.8,
            prop::sample::select(GPK_VALUES).prop_map(str::to_string),
        )
        .boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop::sample::select(partitions(spec)),
        sk,
        prop::option::of(0i64..10),
        prop::option::of(prop::sample::select(Y_VALUES).prop_map(str::to_string)),
        optional_key(lsk),
        gpk,
        optional_key(gsk),
    )
        .prop_map(|(pk, sk, x, y, lsk, gpk, gsk)| ItemSpec {
            pk,
            sk,
            x,
            y,
            lsk,
            gpk,
            gsk,
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (0i64..10).prop_map(Filter::XGreater),
        (0i64..10).prop_map(Filter::XAtMost),
        prop::sample::select(Y_VALUES).prop_map(|v| Filter::YEquals(v.to_string())),
        prop::sample::select(&["g", "gr", "b", "x"][..])
            .prop_map(|v| Filter::YBeginsWith(v.to_string())),
        Just(Filter::YExists),
        prop::sample::select(Y_VALUES).prop_map(|v| Filter::NoXOrYEquals(v.to_string())),
    ]
}

fn sort_seed() -> impl Strategy<Value = SortSeed> {
    (0u8..7, SORT_TEXT, -8i64..8, SORT_TEXT, -8i64..8).prop_map(|(op, a, ah, b, bh)| SortSeed {
        op,
        a: (a, ah),
        b: (b, bh),
    })
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        any::<bool>(),
        0usize..9,
        prop::option::weighted(0.7, sort_seed()),
        prop::option::of(filter()),
        prop::option::weighted(0.7, 1i64..6),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(on_index, partition, sort, filter, limit, forward, count)| QuerySpec {
                on_index,
                partition,
                sort,
                filter,
                limit,
                forward,
                count,
            },
        )
}

fn scan_spec() -> impl Strategy<Value = ScanSpec> {
    (
        any::<bool>(),
        prop::option::of(filter()),
        prop::option::weighted(0.7, 1i64..6),
        prop::option::of(1i64..5),
    )
        .prop_map(|(on_index, filter, limit, segments)| ScanSpec {
            on_index,
            filter,
            limit,
            segments,
        })
}

fn write(spec: &TableSpec) -> impl Strategy<Value = Write> {
    prop_oneof![
        5 => item_spec(spec).prop_map(Write::Put),
        1 => any::<usize>().prop_map(Write::Delete),
    ]
}

type Case = (TableSpec, Vec<Write>, Vec<QuerySpec>, Vec<ScanSpec>);

fn case() -> impl Strategy<Value = Case> {
    table_spec().prop_flat_map(|spec| {
        (
            Just(spec.clone()),
            prop::collection::vec(write(&spec), 0..45),
            prop::collection::vec(query_spec(), 1..6),
            prop::collection::vec(scan_spec(), 1..3),
        )
    })
}

fn type_name(t: KeyType) -> &'static str {
    match t {
        KeyType::S => "S",
        KeyType::N => "N",
    }
}

async fn create(db: &Database, spec: &TableSpec) {
    let mut input = table_input(TABLE, spec.sort.map(type_name));
    let defs = input.attribute_definitions.as_mut().expect("definitions");
    let projection_of = |p: Proj| match p {
        Proj::All => projection("ALL", &[]),
        Proj::KeysOnly => projection("KEYS_ONLY", &[]),
        Proj::IncludeX => projection("INCLUDE", &["x"]),
    };
    match &spec.index {
        Some(IndexSpec::Local { sort, proj }) => {
            defs.push(attribute("lsk", type_name(*sort)));
            input.local_secondary_indexes =
                Some(vec![local_index(INDEX, "lsk", projection_of(*proj))]);
        }
        Some(IndexSpec::Global { sort, proj }) => {
            defs.push(attribute("gpk", "S"));
            if let Some(t) = sort {
                defs.push(attribute("gsk", type_name(*t)));
            }
            input.global_secondary_indexes = Some(vec![global_index(
                INDEX,
                "gpk",
                sort.map(|_| "gsk"),
                projection_of(*proj),
            )]);
        }
        None => {}
    }
    db.create_table(input).await.expect("create table");
}

/// What a read targets, as the model sees it.
struct Target {
    /// Names of the key attributes of a LastEvaluatedKey.
    key_names: Vec<&'static str>,
    partition_attr: &'static str,
    sort_attr: Option<&'static str>,
    sort_type: Option<KeyType>,
    proj: Proj,
    index: bool,
}

fn target(spec: &TableSpec, on_index: bool) -> Target {
    let mut key_names = vec!["pk"];
    if spec.sort.is_some() {
        key_names.push("sk");
    }
    match (&spec.index, on_index) {
        (Some(IndexSpec::Local { sort, proj }), true) => {
            key_names.push("lsk");
            Target {
                key_names,
                partition_attr: "pk",
                sort_attr: Some("lsk"),
                sort_type: Some(*sort),
                proj: *proj,
                index: true,
            }
        }
        (Some(IndexSpec::Global { sort, proj }), true) => {
            key_names.push("gpk");
            if sort.is_some() {
                key_names.push("gsk");
            }
            Target {
                key_names,
                partition_attr: "gpk",
                sort_attr: sort.map(|_| "gsk"),
                sort_type: *sort,
                proj: *proj,
                index: true,
            }
        }
        _ => Target {
            key_names,
            partition_attr: "pk",
            sort_attr: spec.sort.map(|_| "sk"),
            sort_type: spec.sort,
            proj: Proj::All,
            index: false,
        },
    }
}

impl Target {
    /// The item's entry in what is read, or `None` when it is not there
    /// (sparse index).
    fn entry(&self, it: &ItemSpec) -> Option<Item> {
        let full = it.to_item();
        if !self.key_names.iter().all(|k| full.contains_key(*k)) {
            return None;
        }
        Some(match self.proj {
            Proj::All => full,
            Proj::KeysOnly => key_of(&full, &self.key_names),
            Proj::IncludeX => {
                let mut names = self.key_names.clone();
                names.push("x");
                key_of(&full, &names)
            }
        })
    }

    fn sort_value(&self, it: &Item) -> Option<KeyVal> {
        self.sort_attr.map(|a| KeyVal::from_attr(&it[a]))
    }

    fn partition_value(&self, it: &Item) -> AttributeValue {
        it[self.partition_attr].clone()
    }
}

/// Items by table key: equal maps mean the same items, none twice.
fn by_key(items: &[Item]) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    for it in items {
        let key = format!("{:?}", key_of(it, &["pk", "sk"]));
        assert!(
            out.insert(key.clone(), it.clone()).is_none(),
            "{key} returned twice"
        );
    }
    out
}

/// Checks the pages of one read: counts per page, Limit, and the
/// LastEvaluatedKey rule, and returns the totals (Count, ScannedCount).
fn check_pages(
    pages: &[QueryOutput],
    limit: Option<i64>,
    count_only: bool,
    t: &Target,
    query: bool,
) -> (i64, i64) {
    // A Query of a hash-only table reads one partition of one item: it
    // never leaves a LastEvaluatedKey.
    let single_item_partition = query && !t.index && t.sort_attr.is_none();
    for (i, p) in pages.iter().enumerate() {
        match &p.items {
            Some(items) => assert_eq!(items.len() as i64, p.count, "page {i}: Count"),
            None => assert!(count_only, "page {i}: no Items"),
        }
        assert!(
            p.count <= p.scanned_count,
            "page {i}: Count above ScannedCount"
        );
        match limit {
            Some(l) => {
                assert!(p.scanned_count <= l, "page {i}: read past Limit");
                assert_eq!(
                    p.last_evaluated_key.is_some(),
                    p.scanned_count == l && !single_item_partition,
                    "page {i}: LastEvaluatedKey"
                );
            }
            None => assert_eq!(
                p.last_evaluated_key, None,
                "page {i}: tiny items fit in one page"
            ),
        }
        if let Some(k) = &p.last_evaluated_key {
            let names: BTreeSet<&str> = k.keys().map(String::as_str).collect();
            assert_eq!(
                names,
                t.key_names.iter().copied().collect(),
                "LastEvaluatedKey attributes"
            );
        }
    }
    (
        pages.iter().map(|p| p.count).sum(),
        pages.iter().map(|p| p.scanned_count).sum(),
    )
}

fn filter_for(t: &Target, f: &Option<Filter>) -> Option<Filter> {
    f.clone().filter(|f| f.fits(t.proj))
}

async fn check_query(
    db: &Database,
    spec: &TableSpec,
    model: &BTreeMap<(String, Option<KeyVal>), ItemSpec>,
    q: &QuerySpec,
) {
    let on_index = q.on_index && spec.index.is_some();
    let t = target(spec, on_index);
    let filter = filter_for(&t, &q.filter);
    let values_in_use: Vec<String> = if t.partition_attr == "gpk" {
        GPK_VALUES.iter().map(|v| v.to_string()).collect()
    } else {
        partitions(spec)
    };
    let partition = values_in_use
        .get(q.partition % (values_in_use.len() + 1))
        .cloned()
        .unwrap_or_else(|| "zz".into());
    let sort = match (t.sort_type, &q.sort) {
        (Some(ty), Some(seed)) => Some(SortCond::from_seed(seed, ty)),
        _ => None,
    };

    // The model: entries of the partition in the key range, in order.
    let mut in_range: Vec<(Option<KeyVal>, &ItemSpec, Item)> = model
        .values()
        .filter_map(|it| t.entry(it).map(|e| (it, e)))
        .filter(|(_, e)| t.partition_value(e) == s(&partition))
        .map(|(it, e)| (t.sort_value(&e), it, e))
        .filter(|(v, _, _)| match (&sort, v) {
            (Some(c), Some(v)) => c.matches(v),
            _ => true,
        })
        .collect();
    in_range.sort_by(|a, b| a.0.cmp(&b.0));
    if !q.forward {
        in_range.reverse();
    }
    let expected: Vec<&(Option<KeyVal>, &ItemSpec, Item)> = in_range
        .iter()
        .filter(|(_, it, _)| filter.as_ref().is_none_or(|f| f.matches(it)))
        .collect();

    // The request.
    let mut kce = format!("{} = :p", t.partition_attr);
    let mut vals = vec![(":p", s(&partition))];
    if let (Some(c), Some(attr)) = (&sort, t.sort_attr) {
        let (text, v) = c.expression(attr);
        kce = format!("{kce} AND {text}");
        vals.extend(v);
    }
    let mut input = QueryInput {
        table_name: Some(TABLE.into()),
        index_name: on_index.then(|| INDEX.to_string()),
        key_condition_expression: Some(kce),
        limit: q.limit,
        scan_index_forward: Some(q.forward),
        select: q.count.then(|| "COUNT".to_string()),
        ..Default::default()
    };
    if let Some(f) = &filter {
        let (text, v) = f.expression();
        input.filter_expression = Some(text.into());
        vals.extend(v);
    }
    input.expression_attribute_values = Some(values(&vals));
    let pages = query_pages(db, input.clone()).await;
    let context = format!("{input:?}");

    let (count, scanned) = check_pages(&pages, q.limit, q.count, &t, true);
    assert_eq!(count, expected.len() as i64, "Count of {context}");
    assert_eq!(scanned, in_range.len() as i64, "ScannedCount of {context}");
    if let Some(l) = q.limit {
        assert!(
            pages.len() as i64 <= in_range.len() as i64 / l + 1,
            "too many pages for {context}"
        );
    }
    if q.count {
        return;
    }
    let items = items_of(&pages);
    // Sort-key order exactly; ties (index keys only) in any order, but
    // each item once and as projected.
    let order: Vec<Option<KeyVal>> = items.iter().map(|i| t.sort_value(i)).collect();
    let want_order: Vec<Option<KeyVal>> = expected.iter().map(|e| e.0.clone()).collect();
    assert_eq!(order, want_order, "order of {context}");
    let want: Vec<Item> = expected.iter().map(|e| e.2.clone()).collect();
    if t.index {
        assert_eq!(by_key(&items), by_key(&want), "items of {context}");
    } else {
        assert_eq!(items, want, "items of {context}");
    }
}

async fn check_scan(
    db: &Database,
    spec: &TableSpec,
    model: &BTreeMap<(String, Option<KeyVal>), ItemSpec>,
    sc: &ScanSpec,
) {
    let on_index = sc.on_index && spec.index.is_some();
    let t = target(spec, on_index);
    let filter = filter_for(&t, &sc.filter);
    let members: Vec<(&ItemSpec, Item)> = model
        .values()
        .filter_map(|it| t.entry(it).map(|e| (it, e)))
        .collect();
    let expected: Vec<Item> = members
        .iter()
        .filter(|(it, _)| filter.as_ref().is_none_or(|f| f.matches(it)))
        .map(|(_, e)| e.clone())
        .collect();

    let mut input = ScanInput {
        table_name: Some(TABLE.into()),
        index_name: on_index.then(|| INDEX.to_string()),
        limit: sc.limit,
        ..Default::default()
    };
    if let Some(f) = &filter {
        let (text, v) = f.expression();
        input.filter_expression = Some(text.into());
        if !v.is_empty() {
            input.expression_attribute_values = Some(values(&v));
        }
    }
    let segments: Vec<ScanInput> = match sc.segments {
        None => vec![input.clone()],
        Some(total) => (0..total)
            .map(|segment| ScanInput {
                segment: Some(segment),
                total_segments: Some(total),
                ..input.clone()
            })
            .collect(),
    };
    let mut items = Vec::new();
    let (mut count, mut scanned) = (0, 0);
    for segment in segments {
        let pages = scan_pages(db, segment).await;
        let (c, s) = check_pages(&pages, sc.limit, false, &t, false);
        count += c;
        scanned += s;
        items.extend(items_of(&pages));
    }
    let context = format!("{input:?} in {:?} segments", sc.segments);
    assert_eq!(by_key(&items), by_key(&expected), "items of {context}");
    assert_eq!(count, expected.len() as i64, "Count of {context}");
    assert_eq!(scanned, members.len() as i64, "ScannedCount of {context}");
}

async fn run_case(db: &Database, (spec, writes, queries, scans): &Case) {
    create(db, spec).await;
    let mut model: BTreeMap<(String, Option<KeyVal>), ItemSpec> = BTreeMap::new();
    let mut put_keys: Vec<(String, Option<KeyVal>)> = Vec::new();
    for w in writes {
        match w {
            Write::Put(it) => {
                put(db, TABLE, it.to_item()).await;
                model.insert(it.key(), it.clone());
                put_keys.push(it.key());
            }
            Write::Delete(i) if !put_keys.is_empty() => {
                let key = put_keys[i % put_keys.len()].clone();
                let mut k = item(&[("pk", s(&key.0))]);
                if let Some(sk) = &key.1 {
                    k.insert("sk".into(), sk.attr());
                }
                db.delete_item(openddb_core::api::DeleteItemInput {
                    table_name: Some(TABLE.into()),
                    key: Some(k),
                    ..Default::default()
                })
                .await
                .expect("delete item");
                model.remove(&key);
            }
            Write::Delete(_) => {}
        }
    }
    for q in queries {
        check_query(db, spec, &model, q).await;
    }
    for sc in scans {
        check_scan(db, spec, &model, sc).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn query_and_scan_match_a_naive_model(case in case()) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let db = Database::open(StorageConfig::Directory(dir.path().to_path_buf())).expect("open database");
            run_case(&db, &case).await;
        });
    }
}
