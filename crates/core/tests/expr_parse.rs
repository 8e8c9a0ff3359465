//! Parser tests: DynamoDB's messages for syntax and semantic errors, and a
//! property test that printed trees parse back to themselves.

use std::collections::BTreeMap;

use openddb_core::expr::*;
use openddb_core::{AttributeValue, Number};
use proptest::prelude::*;

fn n(s: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(s).unwrap())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

/// Names `#a`..`#c` → `a`..`c`, `#status` → `status`; a set of values.
fn maps() -> (BTreeMap<String, String>, BTreeMap<String, AttributeValue>) {
    let mut names = BTreeMap::new();
    for (k, v) in [("#a", "a"), ("#b", "b"), ("#c", "c"), ("#status", "status")] {
        names.insert(k.to_string(), v.to_string());
    }
    let mut values = BTreeMap::new();
    values.insert(":s".to_string(), s("x"));
    values.insert(":n".to_string(), n("1"));
    values.insert(":ten".to_string(), n("10"));
    values.insert(":l".to_string(), AttributeValue::L(vec![s("x")]));
    values.insert(":m".to_string(), AttributeValue::M(BTreeMap::new()));
    values.insert(":ss".to_string(), AttributeValue::SS(vec!["x".into()]));
    values.insert(
        ":ns".to_string(),
        AttributeValue::NS(vec![Number::parse("1").unwrap()]),
    );
    values.insert(":bool".to_string(), AttributeValue::Bool(true));
    values.insert(":t".to_string(), s("SS"));
    values.insert(":badtype".to_string(), s("STRING"));
    (names, values)
}

fn condition_error(src: &str) -> String {
    let (names, values) = maps();
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    parse_condition(ExpressionKind::Condition, src, Some(&mut ph))
        .expect_err(src)
        .message
}

fn update_error(src: &str) -> String {
    let (names, values) = maps();
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    parse_update(src, Some(&mut ph)).expect_err(src).message
}

fn projection_error(src: &str) -> String {
    let (names, values) = maps();
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    parse_projection(src, Some(&mut ph)).expect_err(src).message
}

