//! Property test: a PartiQL SELECT returns the same items as the equivalent
//! Query (partition key pinned by `=`, sort condition a key condition) or
//! Scan with a FilterExpression built from the same condition. Random
//! composite tables (S or N sort key, two optional non-key attributes),
//! random WHERE clauses from a small grammar (partition key `=`/`IN`/OR
//! branches, sort-key comparisons, attribute predicates under AND/OR/NOT),
//! literal or `?` values, random Limit followed through NextToken; a plain
//! Rust model checks both answers too.

mod common;

use std::collections::BTreeMap;

use common::*;
use openddb_core::api::{ExecuteStatementInput, QueryInput, ScanInput};
use openddb_core::{AttributeValue, Item};
use openddb_engine::{Database, StorageConfig};
use proptest::prelude::*;

const TABLE: &str = "prop";
const PKS: &[&str] = &["a", "b", "c", "d"];
const Y_VALUES: &[&str] = &["red", "green", "grey", "blue"];
const SORT_TEXT: &str = "[a-c]{1,3}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortType {
    S,
    N,
}

/// A sort-key value, ordered as DynamoDB orders keys of one type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sv {
    S(String),
    N(i64),
}

impl Sv {
    fn attr(&self) -> AttributeValue {
        match self {
            Sv::S(v) => s(v),
            Sv::N(v) => n(&v.to_string()),
        }
    }

