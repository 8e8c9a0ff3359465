//! The checks DynamoDB makes on a keyed SELECT's WHERE once it has
//! decomposed it into reads: every key value must have its key's type, and
//! no two reads may cover the same items — two OR branches (or IN values)
//! that reach the same partition with overlapping sort-key ranges are
//! refused with `Overlapping conditions with range keys are not supported
//! in where clause`.
//!
//! The WHERE is expanded into a disjunction of conjunctions (NOT pushed
//! down to comparisons); each conjunction pins partitions and narrows the
//! sort key to an interval, and conjunctions on a shared partition must
//! have disjoint intervals.

use std::cmp::Ordering;

use openddb_core::expr::eval::compare_scalars;
use openddb_core::expr::values_equal;
use openddb_core::partiql::bind::{self, Params};
use openddb_core::partiql::{BinaryOp, Expr};
use openddb_core::{AttributeValue, DynamoError};

use super::{key_type_error, mirror};
use crate::catalog::KeyAttribute;

use bind::is_value;

/// Conjunctions beyond this many are not compared (the statement is read
/// as planned; DynamoDB's own limit on reads applies separately).
const MAX_BRANCHES: usize = 256;

/// One bound of a sort-key interval: the value and whether it is included.
type Bound = Option<(AttributeValue, bool)>;

#[derive(Clone)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct Branch {
    /// Partition values this conjunction pins (`None`: not pinned).
    partition: Option<Vec<AttributeValue>>,
    low: Bound,
    high: Bound,
}

impl Branch {
    fn any() -> Branch {
        Branch {
            partition: None,
            low: None,
            high: None,
        }
    }
}

fn overlap_error() -> DynamoError {
    DynamoError::validation(
        "Overlapping conditions with range keys are not supported in where clause",
    )
}

fn is_key(e: &Expr, key: &KeyAttribute) -> bool {
    matches!(e, Expr::Path(p) if p.steps.is_empty() && p.root == key.name)
}

/// A key value of the right type, or the error DynamoDB gives.
fn key_value(
    e: &Expr,
    key: &KeyAttribute,
    params: Params<'_>,
) -> Result<AttributeValue, DynamoError> {
    let v = bind::value(e, params)?;
    if v.type_name() != key.attr_type {
        return Err(key_type_error(&key.name));
    }
    Ok(v)
}

