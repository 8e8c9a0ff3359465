//! Applying a resolved UpdateExpression to an item: every right-hand side is
//! read from the item as it was before the update, then the actions are
//! applied, REMOVEs last so list indexes refer to the original list.

use std::cmp::Ordering;

use super::ast::*;
use super::eval::get_path;
use crate::error::DynamoError;
use crate::value::{AttributeValue, Item};

const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";
const BAD_OPERAND: &str = "An operand in the update expression has an incorrect data type";
const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";

/// The document paths an update wrote or removed, for `UPDATED_OLD` /
/// `UPDATED_NEW`: project the old or new item on them with
/// [`super::projection::project`]. A list index written past the end is
/// recorded at the position the value actually landed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdatedPaths {
    pub paths: Vec<DocumentPath>,
}

/// Applies `update` (resolved: no placeholders left) to `item` in place.
/// On error the item may be partly updated; callers keep the original.
pub fn apply_update(
    update: &UpdateExpression,
    item: &mut Item,
) -> Result<UpdatedPaths, DynamoError> {
    let actions = update.actions();
    // Read every SET right-hand side from the original item first.
    let mut resolved = Vec::with_capacity(actions.len());
    for action in &actions {
        resolved.push(match action {
            UpdateAction::Set(path, value) => Resolved::Set(path, set_value(item, value)?),
            UpdateAction::Add(path, value) => Resolved::Add(path, value),
            UpdateAction::Delete(path, value) => Resolved::Delete(path, value),
            UpdateAction::Remove(path) => Resolved::Remove(path),
        });
    }
    let mut updated = Vec::new();
    let mut removes = Vec::new();
    for action in resolved {
        match action {
            Resolved::Set(path, value) => updated.push(write(item, path, value)?),
            Resolved::Add(path, value) => updated.push(add(item, path, literal(value)?)?),
            Resolved::Delete(path, value) => {
                delete(item, path, literal(value)?)?;
                updated.push(path.clone());
            }
            Resolved::Remove(path) => removes.push(path),
        }
    }
    // Highest list index first, so earlier indexes still point at the
    // elements they named in the original list.
    removes.sort_by(|a, b| compare_paths(b, a));
    for path in removes {
        remove(item, path)?;
        updated.push(path.clone());
    }
    Ok(UpdatedPaths { paths: updated })
}