    fn from_attr(v: &AttributeValue) -> Sv {
        match v {
            AttributeValue::S(v) => Sv::S(v.clone()),
            AttributeValue::N(v) => Sv::N(v.to_string().parse().expect("integer sort key")),
            other => panic!("not a sort key: {other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Row {
    pk: String,
    sk: Sv,
    x: Option<i64>,
    y: Option<String>,
}

impl Row {
    fn to_item(&self) -> Item {
        let mut it = item(&[("pk", s(&self.pk)), ("sk", self.sk.attr())]);
        if let Some(x) = self.x {
            it.insert("x".into(), n(&x.to_string()));
        }
        if let Some(y) = &self.y {
            it.insert("y".into(), s(y));
        }
        it
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    /// The comparison on a present value; `<>` also holds on a missing one.
    fn holds<T: Ord>(self, a: Option<&T>, b: &T) -> bool {
        match (self, a) {
            (Op::Ne, None) => true,
            (_, None) => false,
            (Op::Eq, Some(a)) => a == b,
            (Op::Ne, Some(a)) => a != b,
            (Op::Lt, Some(a)) => a < b,
            (Op::Le, Some(a)) => a <= b,
            (Op::Gt, Some(a)) => a > b,
            (Op::Ge, Some(a)) => a >= b,
        }
    }
}

/// A sort-key condition a KeyConditionExpression can hold.
#[derive(Debug, Clone)]
enum SortCond {
    Cmp(Op, Sv),
    Between(Sv, Sv),
    BeginsWith(String),
}

/// A sort-key condition of a keyed read.
#[derive(Debug, Clone)]
enum KeySort {
    Cond(SortCond),
    Ne(Sv),
    In(Vec<Sv>),
}

#[derive(Debug, Clone)]
enum Atom {
    X(Op, i64),
    XBetween(i64, i64),
    XIn(Vec<i64>),
    Y(Op, String),
    YBeginsWith(String),
    YContains(String),
    YSizeAbove(i64),
    Exists(&'static str),
    NotExists(&'static str),
    Missing(&'static str),
    NotMissing(&'static str),
    XIsNumber,
    /// Only in scans.
    Sk(KeySort),
}

#[derive(Debug, Clone)]
enum Filter {
    Atom(Atom),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone)]
enum Where {
    /// No WHERE clause.
    All,
    /// `pk = v` or `pk IN [..]`, a sort-key condition, a non-key filter.
    Keyed {
        pks: Vec<&'static str>,
        use_in: bool,
        sort: Option<KeySort>,
        filter: Option<Filter>,
        /// ORDER BY sk DESC (true) or ASC (false); with one partition only.
        order: Option<bool>,
    },
    /// `(pk = a AND f) OR (pk = b AND g) ...` over distinct partitions.
    Branches(Vec<(&'static str, Option<Filter>)>),
    /// `pk = v OR f`: a branch without the key makes it a scan.
    PkOr(&'static str, Filter),
    /// A filter that may name the sort key, optionally `pk <> v AND` it.
    Scan(Option<&'static str>, Filter),
}

#[derive(Debug, Clone)]
struct Select {
    condition: Where,
    params: bool,
    limit: Option<i64>,
    consistent: bool,
}

type Case = (SortType, bool, Vec<Row>, Vec<Select>);

// ---------------------------------------------------------------------
// The model.

impl SortCond {
    fn matches(&self, v: &Sv) -> bool {
        match self {
            SortCond::Cmp(op, b) => op.holds(Some(v), b),
            SortCond::Between(a, b) => a <= v && v <= b,
            SortCond::BeginsWith(p) => matches!(v, Sv::S(s) if s.starts_with(p.as_str())),
        }
    }
}

impl KeySort {
    fn matches(&self, v: &Sv) -> bool {
        match self {
            KeySort::Cond(c) => c.matches(v),
            KeySort::Ne(b) => v != b,
            KeySort::In(list) => list.contains(v),
        }
    }
}

impl Atom {
    fn matches(&self, r: &Row) -> bool {
        let present = |a: &str| match a {
            "x" => r.x.is_some(),
            _ => r.y.is_some(),
        };
        match self {
            Atom::X(op, v) => op.holds(r.x.as_ref(), v),
            Atom::XBetween(a, b) => r.x.is_some_and(|x| *a <= x && x <= *b),
            Atom::XIn(list) => r.x.is_some_and(|x| list.contains(&x)),
            Atom::Y(op, v) => op.holds(r.y.as_ref(), v),
            Atom::YBeginsWith(p) => r.y.as_ref().is_some_and(|y| y.starts_with(p.as_str())),
            Atom::YContains(p) => r.y.as_ref().is_some_and(|y| y.contains(p.as_str())),
            Atom::YSizeAbove(k) => r.y.as_ref().is_some_and(|y| y.len() as i64 > *k),
            Atom::Exists(a) | Atom::NotMissing(a) => present(a),
            Atom::NotExists(a) | Atom::Missing(a) => !present(a),
            Atom::XIsNumber => r.x.is_some(),
            Atom::Sk(k) => k.matches(&r.sk),
        }
    }
}

impl Filter {
    fn matches(&self, r: &Row) -> bool {
        match self {
            Filter::Atom(a) => a.matches(r),
            Filter::And(a, b) => a.matches(r) && b.matches(r),
            Filter::Or(a, b) => a.matches(r) || b.matches(r),
            Filter::Not(a) => !a.matches(r),
        }
    }
}

impl Where {
    fn matches(&self, r: &Row) -> bool {
        let filtered = |f: &Option<Filter>| f.as_ref().is_none_or(|f| f.matches(r));
        match self {
            Where::All => true,
            Where::Keyed {
                pks, sort, filter, ..
            } => {
                pks.iter().any(|p| *p == r.pk)
                    && sort.as_ref().is_none_or(|k| k.matches(&r.sk))
                    && filtered(filter)
            }
            Where::Branches(branches) => branches.iter().any(|(pk, f)| r.pk == *pk && filtered(f)),
            Where::PkOr(pk, f) => r.pk == *pk || f.matches(r),
            Where::Scan(ne, f) => ne.is_none_or(|v| r.pk != v) && f.matches(r),
        }
    }

    /// The partition a keyed read pins, with the order it returns.
    fn single_partition(&self) -> Option<bool> {
        match self {
            Where::Keyed { pks, order, .. } if pks.len() == 1 => Some(order.unwrap_or(false)),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------
// Rendering as PartiQL and as condition expressions.

/// Builds one request's text, collecting `?` parameters (PartiQL) or
/// ExpressionAttributeValues (expressions).
struct Render {
    partiql: bool,
    params: bool,
    parameters: Vec<AttributeValue>,
    values: Vec<(String, AttributeValue)>,
}

impl Render {
    fn partiql(params: bool) -> Render {
        Render {
            partiql: true,
            params,
            parameters: Vec::new(),
            values: Vec::new(),
        }
    }

    fn expression() -> Render {
        Render {
            partiql: false,
            params: false,
            parameters: Vec::new(),
            values: Vec::new(),
        }
    }

    fn value(&mut self, v: AttributeValue) -> String {
        if !self.partiql {
            let name = format!(":v{}", self.values.len());
            self.values.push((name.clone(), v));
            return name;
        }
        if self.params {
            self.parameters.push(v);
            return "?".into();
        }
        match v {
            AttributeValue::S(t) => format!("'{t}'"),
            AttributeValue::N(t) => t.to_string(),
            other => panic!("no literal for {other:?}"),
        }
    }

    fn list(&mut self, vs: Vec<AttributeValue>) -> String {
        let items: Vec<String> = vs.into_iter().map(|v| self.value(v)).collect();
        if self.partiql {
            format!("[{}]", items.join(", "))
        } else {
            format!("({})", items.join(", "))
        }
    }

    fn sort_cond(&mut self, c: &SortCond) -> String {
        match c {
            SortCond::Cmp(op, v) => format!("sk {} {}", op.text(), self.value(v.attr())),
            SortCond::Between(a, b) => {
                let a = self.value(a.attr());
                let b = self.value(b.attr());
                format!("sk BETWEEN {a} AND {b}")
            }
            SortCond::BeginsWith(p) => format!("begins_with(sk, {})", self.value(s(p))),
        }
    }

    fn key_sort(&mut self, k: &KeySort) -> String {
        match k {
            KeySort::Cond(c) => self.sort_cond(c),
            KeySort::Ne(v) => format!("sk <> {}", self.value(v.attr())),
            KeySort::In(list) => {
                let list = self.list(list.iter().map(Sv::attr).collect());
                format!("sk IN {list}")
            }
        }
    }

    fn atom(&mut self, a: &Atom) -> String {
        let num = |v: i64| n(&v.to_string());
        match a {
            Atom::X(op, v) => format!("x {} {}", op.text(), self.value(num(*v))),
            Atom::XBetween(a, b) => {
                let a = self.value(num(*a));
                let b = self.value(num(*b));
                format!("x BETWEEN {a} AND {b}")
            }
            Atom::XIn(list) => {
                format!("x IN {}", self.list(list.iter().map(|v| num(*v)).collect()))
            }
            Atom::Y(op, v) => format!("y {} {}", op.text(), self.value(s(v))),
            Atom::YBeginsWith(p) => format!("begins_with(y, {})", self.value(s(p))),
            Atom::YContains(p) => format!("contains(y, {})", self.value(s(p))),
            Atom::YSizeAbove(k) => format!("size(y) > {}", self.value(num(*k))),
            Atom::Exists(a) => format!("attribute_exists({a})"),
            Atom::NotExists(a) => format!("attribute_not_exists({a})"),
            Atom::Missing(a) if self.partiql => format!("{a} IS MISSING"),
            Atom::Missing(a) => format!("attribute_not_exists({a})"),
            Atom::NotMissing(a) if self.partiql => format!("{a} IS NOT MISSING"),
            Atom::NotMissing(a) => format!("attribute_exists({a})"),
            // A literal type name: the function wants a string literal.
            Atom::XIsNumber if self.partiql => "attribute_type(x, 'N')".into(),
            Atom::XIsNumber => format!("attribute_type(x, {})", self.value(s("N"))),
            Atom::Sk(k) => self.key_sort(k),
        }
    }

    fn filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::Atom(a) => self.atom(a),
            Filter::And(a, b) => {
                let a = self.filter(a);
                let b = self.filter(b);
                format!("({a} AND {b})")
            }
            Filter::Or(a, b) => {
                let a = self.filter(a);
                let b = self.filter(b);
                format!("({a} OR {b})")
            }
            // And and Or bring their own parentheses; DynamoDB refuses
            // doubled ones in an expression.
            Filter::Not(a) if matches!(**a, Filter::And(..) | Filter::Or(..)) => {
                format!("NOT {}", self.filter(a))
            }
            Filter::Not(a) => format!("NOT ({})", self.filter(a)),
        }
    }

    fn pk_eq(&mut self, pk: &str) -> String {
        format!("pk = {}", self.value(s(pk)))
    }

    /// The whole condition (PartiQL WHERE, or a Scan's FilterExpression);
    /// None for no condition.
    fn condition(&mut self, w: &Where) -> Option<String> {
        Some(match w {
            Where::All => return None,
            Where::Keyed {
                pks,
                use_in,
                sort,
                filter,
                ..
            } => {
                let mut parts = vec![if *use_in || pks.len() > 1 {
                    let list = self.list(pks.iter().map(|p| s(p)).collect());
                    format!("pk IN {list}")
                } else {
                    self.pk_eq(pks[0])
                }];
                if let Some(k) = sort {
                    parts.push(self.key_sort(k));
                }
                if let Some(f) = filter {
                    parts.push(self.filter(f));
                }
                parts.join(" AND ")
            }
            Where::Branches(branches) => {
                let mut out = Vec::new();
                for (pk, f) in branches {
                    let key = self.pk_eq(pk);
                    out.push(match f {
                        Some(f) => format!("({key} AND {})", self.filter(f)),
                        None => format!("({key})"),
                    });
                }
                out.join(" OR ")
            }
            Where::PkOr(pk, f) => {
                let key = self.pk_eq(pk);
                format!("{key} OR {}", self.filter(f))
            }
            Where::Scan(ne, f) => {
                let guard = ne.map(|v| format!("pk <> {} AND ", self.value(s(v))));
                format!("{}{}", guard.unwrap_or_default(), self.filter(f))
            }
        })
    }

    fn values(&self) -> Option<openddb_core::api::AttributeValues> {
        (!self.values.is_empty()).then(|| {
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }
}

// ---------------------------------------------------------------------
// Strategies.

fn sort_type() -> impl Strategy<Value = SortType> {
    prop_oneof![Just(SortType::S), Just(SortType::N)]
}

fn sv(t: SortType) -> BoxedStrategy<Sv> {
    match t {
        SortType::S => SORT_TEXT.prop_map(Sv::S).boxed(),
        SortType::N => (-8i64..8).prop_map(Sv::N).boxed(),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::Ne),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge)
    ]
}

fn key_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Eq),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge)
    ]
}

fn sort_cond(t: SortType) -> BoxedStrategy<SortCond> {
    let cmp = (key_op(), sv(t)).prop_map(|(o, v)| SortCond::Cmp(o, v));
    let between =
        (sv(t), sv(t)).prop_map(|(a, b)| SortCond::Between(a.clone().min(b.clone()), a.max(b)));
    match t {
        SortType::S => prop_oneof![
            3 => cmp,
            1 => between,
            1 => "[a-c]{1,2}".prop_map(SortCond::BeginsWith),
        ]
        .boxed(),
        SortType::N => prop_oneof![3 => cmp, 1 => between].boxed(),
    }
}

fn key_sort(t: SortType) -> BoxedStrategy<KeySort> {
    prop_oneof![
        4 => sort_cond(t).prop_map(KeySort::Cond),
        1 => sv(t).prop_map(KeySort::Ne),
        1 => prop::collection::btree_set(sv(t), 1..4)
            .prop_map(|set| KeySort::In(set.into_iter().collect())),
    ]
    .boxed()
}

fn attr_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["x", "y"][..])
}

fn y_value() -> impl Strategy<Value = String> {
    prop::sample::select(Y_VALUES).prop_map(str::to_string)
}

/// A predicate on `x` and `y` only.
fn non_key_atom() -> BoxedStrategy<Atom> {
    prop_oneof![
        (op(), 0i64..10).prop_map(|(o, v)| Atom::X(o, v)),
        (0i64..10, 0i64..10).prop_map(|(a, b)| Atom::XBetween(a.min(b), a.max(b))),
        prop::collection::btree_set(0i64..10, 1..4)
            .prop_map(|s| Atom::XIn(s.into_iter().collect())),
        (
            prop_oneof![Just(Op::Eq), Just(Op::Ne), Just(Op::Lt), Just(Op::Ge)],
            y_value()
        )
            .prop_map(|(o, v)| Atom::Y(o, v)),
        prop::sample::select(&["g", "gr", "b", "r"][..]).prop_map(|p| Atom::YBeginsWith(p.into())),
        prop::sample::select(&["e", "re", "lu", "z"][..]).prop_map(|p| Atom::YContains(p.into())),
        (2i64..6).prop_map(Atom::YSizeAbove),
        attr_name().prop_map(Atom::Exists),
        attr_name().prop_map(Atom::NotExists),
        attr_name().prop_map(Atom::Missing),
        attr_name().prop_map(Atom::NotMissing),
        Just(Atom::XIsNumber),
    ]
    .boxed()
}

fn filter(atom: BoxedStrategy<Atom>) -> BoxedStrategy<Filter> {
    atom.prop_map(Filter::Atom)
        .prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Filter::Not(Box::new(a))),
            ]
        })
        .boxed()
}

fn where_clause(t: SortType) -> BoxedStrategy<Where> {
    let non_key = || filter(non_key_atom());
    let scan_atom = prop_oneof![3 => non_key_atom(), 1 => key_sort(t).prop_map(Atom::Sk)].boxed();
    prop_oneof![
        1 => Just(Where::All),
        6 => (
            prop::sample::subsequence(PKS, 1..=3),
            any::<bool>(),
            prop::option::weighted(0.6, key_sort(t)),
            prop::option::weighted(0.6, non_key()),
            prop::option::weighted(0.4, any::<bool>()),
        )
            .prop_map(|(pks, use_in, sort, filter, order)| {
                let order = order.filter(|_| pks.len() == 1);
                Where::Keyed { pks, use_in, sort, filter, order }
            }),
        2 => prop::sample::subsequence(PKS, 2..=3)
            .prop_flat_map(move |pks| {
                let n = pks.len();
                (Just(pks), prop::collection::vec(prop::option::weighted(0.7, non_key()), n))
            })
            .prop_map(|(pks, filters)| Where::Branches(pks.into_iter().zip(filters).collect())),
        1 => (prop::sample::select(PKS), non_key()).prop_map(|(pk, f)| Where::PkOr(pk, f)),
        3 => (prop::option::weighted(0.3, prop::sample::select(PKS)), filter(scan_atom))
            .prop_map(|(ne, f)| Where::Scan(ne, f)),
    ]
    .boxed()
}

fn select(t: SortType) -> impl Strategy<Value = Select> {
    (
        where_clause(t),
        any::<bool>(),
        prop::option::weighted(0.6, 1i64..6),
        any::<bool>(),
    )
        .prop_map(|(condition, params, limit, consistent)| Select {
            condition,
            params,
            limit,
            consistent,
        })
}

fn row(t: SortType) -> impl Strategy<Value = Row> {
    (
        prop::sample::select(&PKS[..3]),
        sv(t),
        prop::option::weighted(0.8, 0i64..10),
        prop::option::weighted(0.8, y_value()),
    )
        .prop_map(|(pk, sk, x, y)| Row {
            pk: pk.to_string(),
            sk,
            x,
            y,
        })
}

fn case() -> impl Strategy<Value = Case> {
    sort_type().prop_flat_map(|t| {
        (
            Just(t),
            any::<bool>(),
            prop::collection::vec(row(t), 0..30),
            prop::collection::vec(select(t), 1..6),
        )
    })
}

// ---------------------------------------------------------------------
// Running a case.

fn sort_of(it: &Item) -> Sv {
    Sv::from_attr(it.get("sk").expect("sk"))
}

/// Items sorted by key, for reads whose order is not defined.
fn by_key(items: &[Item]) -> Vec<Item> {
    let mut v = items.to_vec();
    v.sort_by_key(|a| (s_of(a), sort_of(a)));
    v
}

fn s_of(it: &Item) -> String {
    match it.get("pk") {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("pk is {other:?}"),
    }
}

async fn partiql_items(db: &Database, sel: &Select) -> (String, Vec<Item>) {
    let mut r = Render::partiql(sel.params);
    let mut text = format!("SELECT * FROM \"{TABLE}\"");
    if let Some(c) = r.condition(&sel.condition) {
        text = format!("{text} WHERE {c}");
    }
    if let Where::Keyed {
        order: Some(desc), ..
    } = &sel.condition
    {
        text = format!("{text} ORDER BY sk {}", if *desc { "DESC" } else { "ASC" });
    }
    let mut input = ExecuteStatementInput {
        statement: Some(text.clone()),
        parameters: (!r.parameters.is_empty()).then_some(r.parameters),
        limit: sel.limit,
        consistent_read: Some(sel.consistent),
        ..Default::default()
    };
    let mut items = Vec::new();
    for _ in 0..1000 {
        let page = db
            .execute_statement(input.clone())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{text} ({:?}): {:?} {}",
                    input.parameters, e.kind, e.message
                )
            });
        let page_items = page.items.expect("Items");
        if let Some(l) = sel.limit {
            assert!(page_items.len() as i64 <= l, "page above Limit: {text}");
        }
        items.extend(page_items);
        match page.next_token {
            Some(t) => input.next_token = Some(t),
            None => return (text, items),
        }
    }
    panic!("{text} does not end");
}