/// The conjunctions of `e` (negated when `negate`), each as the partition
/// values and sort interval it implies.
///
/// Recurses once per NOT and per AND or OR chain inside another (a chain's
/// own operands are taken in a loop): every such level needs a NOT, a
/// parenthesis or an AND under an OR, so the parser's nesting bound caps
/// the depth at about twice its 100 levels.
fn expand(
    e: &Expr,
    negate: bool,
    pk: &KeyAttribute,
    sk: Option<&KeyAttribute>,
    params: Params<'_>,
) -> Result<Vec<Branch>, DynamoError> {
    use BinaryOp::*;
    // A part that names no key attribute only filters: it is not split.
    if !mentions_key(e, pk, sk) {
        return Ok(vec![Branch::any()]);
    }
    let branches = match e {
        Expr::Not(inner) => return expand(inner, !negate, pk, sk, params),
        // A negated key condition (or `<>` on a key) is not decomposed:
        // DynamoDB reads such a statement without splitting it, so there
        // is nothing to overlap.
        Expr::Binary(Ne, ..) if !negate => return Err(TooMany.into()),
        Expr::Binary(Eq | Lt | Le | Gt | Ge, ..) | Expr::In(..) | Expr::Between(..) if negate => {
            return Err(TooMany.into())
        }
        Expr::Call { name, .. } if negate && name == "begins_with" => return Err(TooMany.into()),
        Expr::Binary(And | Or, ..) => match e.chain() {
            Some((op, operands)) => expand_chain(op, operands, negate, pk, sk, params)?,
            None => vec![Branch::any()],
        },
        Expr::In(x, list, _) if !negate && list.iter().all(is_value) => {
            if is_key(x, pk) {
                return list
                    .iter()
                    .map(|v| {
                        Ok(Branch {
                            partition: Some(vec![key_value(v, pk, params)?]),
                            ..Branch::any()
                        })
                    })
                    .collect();
            }
            match sk {
                Some(sk) if is_key(x, sk) => list
                    .iter()
                    .map(|v| {
                        let v = key_value(v, sk, params)?;
                        Ok(Branch {
                            low: Some((v.clone(), true)),
                            high: Some((v, true)),
                            ..Branch::any()
                        })
                    })
                    .collect::<Result<_, DynamoError>>()?,
                _ => vec![Branch::any()],
            }
        }
        Expr::Binary(op @ (Eq | Ne | Lt | Le | Gt | Ge), a, b, _) => {
            let (op, path, value) = match (is_value(a), is_value(b)) {
                (false, true) => (*op, a.as_ref(), b.as_ref()),
                (true, false) => (mirror(*op), b.as_ref(), a.as_ref()),
                _ => return Ok(vec![Branch::any()]),
            };
            let op = if negate { invert(op) } else { op };
            if is_key(path, pk) {
                if op == Eq {
                    return Ok(vec![Branch {
                        partition: Some(vec![key_value(value, pk, params)?]),
                        ..Branch::any()
                    }]);
                }
                return Ok(vec![Branch::any()]);
            }
            let Some(sk) = sk.filter(|sk| is_key(path, sk)) else {
                return Ok(vec![Branch::any()]);
            };
            let v = key_value(value, sk, params)?;
            let b = |low: Bound, high: Bound| Branch {
                low,
                high,
                ..Branch::any()
            };
            match op {
                Eq => vec![b(Some((v.clone(), true)), Some((v, true)))],
                // `sk <> v`: below or above v.
                Ne => vec![b(None, Some((v.clone(), false))), b(Some((v, false)), None)],
                Lt => vec![b(None, Some((v, false)))],
                Le => vec![b(None, Some((v, true)))],
                Gt => vec![b(Some((v, false)), None)],
                Ge => vec![b(Some((v, true)), None)],
                _ => vec![Branch::any()],
            }
        }
        Expr::Between(x, low, high, _) if !negate && is_value(low) && is_value(high) => match sk {
            Some(sk) if is_key(x, sk) => vec![Branch {
                low: Some((key_value(low, sk, params)?, true)),
                high: Some((key_value(high, sk, params)?, true)),
                ..Branch::any()
            }],
            _ => vec![Branch::any()],
        },
        Expr::Call { name, args, .. }
            if !negate && name == "begins_with" && args.len() == 2 && is_value(&args[1]) =>
        {
            match sk {
                Some(sk) if is_key(&args[0], sk) => {
                    let prefix = key_value(&args[1], sk, params)?;
                    // Everything that starts with the prefix sorts between
                    // it and the prefix followed by the greatest characters.
                    let high = match &prefix {
                        AttributeValue::S(p) => {
                            AttributeValue::S(format!("{p}{}", "\u{10FFFF}".repeat(8)))
                        }
                        AttributeValue::B(p) => {
                            let mut h = p.clone();
                            h.extend([0xFF; 32]);
                            AttributeValue::B(h)
                        }
                        _ => return Ok(vec![Branch::any()]),
                    };
                    vec![Branch {
                        low: Some((prefix, true)),
                        high: Some((high, true)),
                        ..Branch::any()
                    }]
                }
                _ => vec![Branch::any()],
            }
        }
        _ => vec![Branch::any()],
    };
    Ok(branches)
}

