//! The IAM JSON policy grammar: a document read into statements, checked
//! with IAM's rules, and printed back in one canonical form.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::condition::{Condition, Operator};
use super::pattern::{compile, PatChar, Template};
use super::PolicyError;

/// Longest policy text read at all. DynamoDB's resource policies stop at
/// 20 KB and IAM's identity policies at 10 KB; this only bounds the work
/// a stored document can ask for.
pub const MAX_POLICY_BYTES: usize = 128 * 1024;
/// Deepest JSON nesting read. A policy needs four levels (document,
/// statements, condition operator, values); the JSON reader would recurse
/// as deep as the text goes.
const MAX_DEPTH: usize = 16;

/// The policy language version. Variables exist only in 2012-10-17;
/// a document without `Version` is 2008-10-17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008_10_17 => "2008-10-17",
            Version::V2012_10_17 => "2012-10-17",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`/`Resource`/`Principal` as written, or their `Not…` forms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause<T> {
    Is(Vec<T>),
    Not(Vec<T>),
}

impl<T> Clause<T> {
    pub fn items(&self) -> &[T] {
        match self {
            Clause::Is(v) | Clause::Not(v) => v,
        }
    }

    pub fn negated(&self) -> bool {
        matches!(self, Clause::Not(_))
    }
}

/// An action pattern, `*` or `service:action` with wildcards.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionPattern {
    pub raw: String,
    /// Lower-cased: actions match without regard to case.
    pub pattern: Vec<PatChar>,
}

/// Who a resource policy statement is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalId {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Everyone,
    /// Every principal of an account (`123456789012` or its root ARN);
    /// for its own account this delegates to identity policies.
    Account(String),
    /// One IAM principal by ARN.
    Arn(String),
    /// A `Service`, `Federated` or `CanonicalUser` principal: kept, never
    /// matched (openddb has no such callers).
    Other(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Clause<PrincipalId>>,
    pub action: Clause<ActionPattern>,
    pub resource: Clause<Template>,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

/// Which rules a document must follow besides the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user: must not name a principal.
    Identity,
    /// Attached to a resource: every statement names its principal.
    Resource,
    /// Either (documents already stored are read this way).
    Any,
}

impl Policy {
    /// Reads a policy of either kind.
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        Policy::parse_kind(json, PolicyKind::Any)
    }

    /// Reads a policy and checks the rules of its kind.
    pub fn parse_kind(json: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        if json.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge);
        }
        if nesting_depth(json) > MAX_DEPTH {
            return Err(PolicyError::InvalidJson);
        }
        let value: Value = serde_json::from_str(json).map_err(|_| PolicyError::InvalidJson)?;
        let Value::Object(doc) = value else {
            return Err(PolicyError::Syntax);
        };
        read_document(&doc, kind)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The document in one canonical form: keys in a fixed order, every
    /// list a list, principals as ARNs. Two documents that mean the same
    /// (whitespace, key order, a string or a one-element list, an account
    /// id or its root ARN) print the same, and the print parses back to
    /// an equal policy.
    pub fn to_canonical_json(&self) -> String {
        let mut doc = Map::new();
        doc.insert("Version".into(), Value::from(self.version.as_str()));
        if let Some(id) = &self.id {
            doc.insert("Id".into(), Value::from(id.as_str()));
        }
        let statements = self.statements.iter().map(print_statement).collect();
        doc.insert("Statement".into(), Value::Array(statements));
        // serde_json's map sorts keys: Id, Statement, Version.
        Value::Object(doc).to_string()
    }

    /// Whether any statement allows a wildcard principal without a
    /// condition (DynamoDB refuses such resource policies).
    pub fn allows_everyone_unconditionally(&self) -> bool {
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.conditions.is_empty()
                && matches!(&s.principal, Some(Clause::Is(p)) if p.contains(&PrincipalId::Everyone))
        })
    }

    /// The actions the statements name exactly (no wildcard), as written.
    pub fn named_actions(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.action.items())
            .filter(|a| !a.raw.contains(['*', '?']))
            .map(|a| a.raw.as_str())
    }
}

/// How deep the JSON text nests, counted without parsing it (brackets
/// inside strings do not count).
fn nesting_depth(json: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn read_document(doc: &Map<String, Value>, kind: PolicyKind) -> Result<Policy, PolicyError> {
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(PolicyError::Syntax);
        }
    }
    let version = match doc.get("Version") {
        None => Version::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
        Some(_) => return Err(PolicyError::InvalidVersion),
    };
    let id = match doc.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::Syntax),
    };
    let statements = match doc.get("Statement") {
        None => return Err(PolicyError::MissingField("Statement")),
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err(PolicyError::Syntax),
    };
    if statements.is_empty() {
        return Err(PolicyError::EmptyStatement);
    }
    let variables = version == Version::V2012_10_17;
    let mut sids = HashSet::new();
    let mut out = Vec::with_capacity(statements.len());
    for s in statements {
        let Value::Object(s) = s else {
            return Err(PolicyError::Syntax);
        };
        let statement = read_statement(s, variables, kind)?;
        if let Some(sid) = &statement.sid {
            if !sids.insert(sid.clone()) {
                return Err(PolicyError::DuplicateSid);
            }
        }
        out.push(statement);
    }
    Ok(Policy {
        version,
        id,
        statements: out,
    })
}

fn read_statement(
    s: &Map<String, Value>,
    variables: bool,
    kind: PolicyKind,
) -> Result<Statement, PolicyError> {
    for key in s.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(PolicyError::Syntax);
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => return Err(PolicyError::Syntax),
    };
    let effect = match s.get("Effect") {
        None => return Err(PolicyError::MissingField("Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => return Err(PolicyError::InvalidEffect(e.clone())),
        Some(_) => return Err(PolicyError::Syntax),
    };
    let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(PolicyError::Syntax),
        (Some(p), None) => Some(Clause::Is(read_principals(p)?)),
        (None, Some(p)) => Some(Clause::Not(read_principals(p)?)),
        (None, None) => None,
    };
    match (kind, &principal) {
        (PolicyKind::Identity, Some(_)) => return Err(PolicyError::PrincipalNotAllowed),
        (PolicyKind::Resource, None) => return Err(PolicyError::MissingField("Principal")),
        _ => {}
    }
    let action = match (s.get("Action"), s.get("NotAction")) {
        (Some(_), Some(_)) => return Err(PolicyError::Syntax),
        (Some(a), None) => Clause::Is(read_actions(a)?),
        (None, Some(a)) => Clause::Not(read_actions(a)?),
        (None, None) => return Err(PolicyError::MissingActions),
    };
    let resource = match (s.get("Resource"), s.get("NotResource")) {
        (Some(_), Some(_)) => return Err(PolicyError::Syntax),
        (Some(r), None) => Clause::Is(read_resources(r, variables)?),
        (None, Some(r)) => Clause::Not(read_resources(r, variables)?),
        (None, None) => return Err(PolicyError::MissingField("Resource")),
    };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(c)) => read_conditions(c, variables)?,
        Some(_) => return Err(PolicyError::Syntax),
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a non-empty list of strings.
fn strings(v: &Value) -> Result<Vec<&str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .map(|v| v.as_str().ok_or(PolicyError::Syntax))
            .collect(),
        _ => Err(PolicyError::Syntax),
    }
}

fn read_actions(v: &Value) -> Result<Vec<ActionPattern>, PolicyError> {
    strings(v)?
        .into_iter()
        .map(|raw| {
            if raw != "*" {
                let (vendor, action) = raw.split_once(':').ok_or(PolicyError::MissingVendor)?;
                let vendor_ok = !vendor.is_empty()
                    && vendor
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '?'));
                if !vendor_ok || action.is_empty() || action.contains(':') {
                    return Err(PolicyError::MissingVendor);
                }
            }
            Ok(ActionPattern {
                raw: raw.to_string(),
                pattern: compile(&raw.to_lowercase()),
            })
        })
        .collect()
}

fn read_resources(v: &Value, variables: bool) -> Result<Vec<Template>, PolicyError> {
    strings(v)?
        .into_iter()
        .map(|raw| {
            let t = Template::parse(raw, variables);
            let literal = t.literal_text();
            let arn_shaped = literal.starts_with("arn:") && literal.matches(':').count() >= 5;
            if raw != "*" && !arn_shaped {
                return Err(PolicyError::InvalidResource(raw.to_string()));
            }
            Ok(t)
        })
        .collect()
}

fn read_principals(v: &Value) -> Result<Vec<PrincipalId>, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![PrincipalId::Everyone]),
        Value::Object(map) if !map.is_empty() => {
            let mut out = Vec::new();
            for (kind, ids) in map {
                let ids = strings(ids).map_err(|_| PolicyError::InvalidPrincipal)?;
                for id in ids {
                    out.push(match kind.as_str() {
                        "AWS" => read_aws_principal(id)?,
                        "Service" | "Federated" | "CanonicalUser" => {
                            PrincipalId::Other(kind.clone(), id.to_string())
                        }
                        _ => return Err(PolicyError::InvalidPrincipal),
                    });
                }
            }
            Ok(out)
        }
        _ => Err(PolicyError::InvalidPrincipal),
    }
}

fn read_aws_principal(id: &str) -> Result<PrincipalId, PolicyError> {
    if id == "*" {
        return Ok(PrincipalId::Everyone);
    }
    if crate::is_account_id(id) {
        return Ok(PrincipalId::Account(id.to_string()));
    }
    // arn:<partition>:iam::<account>:<root | user/… | role/…>; wildcards
    // name no principal (IAM wants them in a condition on
    // aws:PrincipalArn instead).
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && (parts[2] == "iam" || parts[2] == "sts")
        && parts[3].is_empty()
        && crate::is_account_id(parts[4])
        && !parts[5].is_empty()
        && !id.contains(['*', '?']);
    if !valid {
        return Err(PolicyError::InvalidPrincipal);
    }
    if parts[5] == "root" && parts[2] == "iam" {
        return Ok(PrincipalId::Account(parts[4].to_string()));
    }
    Ok(PrincipalId::Arn(id.to_string()))
}

fn read_conditions(c: &Map<String, Value>, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (op_name, keys) in c {
        let (qualifier, operator, if_exists) = Operator::parse_full(op_name)
            .ok_or_else(|| PolicyError::InvalidOperator(op_name.clone()))?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::Syntax);
        };
        if keys.is_empty() {
            return Err(PolicyError::Syntax);
        }
        for (key, values) in keys {
            check_condition_key(key)?;
            let values = condition_values(values)?;
            let templates = values
                .iter()
                .map(|v| Template::parse(v, variables && operator.takes_variables()))
                .collect();
            out.push(Condition {
                qualifier,
                operator,
                if_exists,
                op_name: op_name.clone(),
                key: key.to_ascii_lowercase(),
                key_raw: key.clone(),
                values: templates,
            });
        }
    }
    Ok(out)
}

/// A condition key is `vendor:name` (`aws:username`, `dynamodb:LeadingKeys`).
fn check_condition_key(key: &str) -> Result<(), PolicyError> {
    match key.split_once(':') {
        Some((vendor, name))
            if !vendor.is_empty()
                && !name.is_empty()
                && vendor
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
        {
            Ok(())
        }
        _ => Err(PolicyError::MissingVendor),
    }
}

/// Condition values: strings, numbers or booleans, alone or in a list.
fn condition_values(v: &Value) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(PolicyError::Syntax),
        }
    }
    match v {
        Value::Array(list) if !list.is_empty() => list.iter().map(scalar).collect(),
        Value::Array(_) => Err(PolicyError::Syntax),
        other => Ok(vec![scalar(other)?]),
    }
}

fn print_statement(s: &Statement) -> Value {
    let mut m = Map::new();
    if let Some(sid) = &s.sid {
        m.insert("Sid".into(), Value::from(sid.as_str()));
    }
    m.insert(
        "Effect".into(),
        Value::from(match s.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }),
    );
    if let Some(p) = &s.principal {
        let name = if p.negated() {
            "NotPrincipal"
        } else {
            "Principal"
        };
        m.insert(name.into(), print_principals(p.items()));
    }
    let name = if s.action.negated() {
        "NotAction"
    } else {
        "Action"
    };
    let actions = s.action.items().iter().map(|a| Value::from(a.raw.as_str()));
    m.insert(name.into(), Value::Array(actions.collect()));
    let name = if s.resource.negated() {
        "NotResource"
    } else {
        "Resource"
    };
    let resources = s
        .resource
        .items()
        .iter()
        .map(|r| Value::from(r.raw.as_str()));
    m.insert(name.into(), Value::Array(resources.collect()));
    if !s.conditions.is_empty() {
        let mut ops: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        for c in &s.conditions {
            let values = c
                .values
                .iter()
                .map(|v| Value::from(v.raw.as_str()))
                .collect();
            ops.entry(c.op_name.as_str())
                .or_default()
                .insert(c.key_raw.clone(), Value::Array(values));
        }
        let ops = ops
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::Object(v)))
            .collect();
        m.insert("Condition".into(), Value::Object(ops));
    }
    Value::Object(m)
}

fn print_principals(ids: &[PrincipalId]) -> Value {
    if ids == [PrincipalId::Everyone] {
        return Value::from("*");
    }
    let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for id in ids {
        let (kind, text) = match id {
            PrincipalId::Everyone => ("AWS", "*".to_string()),
            PrincipalId::Account(a) => ("AWS", format!("arn:aws:iam::{a}:root")),
            PrincipalId::Arn(a) => ("AWS", a.clone()),
            PrincipalId::Other(k, v) => (k.as_str(), v.clone()),
        };
        by_kind.entry(kind).or_default().push(text);
    }
    let map = by_kind
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            v.dedup();
            (k.to_string(), Value::from(v))
        })
        .collect();
    Value::Object(map)
}