/// The equivalent Query (one partition, a key-condition sort condition)
/// or Scan; the flag says whether the order is defined.
async fn equivalent_items(db: &Database, w: &Where) -> (String, Vec<Item>, bool) {
    if let Where::Keyed {
        pks,
        sort,
        filter,
        order,
        ..
    } = w
    {
        let sort = match sort {
            None => Some(None),
            Some(KeySort::Cond(c)) => Some(Some(c)),
            Some(_) => None,
        };
        if let (1, Some(sort)) = (pks.len(), sort) {
            let mut r = Render::expression();
            let mut kce = r.pk_eq(pks[0]);
            if let Some(c) = sort {
                kce = format!("{kce} AND {}", r.sort_cond(c));
            }
            let fe = filter.as_ref().map(|f| r.filter(f));
            let input = QueryInput {
                table_name: Some(TABLE.into()),
                key_condition_expression: Some(kce),
                filter_expression: fe,
                expression_attribute_values: r.values(),
                scan_index_forward: Some(!order.unwrap_or(false)),
                ..Default::default()
            };
            let context = format!("{input:?}");
            return (context, items_of(&query_pages(db, input).await), true);
        }
    }
    let mut r = Render::expression();
    let fe = r.condition(w);
    let input = ScanInput {
        table_name: Some(TABLE.into()),
        filter_expression: fe,
        expression_attribute_values: r.values(),
        ..Default::default()
    };
    let context = format!("{input:?}");
    let pages = scan_pages(db, input).await;
    let items = pages
        .iter()
        .flat_map(|p| p.items.clone().expect("Items"))
        .collect();
    (context, items, false)
}