#[test]
fn syntax_errors_quote_token_and_neighbours() {
    let cases = [
        ("foo", "Syntax error; token: \"<EOF>\", near: \"foo\""),
        (
            "attribute_not_exists(",
            "Syntax error; token: \"<EOF>\", near: \"(\"",
        ),
        ("a = = :s", "Syntax error; token: \"=\", near: \"= = :s\""),
        ("a = :s b", "Syntax error; token: \"b\", near: \":s b\""),
        ("NOT (#a)", "Syntax error; token: \"<EOF>\", near: \")\""),
        (
            "a AND b = :s",
            "Syntax error; token: \"AND\", near: \"a AND b\"",
        ),
        ("a ~ :s", "Syntax error; token: \"~\", near: \"a ~ :s\""),
        ("(a = :s", "Syntax error; token: \"<EOF>\", near: \":s\""),
        ("a = :s)", "Syntax error; token: \")\", near: \":s)\""),
        (
            "a BETWEEN :s",
            "Syntax error; token: \"<EOF>\", near: \":s\"",
        ),
        ("a IN :s", "Syntax error; token: \":s\", near: \"IN :s\""),
        ("a[x] = :s", "Syntax error; token: \"x\", near: \"[x]\""),
        (
            "(a = :s) = :n",
            "Syntax error; token: \"=\", near: \") = :n\"",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(
            condition_error(src),
            format!("Invalid ConditionExpression: {want}"),
            "{src}"
        );
    }
    assert_eq!(
        update_error("INVALID SYNTAX HERE"),
        "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\""
    );
    assert_eq!(
        update_error("SET a = :s,"),
        "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\""
    );
    assert_eq!(
        update_error("SET a = :s b"),
        "Invalid UpdateExpression: Syntax error; token: \"b\", near: \":s b\""
    );
    assert_eq!(
        update_error("ADD a b"),
        "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\""
    );
    assert_eq!(
        projection_error("!!"),
        "Invalid ProjectionExpression: Syntax error; token: \"!\", near: \"!!\""
    );
    assert_eq!(
        projection_error("id age"),
        "Invalid ProjectionExpression: Syntax error; token: \"age\", near: \"id age\""
    );
    assert_eq!(
        projection_error("id,"),
        "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\""
    );
}

#[test]
fn empty_and_oversized_expressions() {
    assert_eq!(
        condition_error(""),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        update_error(""),
        "Invalid UpdateExpression: The expression can not be empty;"
    );
    let (names, values) = maps();
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    let err = parse_condition(ExpressionKind::KeyCondition, "", Some(&mut ph)).unwrap_err();
    assert_eq!(
        err.message,
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
    let long = format!("attribute_exists({})", "a".repeat(4080));
    assert_eq!(
        condition_error(&long),
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4098"
    );
}

#[test]
fn semantic_errors_in_conditions() {
    let cases = [
        ("status = :s", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("a.Name = :s", "Attribute name is a reserved keyword; reserved keyword: Name"),
        ("#zz = :s", "An expression attribute name used in the document path is not defined; attribute name: #zz"),
        ("a = :zz", "An expression attribute value used in expression is not defined; attribute value: :zz"),
        ("((a = :s))", "The expression has redundant parentheses;"),
        ("foo(a)", "Invalid function name; function: foo"),
        ("if_not_exists(a, :s) = :s", "The function is not allowed in a condition expression; function: if_not_exists"),
        ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
        ("attribute_exists(a) = :s", "The function is not allowed to be used this way in an expression; function: attribute_exists"),
        ("attribute_exists(a, b)", "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"),
        ("begins_with(a)", "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        ("attribute_exists(:s)", "Operator or function requires a document path; operator or function: attribute_exists"),
        ("begins_with(a, :n)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("begins_with(a, size(b))", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("size(:n) > :n", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
        ("attribute_type(a, :n)", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("attribute_type(a, :badtype)", "Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
        ("a = a", "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"),
        ("contains(a.b, a.b)", "The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a, b]"),
        ("a BETWEEN :ten AND :n", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}"),
        ("a BETWEEN :s AND :n", "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {S:x}, upper bound operand: AttributeValue: {N:1}"),
    ];
    for (src, want) in cases {
        assert_eq!(
            condition_error(src),
            format!("Invalid ConditionExpression: {want}"),
            "{src}"
        );
    }
    let many = format!("a IN ({})", vec![":s"; 101].join(", "));
    assert_eq!(
        condition_error(&many),
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
    let deep = format!("attribute_exists(a{})", ".b".repeat(32));
    assert_eq!(
        condition_error(&deep),
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33"
    );
}

#[test]
fn condition_error_precedence() {
    // Redundant parentheses outrank an unknown function, which outranks a
    // reserved word, which outranks an undefined placeholder.
    assert_eq!(
        condition_error("((foo(status) = :zz))"),
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
    assert_eq!(
        condition_error("foo(status) AND #zz = :s"),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        condition_error("#zz = :s AND status = :s"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        condition_error("a = :zz AND #zz = :s"),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :zz"
    );
}

#[test]
fn accepted_conditions() {
    let (names, values) = maps();
    for src in [
        "(attribute_not_exists(a)) AND (attribute_not_exists(#status))",
        "(attribute_not_exists(a) AND attribute_not_exists(#status))",
        "(attribute_not_exists(a) AND (attribute_not_exists(#status)))",
        "a.b[2].c = :s OR NOT b <> :n",
        "(a) = :s",
        "size(a) > :n and not contains(b, :s)",
        "a between :n AND :ten",
        "a in (:s, :n)",
        "attribute_type(a, :t)",
        "NOT NOT a = :s",
        "a   =:s",
    ] {
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        parse_condition(ExpressionKind::Filter, src, Some(&mut ph))
            .unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}

#[test]
fn precedence_of_not_and_or() {
    let c = parse_condition(
        ExpressionKind::Condition,
        "NOT a = :x AND b = :y OR c = :z",
        None,
    )
    .unwrap();
    let cmp = |p: &str, v: &str| {
        Condition::Compare(
            Operand::Path(DocumentPath::attribute(p)),
            Comparator::Eq,
            Operand::Value(ValueRef::Placeholder(v.into())),
        )
    };
    assert_eq!(
        c,
        Condition::or(
            Condition::and(Condition::not(cmp("a", ":x")), cmp("b", ":y")),
            cmp("c", ":z")
        )
    );
}

#[test]
fn semantic_errors_in_updates() {
    let cases = [
        ("SET a = :s SET b = :s", "The \"SET\" section can only be used once in an update expression;"),
        ("REMOVE a REMOVE b", "The \"REMOVE\" section can only be used once in an update expression;"),
        ("SET a = :s, a = :n", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        ("SET a = :s REMOVE a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("SET a.b = :s REMOVE a[1]", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"),
        ("SET status = :s", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("SET #zz = :s", "An expression attribute name used in the document path is not defined; attribute name: #zz"),
        ("SET a = :zz", "An expression attribute value used in expression is not defined; attribute value: :zz"),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
        ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
        ("SET a = attribute_exists(b)", "The function is not allowed in an update expression; function: attribute_exists"),
        ("SET a = list_append(:s, b)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"),
        ("SET a = list_append(b)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"),
        ("SET a = if_not_exists(:s, :s)", "Operator or function requires a document path; operator or function: if_not_exists"),
        ("SET a = b + :s", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        ("SET a = :l - b", "Incorrect operand type for operator or function; operator or function: -, operand type: L"),
        ("ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("ADD a :l", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("ADD a :m", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("DELETE a :n", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
        ("DELETE a :bool", "Incorrect operand type for operator or function; operator: DELETE, operand type: BOOLEAN, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
    ];
    for (src, want) in cases {
        assert_eq!(
            update_error(src),
            format!("Invalid UpdateExpression: {want}"),
            "{src}"
        );
    }
}

#[test]
fn accepted_updates() {
    let (names, values) = maps();
    for src in [
        "SET a = :s, b = b + :n REMOVE c[1], c[3] ADD d :ns DELETE e :ss",
        "set a = if_not_exists(a, :n) + :n",
        "SET #a.#b = list_append(if_not_exists(#a.#c, :l), :l)",
        "SET a = (:n + b)",
        "SET a[5] = :s",
        "ADD a :n, b :ss",
        "remove a, b.c",
    ] {
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        parse_update(src, Some(&mut ph)).unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}

#[test]
fn projection_errors() {
    assert_eq!(
        projection_error("a, a.b"),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        projection_error("a.b, a[0]"),
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"
    );
    assert_eq!(
        projection_error("name"),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        projection_error("#missing"),
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"
    );
}

#[test]
fn placeholders_resolve_and_unused_are_reported() {
    let (names, values) = maps();
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    let c = parse_condition(ExpressionKind::Condition, "#status = :s", Some(&mut ph)).unwrap();
    assert_eq!(
        c,
        Condition::Compare(
            Operand::Path(DocumentPath::attribute("status")),
            Comparator::Eq,
            Operand::Value(ValueRef::Literal(s("x")))
        )
    );
    let err = ph.check_unused().unwrap_err();
    assert_eq!(
        err.message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b, #c}"
    );

    let mut only = BTreeMap::new();
    only.insert(":v".to_string(), s("x"));
    only.insert(":unused".to_string(), s("y"));
    let mut ph = Placeholders::new(None, Some(&only));
    parse_update("SET attr1 = :v", Some(&mut ph)).unwrap();
    assert_eq!(
        ph.check_unused().unwrap_err().message,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    );

    // An undefined value with no map at all.
    let mut ph = Placeholders::empty();
    assert_eq!(
        parse_update("SET attr1 = :v", Some(&mut ph)).unwrap_err().message,
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v"
    );
}

#[test]
fn placeholder_map_checks() {
    let empty: BTreeMap<String, String> = BTreeMap::new();
    assert_eq!(
        validate_placeholder_maps(Some(&empty), None)
            .unwrap_err()
            .message,
        "ExpressionAttributeNames must not be empty"
    );
    let mut bad = BTreeMap::new();
    bad.insert("a".to_string(), "a".to_string());
    assert_eq!(
        validate_placeholder_maps(Some(&bad), None)
            .unwrap_err()
            .message,
        "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
    );
    let mut badv = BTreeMap::new();
    badv.insert("b".to_string(), s("x"));
    assert_eq!(
        validate_placeholder_maps(None, Some(&badv))
            .unwrap_err()
            .message,
        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"b\""
    );
    assert_eq!(
        check_placeholders_without_expressions(false, false, false, true)
            .unwrap_err()
            .message,
        "ExpressionAttributeValues can only be specified when using expressions"
    );
    assert_eq!(
        check_placeholders_without_expressions(false, false, true, false)
            .unwrap_err()
            .message,
        "ExpressionAttributeNames can only be specified when using expressions"
    );
}

#[test]
fn reserved_words() {
    assert_eq!(reserved::reserved_word_count(), 573);
    for w in ["status", "NAME", "Data", "count", "items", "zone", "abort"] {
        assert!(reserved::is_reserved(w), "{w}");
    }
    for w in ["pk", "attr1", "statuses", "my_name"] {
        assert!(!reserved::is_reserved(w), "{w}");
    }
}

// ---- round trip ----

fn name() -> impl Strategy<Value = PathElement> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,5}x"
            .prop_filter("not reserved", |s| !reserved::is_reserved(s))
            .prop_map(PathElement::Name),
        "#[a-z0-9_]{1,4}".prop_map(PathElement::Placeholder),
    ]
}

fn path() -> impl Strategy<Value = DocumentPath> {
    (
        name(),
        prop::collection::vec(
            prop_oneof![name(), (0u32..50).prop_map(PathElement::Index)],
            0..3,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut elements = vec![first];
            elements.extend(rest);
            DocumentPath::new(elements)
        })
}

fn value() -> impl Strategy<Value = ValueRef> {
    "[a-z0-9_]{1,4}".prop_map(|s| ValueRef::Placeholder(format!(":{s}")))
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        path().prop_map(Operand::Path),
        value().prop_map(Operand::Value),
        path().prop_map(|p| Operand::Size(Box::new(Operand::Path(p)))),
    ]
}

fn comparator() -> impl Strategy<Value = Comparator> {
    prop_oneof![
        Just(Comparator::Eq),
        Just(Comparator::Ne),
        Just(Comparator::Lt),
        Just(Comparator::Le),
        Just(Comparator::Gt),
        Just(Comparator::Ge),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    // Paths and values differ in kind, so no comparison has two equal paths.
    let leaf = prop_oneof![
        (path(), comparator(), value()).prop_map(|(a, c, b)| Condition::Compare(
            Operand::Path(a),
            c,
            Operand::Value(b)
        )),
        (operand(), value(), value()).prop_map(|(a, b, c)| Condition::Between(
            a,
            Operand::Value(b),
            Operand::Value(c)
        )),
        (path(), prop::collection::vec(value(), 1..4)).prop_map(|(a, l)| Condition::In(
            Operand::Path(a),
            l.into_iter().map(Operand::Value).collect()
        )),
        path().prop_map(Condition::AttributeExists),
        path().prop_map(Condition::AttributeNotExists),
        (path(), value()).prop_map(|(p, v)| Condition::AttributeType(p, Operand::Value(v))),
        (path(), value())
            .prop_map(|(p, v)| Condition::BeginsWith(Operand::Path(p), Operand::Value(v))),
        (path(), value())
            .prop_map(|(p, v)| Condition::Contains(Operand::Path(p), Operand::Value(v))),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(Condition::not),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Condition::and(a, b)),
            (inner.clone(), inner).prop_map(|(a, b)| Condition::or(a, b)),
        ]
    })
}

fn update_operand() -> impl Strategy<Value = UpdateOperand> {
    let leaf = prop_oneof![
        path().prop_map(UpdateOperand::Path),
        value().prop_map(UpdateOperand::Value),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (path(), inner.clone()).prop_map(|(p, o)| UpdateOperand::IfNotExists(p, Box::new(o))),
            (inner.clone(), inner)
                .prop_map(|(a, b)| UpdateOperand::ListAppend(Box::new(a), Box::new(b))),
        ]
    })
    .prop_filter("list_append is never an argument", |o| {
        !list_append_as_argument(o)
    })
}

fn list_append_as_argument(o: &UpdateOperand) -> bool {
    let is_list_append = |o: &UpdateOperand| matches!(o, UpdateOperand::ListAppend(..));
    match o {
        UpdateOperand::IfNotExists(_, x) => is_list_append(x) || list_append_as_argument(x),
        UpdateOperand::ListAppend(a, b) => [a, b]
            .iter()
            .any(|x| is_list_append(x) || list_append_as_argument(x)),
        _ => false,
    }
}

fn set_value() -> impl Strategy<Value = SetValue> {
    prop_oneof![
        update_operand().prop_map(SetValue::Operand),
        (update_operand(), update_operand()).prop_map(|(a, b)| SetValue::Plus(a, b)),
        (update_operand(), update_operand()).prop_map(|(a, b)| SetValue::Minus(a, b)),
    ]
}

fn update() -> impl Strategy<Value = UpdateExpression> {
    (
        prop::collection::vec((path(), set_value()), 0..3),
        prop::collection::vec(path(), 0..3),
        prop::collection::vec((path(), value()), 0..3),
        prop::collection::vec((path(), value()), 0..3),
        any::<bool>(),
    )
        .prop_filter_map(
            "at least one clause",
            |(set, remove, add, delete, reverse)| {
                let mut clauses = Vec::new();
                if !set.is_empty() {
                    clauses.push(UpdateClause::Set(set));
                }
                if !remove.is_empty() {
                    clauses.push(UpdateClause::Remove(remove));
                }
                if !add.is_empty() {
                    clauses.push(UpdateClause::Add(add));
                }
                if !delete.is_empty() {
                    clauses.push(UpdateClause::Delete(delete));
                }
                if reverse {
                    clauses.reverse();
                }
                (!clauses.is_empty()).then_some(UpdateExpression { clauses })
            },
        )
}

/// Whether any two written paths overlap or conflict (the parser rejects those).
fn paths_related(paths: &[DocumentPath]) -> bool {
    let related = |a: &DocumentPath, b: &DocumentPath| {
        for (x, y) in a.elements.iter().zip(&b.elements) {
            if matches!(x, PathElement::Index(_)) != matches!(y, PathElement::Index(_)) {
                return true;
            }
            if x != y {
                return false;
            }
        }
        true
    };
    paths
        .iter()
        .enumerate()
        .any(|(j, b)| paths[..j].iter().any(|a| related(a, b)))
}

proptest! {
    #[test]
    fn conditions_round_trip(c in condition()) {
        let text = c.to_string();
        let parsed = parse_condition(ExpressionKind::Condition, &text, None);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&c), "{} -> {:?}", text, parsed);
    }

    #[test]
    fn updates_round_trip(u in update()) {
        let written: Vec<DocumentPath> = u.actions().iter().map(|a| a.path().clone()).collect();
        prop_assume!(!paths_related(&written));
        let text = u.to_string();
        let parsed = parse_update(&text, None);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&u), "{} -> {:?}", text, parsed);
    }

    #[test]
    fn projections_round_trip(paths in prop::collection::vec(path(), 1..5)) {
        prop_assume!(!paths_related(&paths));
        let p = ProjectionExpression { paths };
        let text = p.to_string();
        let parsed = parse_projection(&text, None);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&p), "{} -> {:?}", text, parsed);
    }

    #[test]
    fn parser_never_panics(src in "[ -~]{0,60}") {
        let _ = parse_condition(ExpressionKind::Filter, &src, None);
        let _ = parse_update(&src, None);
        let _ = parse_projection(&src, None);
    }
}