/// An AND or OR chain's conjunctions, as a left-to-right reading of the
/// chain gives them: a leading run of operands that names no key is one
/// part that only filters, and each operand after it is expanded and
/// combined in the order written — so a key value's type is checked, and
/// the branch count can run past [`MAX_BRANCHES`], exactly where that
/// reading meets them, however the parser balanced the chain.
fn expand_chain(
    op: BinaryOp,
    operands: Vec<&Expr>,
    negate: bool,
    pk: &KeyAttribute,
    sk: Option<&KeyAttribute>,
    params: Params<'_>,
) -> Result<Vec<Branch>, DynamoError> {
    let conj = (op == BinaryOp::And) != negate;
    let mut named = false;
    let mut out = vec![Branch::any()];
    for (i, operand) in operands.into_iter().enumerate() {
        named |= mentions_key(operand, pk, sk);
        if !named {
            continue;
        }
        let next = expand(operand, negate, pk, sk, params)?;
        out = if i == 0 {
            next
        } else if conj {
            let mut both = Vec::with_capacity(out.len() * next.len());
            for p in &out {
                for q in &next {
                    if both.len() >= MAX_BRANCHES {
                        return Err(TooMany.into());
                    }
                    both.push(meet(p, q));
                }
            }
            both
        } else {
            out.extend(next);
            out
        };
    }
    Ok(out)
}

/// Whether a key attribute appears anywhere in `e` (outside literals).
/// Walked with a heap stack, so no operand is too deep for it.
fn mentions_key(e: &Expr, pk: &KeyAttribute, sk: Option<&KeyAttribute>) -> bool {
    let named =
        |p: &openddb_core::partiql::Path| p.root == pk.name || sk.is_some_and(|s| p.root == s.name);
    let mut pending = vec![e];
    while let Some(e) = pending.pop() {
        match e {
            Expr::Path(p) if named(p) => return true,
            Expr::Not(x) | Expr::Neg(x, _) | Expr::Is { expr: x, .. } => pending.push(x),
            Expr::Binary(_, a, b, _) => pending.extend([&**a, b]),
            Expr::Between(a, b, c, _) => pending.extend([&**a, b, c]),
            Expr::In(x, list, _) => {
                pending.push(x);
                pending.extend(list);
            }
            Expr::Call { args, .. } => pending.extend(args),
            _ => {}
        }
    }
    false
}

/// Marker for a WHERE that is not compared: too large, or not decomposed.
struct TooMany;

impl From<TooMany> for DynamoError {
    fn from(_: TooMany) -> DynamoError {
        DynamoError::validation("\u{0}too many branches")
    }
}

fn invert(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Eq => BinaryOp::Ne,
        BinaryOp::Ne => BinaryOp::Eq,
        BinaryOp::Lt => BinaryOp::Ge,
        BinaryOp::Le => BinaryOp::Gt,
        BinaryOp::Gt => BinaryOp::Le,
        BinaryOp::Ge => BinaryOp::Lt,
        other => other,
    }
}

fn cmp(a: &AttributeValue, b: &AttributeValue) -> Ordering {
    compare_scalars(a, b).unwrap_or(Ordering::Equal)
}

/// The tighter of two lower (or, with `upper`, upper) bounds.
fn tighter(a: &Bound, b: &Bound, upper: bool) -> Bound {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some((x, xi)), Some((y, yi))) => {
            let o = cmp(x, y);
            let pick_x = match o {
                Ordering::Equal => !xi,
                Ordering::Less => upper,
                Ordering::Greater => !upper,
            };
            if pick_x {
                Some((x.clone(), *xi))
            } else {
                Some((y.clone(), *yi && (o != Ordering::Equal || *xi)))
            }
        }
    }
}