async fn run_case(db: &Database, (t, _, rows, selects): &Case) {
    let input = table_input(
        TABLE,
        Some(match t {
            SortType::S => "S",
            SortType::N => "N",
        }),
    );
    db.create_table(input).await.expect("create table");
    let mut model: BTreeMap<(String, Sv), Row> = BTreeMap::new();
    for r in rows {
        put(db, TABLE, r.to_item()).await;
        model.insert((r.pk.clone(), r.sk.clone()), r.clone());
    }

    for sel in selects {
        let (text, got) = partiql_items(db, sel).await;
        let (context, want, ordered) = equivalent_items(db, &sel.condition).await;

        // The model: matching rows in key order.
        let mut expected: Vec<Item> = model
            .values()
            .filter(|r| sel.condition.matches(r))
            .map(Row::to_item)
            .collect();

        match sel.condition.single_partition() {
            // One partition: sort-key order, as asked.
            Some(desc) => {
                if desc {
                    expected.reverse();
                }
                assert_eq!(got, expected, "{text} against the model");
                if ordered {
                    assert_eq!(got, want, "{text} against {context}");
                } else {
                    assert_eq!(by_key(&got), by_key(&want), "{text} against {context}");
                }
            }
            None => {
                assert_eq!(by_key(&got), expected, "{text} against the model");
                assert_eq!(by_key(&got), by_key(&want), "{text} against {context}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn select_matches_query_and_scan(case in case()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = if case.1 {
            StorageConfig::Directory(dir.path().to_path_buf())
        } else {
            StorageConfig::InMemory
        };
        rt.block_on(async {
            let db = Database::open(config).expect("open database");
            run_case(&db, &case).await;
        });
    }
}
