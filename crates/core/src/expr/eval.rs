//! Evaluating conditions against an item with DynamoDB's semantics: a
//! missing attribute or a type mismatch makes a comparison false, never an
//! error; `<`-style ordering exists only between two S, two N or two B.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::*;
use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// The value at `path` in `item`, if every step exists with the right type.
pub fn get_path<'a>(item: &'a Item, path: &DocumentPath) -> Option<&'a AttributeValue> {
    let mut elements = path.elements.iter();
    let mut current = match elements.next()? {
        PathElement::Name(n) => item.get(n)?,
        _ => return None,
    };
    for e in elements {
        current = match (e, current) {
            (PathElement::Name(n), AttributeValue::M(m)) => m.get(n)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(current)
}

/// DynamoDB's equality: sets compare as sets, numbers by value, documents
/// deeply (walked with a heap stack, so any depth compares without
/// recursion).
pub fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue::*;
    let mut todo = vec![(a, b)];
    while let Some(pair) = todo.pop() {
        let equal = match pair {
            (S(x), S(y)) => x == y,
            (N(x), N(y)) => x == y,
            (B(x), B(y)) => x == y,
            (Bool(x), Bool(y)) => x == y,
            (Null, Null) => true,
            (SS(x), SS(y)) => x.len() == y.len() && x.iter().all(|v| y.contains(v)),
            (NS(x), NS(y)) => x.len() == y.len() && x.iter().all(|v| y.contains(v)),
            (BS(x), BS(y)) => x.len() == y.len() && x.iter().all(|v| y.contains(v)),
            (L(x), L(y)) => {
                todo.extend(x.iter().zip(y));
                x.len() == y.len()
            }
            (M(x), M(y)) => {
                x.len() == y.len()
                    && x.iter().all(|(k, v)| match y.get(k) {
                        Some(w) => {
                            todo.push((v, w));
                            true
                        }
                        None => false,
                    })
            }
            _ => false,
        };
        if !equal {
            return false;
        }
    }
    true
}

/// Ordering between two scalars of the same orderable type (S, N or B):
/// strings and binaries by unsigned bytes, numbers by value.
pub fn compare_scalars(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    use AttributeValue::*;
    match (a, b) {
        (S(x), S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (N(x), N(y)) => Some(x.cmp(y)),
        (B(x), B(y)) => Some(x.as_slice().cmp(y.as_slice())),
        _ => None,
    }
}

/// What `size()` returns for a value, when it has a size: string length in
/// UTF-8 bytes, binary length, element count of sets, lists and maps.
pub fn size_of(v: &AttributeValue) -> Option<usize> {
    use AttributeValue::*;
    Some(match v {
        S(s) => s.len(),
        B(b) => b.len(),
        SS(s) => s.len(),
        NS(s) => s.len(),
        BS(s) => s.len(),
        L(l) => l.len(),
        M(m) => m.len(),
        N(_) | Bool(_) | Null => return None,
    })
}

fn number_from(n: usize) -> Number {
    Number::from_i64(n as i64)
}

fn operand<'a>(item: &'a Item, o: &'a Operand) -> Option<Cow<'a, AttributeValue>> {
    // size(size(...)) is unwound in a loop: a hand-built tree may nest it
    // arbitrarily deep.
    let mut sizes = 0;
    let mut o = o;
    while let Operand::Size(inner) = o {
        sizes += 1;
        o = inner;
    }
    let mut v = match o {
        Operand::Path(p) => get_path(item, p).map(Cow::Borrowed),
        Operand::Value(ValueRef::Literal(v)) => Some(Cow::Borrowed(v)),
        Operand::Value(ValueRef::Placeholder(_)) | Operand::Size(_) => None,
    };
    for _ in 0..sizes {
        v = size_of(&*v?).map(|n| Cow::Owned(AttributeValue::N(number_from(n))));
    }
    v
}

fn contains_subslice<T: PartialEq>(hay: &[T], needle: &[T]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `contains(a, b)`: substring of a string, sub-sequence of a binary,
/// member of a set, or element of a list.
pub fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue::*;
    match (a, b) {
        (S(x), S(y)) => x.contains(y.as_str()),
        (B(x), B(y)) => contains_subslice(x, y),
        (SS(x), S(y)) => x.contains(y),
        (NS(x), N(y)) => x.contains(y),
        (BS(x), B(y)) => x.contains(y),
        (L(x), y) => x.iter().any(|e| values_equal(e, y)),
        _ => false,
    }
}

/// `begins_with(a, b)` on two strings or two binaries.
pub fn begins_with(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
        _ => false,
    }
}