/// Both conjunctions at once.
fn meet(p: &Branch, q: &Branch) -> Branch {
    let partition = match (&p.partition, &q.partition) {
        (Some(x), Some(y)) => Some(
            x.iter()
                .filter(|v| y.iter().any(|w| values_equal(v, w)))
                .cloned()
                .collect(),
        ),
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    Branch {
        partition,
        low: tighter(&p.low, &q.low, false),
        high: tighter(&p.high, &q.high, true),
    }
}

/// Whether an interval holds nothing.
fn empty(b: &Branch) -> bool {
    match (&b.low, &b.high) {
        (Some((l, li)), Some((h, hi))) => match cmp(l, h) {
            Ordering::Greater => true,
            Ordering::Equal => !(*li && *hi),
            Ordering::Less => false,
        },
        _ => false,
    }
}

fn intervals_overlap(a: &Branch, b: &Branch) -> bool {
    !empty(&meet(
        &Branch {
            partition: None,
            ..a.clone()
        },
        &Branch {
            partition: None,
            ..b.clone()
        },
    ))
}

/// Checks a keyed SELECT's WHERE: key value types, then overlapping reads.
pub fn check(
    filter: &Expr,
    pk: &KeyAttribute,
    sk: Option<&KeyAttribute>,
    params: Params<'_>,
) -> Result<(), DynamoError> {
    let branches = match expand(filter, false, pk, sk, params) {
        Ok(b) => b,
        Err(e) if e.message.starts_with('\u{0}') => return Ok(()),
        Err(e) => return Err(e),
    };
    // A branch that pins no partition makes the statement a scan.
    if branches.iter().any(|b| b.partition.is_none()) {
        return Ok(());
    }
    let reads: Vec<(&AttributeValue, &Branch)> = branches
        .iter()
        .filter(|b| !empty(b))
        .flat_map(|b| b.partition.iter().flatten().map(move |v| (v, b)))
        .collect();
    for (i, (v, a)) in reads.iter().enumerate() {
        for (w, b) in &reads[i + 1..] {
            if values_equal(v, w) && intervals_overlap(a, b) {
                return Err(overlap_error());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The chain walk against the recursion it replaced: on random WHERE
    //! clauses (keys and non-keys, IN, BETWEEN, `<>`, begins_with, NOT,
    //! chains with and without redundant parentheses, wrong-typed key
    //! values, IN lists long enough to pass the branch limit), `expand` on
    //! the parser's tree gives exactly what the old recursion gave on the
    //! left-to-right tree the parser used to build: the same branches in
    //! the same order, or the same refusal.

    use super::*;
    use openddb_core::partiql::{parse, Statement};
    use proptest::prelude::*;

    /// The old `expand`, kept as the oracle: it recursed into both sides
    /// of every AND and OR.
    fn recursive(
        e: &Expr,
        negate: bool,
        pk: &KeyAttribute,
        sk: Option<&KeyAttribute>,
        params: Params<'_>,
    ) -> Result<Vec<Branch>, DynamoError> {
        use BinaryOp::*;
        if !mentions_key(e, pk, sk) {
            return Ok(vec![Branch::any()]);
        }
        match e {
            Expr::Not(inner) => recursive(inner, !negate, pk, sk, params),
            Expr::Binary(op @ (And | Or), a, b, _) => {
                let conj = (*op == And) != negate;
                let (x, y) = (
                    recursive(a, negate, pk, sk, params)?,
                    recursive(b, negate, pk, sk, params)?,
                );
                if conj {
                    let mut out = Vec::new();
                    for p in &x {
                        for q in &y {
                            if out.len() >= MAX_BRANCHES {
                                return Err(TooMany.into());
                            }
                            out.push(meet(p, q));
                        }
                    }
                    Ok(out)
                } else {
                    let mut out = x;
                    out.extend(y);
                    Ok(out)
                }
            }
            // Everything else is a term, which both walks expand alike.
            term => expand(term, negate, pk, sk, params),
        }
    }

    /// The tree the parser built before chains were balanced: each chain
    /// folded from the left.
    fn left_to_right(e: &Expr) -> Expr {
        if let Some((op, operands)) = e.chain() {
            let mut operands = operands.into_iter().map(left_to_right);
            let first = operands.next().expect("a chain has operands");
            return operands.fold(first, |a, b| {
                Expr::Binary(op, Box::new(a), Box::new(b), e.pos())
            });
        }
        match e {
            Expr::Not(x) => Expr::Not(Box::new(left_to_right(x))),
            other => other.clone(),
        }
    }

    fn key(name: &str, attr_type: &str) -> KeyAttribute {
        KeyAttribute {
            name: name.into(),
            attr_type: attr_type.into(),
        }
    }

    const TERMS: &[&str] = &[
        "pk = 'a'",
        "pk = 'b'",
        "pk IN ['a', 'b', 'c']",
        "pk = 1",
        "sk = 1",
        "sk = 2",
        "sk < 2",
        "sk >= 3",
        "sk <> 2",
        "sk BETWEEN 1 AND 3",
        "sk IN [1, 3]",
        "sk = 'x'",
        "begins_with(sk, 1)",
        "x = 1",
        "y = 2",
        "x <> pk",
    ];

    /// A WHERE clause: a term, a NOT, or a chain whose operands may be
    /// parenthesised (needed or not).
    #[derive(Debug, Clone)]
    enum Where {
        Term(usize),
        Not(Box<Where>),
        Chain(bool, Vec<(Where, bool)>),
        /// `pk IN [...]` of this many values, to pass the branch limit.
        Wide(usize),
    }

    fn clause() -> impl Strategy<Value = Where> {
        let leaf = prop_oneof![
            8 => (0..TERMS.len()).prop_map(Where::Term),
            1 => (2..40usize).prop_map(Where::Wide),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                inner.clone().prop_map(|w| Where::Not(Box::new(w))),
                (
                    any::<bool>(),
                    prop::collection::vec((inner, any::<bool>()), 2..8)
                )
                    .prop_map(|(and, operands)| Where::Chain(and, operands)),
            ]
        })
    }

    fn write(w: &Where, out: &mut String) {
        match w {
            Where::Term(i) => out.push_str(TERMS[*i]),
            Where::Wide(n) => {
                let values: Vec<String> = (0..*n).map(|i| format!("'v{i}'")).collect();
                out.push_str(&format!("pk IN [{}]", values.join(", ")));
            }
            Where::Not(x) => {
                out.push_str("NOT (");
                write(x, out);
                out.push(')');
            }
            Where::Chain(and, operands) => {
                for (i, (x, paren)) in operands.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if *and { " AND " } else { " OR " });
                    }
                    let needed = *and && matches!(x, Where::Chain(false, _));
                    if *paren || needed {
                        out.push('(');
                        write(x, out);
                        out.push(')');
                    } else {
                        write(x, out);
                    }
                }
            }
        }
    }

    fn outcome(r: Result<Vec<Branch>, DynamoError>) -> Result<Vec<Branch>, String> {
        r.map_err(|e| e.message)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn chains_expand_as_the_recursion_did(w in clause(), numeric in any::<bool>()) {
            let mut text = String::from("SELECT * FROM t WHERE ");
            write(&w, &mut text);
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {}", e.message)))?;
            let Statement::Select(select) = parsed.statement else { panic!() };
            let filter = select.filter.expect("a WHERE clause");
            let old = left_to_right(&filter);
            let params = Params::new(&[], 0).unwrap();
            let pk = key("pk", "S");
            let sk = key("sk", if numeric { "N" } else { "S" });
            for negate in [false, true] {
                prop_assert_eq!(
                    outcome(expand(&filter, negate, &pk, Some(&sk), params)),
                    outcome(recursive(&old, negate, &pk, Some(&sk), params)),
                    "{} (negated: {})", text, negate
                );
            }
            prop_assert_eq!(
                outcome(expand(&filter, false, &pk, None, params)),
                outcome(recursive(&old, false, &pk, None, params)),
                "{} (no sort key)", text
            );
            prop_assert_eq!(
                check(&filter, &pk, Some(&sk), params).map_err(|e| e.message),
                check(&old, &pk, Some(&sk), params).map_err(|e| e.message),
                "{}", text
            );
        }
    }
}