/// An action whose SET value has been read from the original item.
enum Resolved<'u> {
    Set(&'u DocumentPath, AttributeValue),
    Add(&'u DocumentPath, &'u ValueRef),
    Delete(&'u DocumentPath, &'u ValueRef),
    Remove(&'u DocumentPath),
}

fn compare_paths(a: &DocumentPath, b: &DocumentPath) -> Ordering {
    for (x, y) in a.elements.iter().zip(&b.elements) {
        let o = match (x, y) {
            (PathElement::Index(i), PathElement::Index(j)) => i.cmp(j),
            (PathElement::Name(m), PathElement::Name(n)) => m.cmp(n),
            (PathElement::Index(_), _) => Ordering::Greater,
            (_, PathElement::Index(_)) => Ordering::Less,
            _ => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.elements.len().cmp(&b.elements.len())
}

fn literal(v: &ValueRef) -> Result<&AttributeValue, DynamoError> {
    match v {
        ValueRef::Literal(v) => Ok(v),
        ValueRef::Placeholder(p) => Err(DynamoError::validation(format!(
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: {p}"
        ))),
    }
}

fn operand(item: &Item, o: &UpdateOperand) -> Result<AttributeValue, DynamoError> {
    match o {
        UpdateOperand::Path(p) => get_path(item, p)
            .cloned()
            .ok_or_else(|| DynamoError::validation(MISSING_ATTRIBUTE)),
        UpdateOperand::Value(v) => literal(v).cloned(),
        UpdateOperand::IfNotExists(p, fallback) => match get_path(item, p) {
            Some(v) => Ok(v.clone()),
            None => operand(item, fallback),
        },
        UpdateOperand::ListAppend(a, b) => match (operand(item, a)?, operand(item, b)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(DynamoError::validation(BAD_OPERAND)),
        },
    }
}

fn set_value(item: &Item, v: &SetValue) -> Result<AttributeValue, DynamoError> {
    match v {
        SetValue::Operand(o) => operand(item, o),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (AttributeValue::N(x), AttributeValue::N(y)) =
                (operand(item, a)?, operand(item, b)?)
            else {
                return Err(DynamoError::validation(BAD_OPERAND));
            };
            let n = if matches!(v, SetValue::Plus(..)) {
                x.checked_add(&y)?
            } else {
                x.checked_sub(&y)?
            };
            Ok(AttributeValue::N(n))
        }
    }
}

/// The value at a path prefix, mutably.
fn get_mut<'a>(item: &'a mut Item, elements: &[PathElement]) -> Option<&'a mut AttributeValue> {
    let (first, rest) = elements.split_first()?;
    let PathElement::Name(name) = first else {
        return None;
    };
    let mut current = item.get_mut(name)?;
    for e in rest {
        current = match (e, current) {
            (PathElement::Name(n), AttributeValue::M(m)) => m.get_mut(n)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i as usize)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Where the last element of a path lives.
enum Slot<'a> {
    Map(&'a mut Item, &'a str),
    List(&'a mut Vec<AttributeValue>, u32),
}

/// The slot for `path`; `Err` when the parent exists with the wrong type,
/// `Ok(None)` when the parent does not exist.
fn slot<'a>(item: &'a mut Item, path: &'a DocumentPath) -> Result<Option<Slot<'a>>, DynamoError> {
    let Some((last, parents)) = path.elements.split_last() else {
        return Err(DynamoError::validation(INVALID_PATH));
    };
    if parents.is_empty() {
        return match last {
            PathElement::Name(n) => Ok(Some(Slot::Map(item, n))),
            _ => Err(DynamoError::validation(INVALID_PATH)),
        };
    }
    let Some(parent) = get_mut(item, parents) else {
        return Ok(None);
    };
    match (last, parent) {
        (PathElement::Name(n), AttributeValue::M(m)) => Ok(Some(Slot::Map(m, n))),
        (PathElement::Index(i), AttributeValue::L(l)) => Ok(Some(Slot::List(l, *i))),
        _ => Err(DynamoError::validation(INVALID_PATH)),
    }
}

/// Writes `value` at `path`, returning where it landed.
fn write(
    item: &mut Item,
    path: &DocumentPath,
    value: AttributeValue,
) -> Result<DocumentPath, DynamoError> {
    match slot(item, path)? {
        None => Err(DynamoError::validation(INVALID_PATH)),
        Some(Slot::Map(m, k)) => {
            m.insert(k.to_string(), value);
            Ok(path.clone())
        }
        Some(Slot::List(l, i)) => {
            if (i as usize) < l.len() {
                l[i as usize] = value;
                Ok(path.clone())
            } else {
                let landed = l.len() as u32;
                l.push(value);
                let mut actual = path.clone();
                if let Some(last) = actual.elements.last_mut() {
                    *last = PathElement::Index(landed);
                }
                Ok(actual)
            }
        }
    }
}

fn union<T: PartialEq + Clone>(mut a: Vec<T>, b: &[T]) -> Vec<T> {
    for v in b {
        if !a.contains(v) {
            a.push(v.clone());
        }
    }
    a
}

fn add(
    item: &mut Item,
    path: &DocumentPath,
    value: &AttributeValue,
) -> Result<DocumentPath, DynamoError> {
    use AttributeValue::*;
    let new = match (get_path(item, path), value) {
        (None, N(_) | SS(_) | NS(_) | BS(_) | L(_)) => value.clone(),
        (Some(N(x)), N(y)) => N(x.checked_add(y)?),
        (Some(SS(x)), SS(y)) => SS(union(x.clone(), y)),
        (Some(NS(x)), NS(y)) => NS(union(x.clone(), y)),
        (Some(BS(x)), BS(y)) => BS(union(x.clone(), y)),
        // Only the legacy AttributeUpdates ADD can carry a list: it appends.
        (Some(L(x)), L(y)) => L(x.iter().chain(y).cloned().collect()),
        _ => return Err(DynamoError::validation(BAD_OPERAND)),
    };
    write(item, path, new)
}

fn delete(item: &mut Item, path: &DocumentPath, value: &AttributeValue) -> Result<(), DynamoError> {
    use AttributeValue::*;
    let remaining = match (get_path(item, path), value) {
        (None, _) => return Ok(()),
        (Some(SS(x)), SS(y)) => {
            let v: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
            (!v.is_empty()).then_some(SS(v))
        }
        (Some(NS(x)), NS(y)) => {
            let v: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
            (!v.is_empty()).then_some(NS(v))
        }
        (Some(BS(x)), BS(y)) => {
            let v: Vec<_> = x.iter().filter(|e| !y.contains(e)).cloned().collect();
            (!v.is_empty()).then_some(BS(v))
        }
        _ => return Err(DynamoError::validation(BAD_OPERAND)),
    };
    match remaining {
        Some(v) => write(item, path, v).map(|_| ()),
        None => remove(item, path),
    }
}

fn remove(item: &mut Item, path: &DocumentPath) -> Result<(), DynamoError> {
    match slot(item, path)? {
        None => {}
        Some(Slot::Map(m, k)) => {
            m.remove(k);
        }
        Some(Slot::List(l, i)) if (i as usize) < l.len() => {
            l.remove(i as usize);
        }
        Some(Slot::List(..)) => {}
    }
    Ok(())
}
