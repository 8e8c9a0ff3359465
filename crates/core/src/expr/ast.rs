//! The expression syntax trees: conditions (ConditionExpression,
//! FilterExpression, KeyConditionExpression), updates and projections.
//!
//! The parser leaves `#name` and `:value` placeholders in place; the
//! `names` module resolves them, after which a tree holds only literal names
//! and values and is ready for evaluation.

use crate::value::AttributeValue;

/// One step of a document path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A literal attribute or map-member name.
    Name(String),
    /// An expression attribute name, including its `#`.
    Placeholder(String),
    /// A list index, `[n]`.
    Index(u32),
}

/// A document path such as `a.#b[2].c`. The first element is never an index.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentPath {
    pub elements: Vec<PathElement>,
}

impl DocumentPath {
    pub fn new(elements: Vec<PathElement>) -> Self {
        DocumentPath { elements }
    }

    /// A one-element path naming a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Self {
        DocumentPath {
            elements: vec![PathElement::Name(name.into())],
        }
    }

    /// The top-level attribute name, once resolved.
    pub fn top_name(&self) -> Option<&str> {
        match self.elements.first() {
            Some(PathElement::Name(n)) => Some(n),
            _ => None,
        }
    }
}

/// A value operand: a placeholder before resolution, a literal after it (or
/// when built from legacy parameters).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef {
    /// An expression attribute value, including its `:`.
    Placeholder(String),
    Literal(AttributeValue),
}

/// An operand of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(DocumentPath),
    Value(ValueRef),
    /// `size(operand)`.
    Size(Box<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A condition: the tree of a ConditionExpression, FilterExpression or
/// KeyConditionExpression.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(Operand, Comparator, Operand),
    /// `a BETWEEN lower AND upper`.
    Between(Operand, Operand, Operand),
    /// `a IN (v1, v2, ...)`.
    In(Operand, Vec<Operand>),
    AttributeExists(DocumentPath),
    AttributeNotExists(DocumentPath),
    /// `attribute_type(path, :type)`.
    AttributeType(DocumentPath, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Not(Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

impl Condition {
    pub fn and(a: Condition, b: Condition) -> Condition {
        Condition::And(Box::new(a), Box::new(b))
    }

    pub fn or(a: Condition, b: Condition) -> Condition {
        Condition::Or(Box::new(a), Box::new(b))
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(a: Condition) -> Condition {
        Condition::Not(Box::new(a))
    }
}

/// An operand on the right of `SET path =`.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOperand {
    Path(DocumentPath),
    Value(ValueRef),
    /// `if_not_exists(path, operand)`.
    IfNotExists(DocumentPath, Box<UpdateOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<UpdateOperand>, Box<UpdateOperand>),
}

/// The value assigned by one SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Operand(UpdateOperand),
    Plus(UpdateOperand, UpdateOperand),
    Minus(UpdateOperand, UpdateOperand),
}

/// One clause of an update expression with its comma-separated actions.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateClause {
    Set(Vec<(DocumentPath, SetValue)>),
    Remove(Vec<DocumentPath>),
    Add(Vec<(DocumentPath, ValueRef)>),
    Delete(Vec<(DocumentPath, ValueRef)>),
}

impl UpdateClause {
    /// The clause keyword as DynamoDB names it in messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            UpdateClause::Set(_) => "SET",
            UpdateClause::Remove(_) => "REMOVE",
            UpdateClause::Add(_) => "ADD",
            UpdateClause::Delete(_) => "DELETE",
        }
    }
}

/// An UpdateExpression: its clauses in the order written.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateExpression {
    pub clauses: Vec<UpdateClause>,
}

/// One update action, flattened out of its clause.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(DocumentPath, SetValue),
    Remove(DocumentPath),
    Add(DocumentPath, ValueRef),
    Delete(DocumentPath, ValueRef),
}

impl UpdateAction {
    pub fn path(&self) -> &DocumentPath {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        }
    }
}

impl UpdateExpression {
    /// Every action, clause by clause, in the order written.
    pub fn actions(&self) -> Vec<UpdateAction> {
        let mut out = Vec::new();
        for clause in &self.clauses {
            match clause {
                UpdateClause::Set(v) => out.extend(
                    v.iter()
                        .map(|(p, s)| UpdateAction::Set(p.clone(), s.clone())),
                ),
                UpdateClause::Remove(v) => out.extend(v.iter().cloned().map(UpdateAction::Remove)),
                UpdateClause::Add(v) => out.extend(
                    v.iter()
                        .map(|(p, s)| UpdateAction::Add(p.clone(), s.clone())),
                ),
                UpdateClause::Delete(v) => out.extend(
                    v.iter()
                        .map(|(p, s)| UpdateAction::Delete(p.clone(), s.clone())),
                ),
            }
        }
        out
    }
}

/// A ProjectionExpression: the document paths to return.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionExpression {
    pub paths: Vec<DocumentPath>,
}
