//! Projecting an item onto document paths (ProjectionExpression,
//! AttributesToGet, and the UPDATED_OLD / UPDATED_NEW return values): nested
//! structure is kept, and list elements picked by index close up into a
//! dense list in index order.

use std::collections::BTreeMap;

use super::ast::{DocumentPath, PathElement};
use crate::value::{AttributeValue, Item};

#[derive(Debug)]
enum Node {
    Whole,
    Map(BTreeMap<String, Node>),
    List(BTreeMap<u32, Node>),
}

impl Node {
    fn insert(&mut self, elements: &[PathElement]) {
        let Some((first, rest)) = elements.split_first() else {
            *self = Node::Whole;
            return;
        };
        let child = match (first, &mut *self) {
            (_, Node::Whole) => return,
            (PathElement::Name(n), Node::Map(m)) => {
                m.entry(n.clone()).or_insert_with(|| Node::fresh(rest))
            }
            (PathElement::Index(i), Node::List(l)) => {
                l.entry(*i).or_insert_with(|| Node::fresh(rest))
            }
            // A path that conflicts with an earlier one: the earlier wins.
            _ => return,
        };
        child.insert(rest);
    }

    /// An empty node shaped for the next element of a path.
    fn fresh(rest: &[PathElement]) -> Node {
        match rest.first() {
            None => Node::Whole,
            Some(PathElement::Index(_)) => Node::List(BTreeMap::new()),
            Some(_) => Node::Map(BTreeMap::new()),
        }
    }

    fn extract(&self, value: &AttributeValue) -> Option<AttributeValue> {
        match (self, value) {
            (Node::Whole, v) => Some(v.clone()),
            (Node::Map(children), AttributeValue::M(m)) => {
                let out = extract_map(children, m);
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            (Node::List(children), AttributeValue::L(l)) => {
                let out: Vec<AttributeValue> = children
                    .iter()
                    .filter_map(|(i, n)| l.get(*i as usize).and_then(|v| n.extract(v)))
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

fn extract_map(children: &BTreeMap<String, Node>, m: &Item) -> Item {
    children
        .iter()
        .filter_map(|(k, n)| m.get(k).and_then(|v| n.extract(v)).map(|v| (k.clone(), v)))
        .collect()
}

/// The parts of `item` that `paths` (resolved) select.
pub fn project(paths: &[DocumentPath], item: &Item) -> Item {
    let mut root = BTreeMap::new();
    for p in paths {
        let Some((PathElement::Name(first), rest)) = p.elements.split_first() else {
            continue;
        };
        root.entry(first.clone())
            .or_insert_with(|| Node::fresh(rest))
            .insert(rest);
    }
    extract_map(&root, item)
}