/// Whether `cond` holds for `item`; a missing item behaves as an empty one.
/// `cond` must be resolved (no placeholders left); a leftover placeholder
/// reads as a missing value.
pub fn evaluate(cond: &Condition, item: Option<&Item>) -> bool {
    static EMPTY: Item = Item::new();
    eval(cond, item.unwrap_or(&EMPTY))
}

/// What remains to do on the way back from a sub-condition.
enum Then<'c> {
    Eval(&'c Condition),
    Not,
    /// Evaluate the right side only if the left was true.
    And(&'c Condition),
    /// Evaluate the right side only if the left was false.
    Or(&'c Condition),
}

/// AND, OR and NOT are walked with a heap stack, so no tree is too deep to
/// evaluate (legacy filters and hand-built trees have no operator limit).
fn eval(cond: &Condition, item: &Item) -> bool {
    let mut todo = vec![Then::Eval(cond)];
    let mut value = false;
    while let Some(next) = todo.pop() {
        match next {
            Then::Eval(Condition::Not(a)) => {
                todo.push(Then::Not);
                todo.push(Then::Eval(a));
            }
            Then::Eval(Condition::And(a, b)) => {
                todo.push(Then::And(b));
                todo.push(Then::Eval(a));
            }
            Then::Eval(Condition::Or(a, b)) => {
                todo.push(Then::Or(b));
                todo.push(Then::Eval(a));
            }
            Then::Eval(leaf) => value = eval_leaf(leaf, item),
            Then::Not => value = !value,
            Then::And(b) if value => todo.push(Then::Eval(b)),
            Then::Or(b) if !value => todo.push(Then::Eval(b)),
            Then::And(_) | Then::Or(_) => {}
        }
    }
    value
}

/// A condition that is neither AND, OR nor NOT.
fn eval_leaf(cond: &Condition, item: &Item) -> bool {
    match cond {
        Condition::And(..) | Condition::Or(..) | Condition::Not(..) => eval(cond, item),
        Condition::Compare(a, op, b) => {
            let (a, b) = (operand(item, a), operand(item, b));
            match op {
                Comparator::Eq => matches!((&a, &b), (Some(x), Some(y)) if values_equal(x, y)),
                Comparator::Ne => !matches!((&a, &b), (Some(x), Some(y)) if values_equal(x, y)),
                _ => {
                    let (Some(x), Some(y)) = (a, b) else {
                        return false;
                    };
                    let Some(ord) = compare_scalars(&x, &y) else {
                        return false;
                    };
                    match op {
                        Comparator::Lt => ord == Ordering::Less,
                        Comparator::Le => ord != Ordering::Greater,
                        Comparator::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }
                }
            }
        }
        Condition::Between(a, lo, hi) => {
            let (Some(a), Some(lo), Some(hi)) =
                (operand(item, a), operand(item, lo), operand(item, hi))
            else {
                return false;
            };
            compare_scalars(&a, &lo).is_some_and(|o| o != Ordering::Less)
                && compare_scalars(&a, &hi).is_some_and(|o| o != Ordering::Greater)
        }
        Condition::In(a, list) => {
            let Some(a) = operand(item, a) else {
                return false;
            };
            list.iter()
                .any(|o| operand(item, o).is_some_and(|v| values_equal(&a, &v)))
        }
        Condition::AttributeExists(p) => get_path(item, p).is_some(),
        Condition::AttributeNotExists(p) => get_path(item, p).is_none(),
        Condition::AttributeType(p, t) => match (get_path(item, p), operand(item, t)) {
            (Some(v), Some(t)) => matches!(&*t, AttributeValue::S(t) if t == v.type_name()),
            _ => false,
        },
        Condition::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => begins_with(&a, &b),
            _ => false,
        },
        Condition::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
    }
}
