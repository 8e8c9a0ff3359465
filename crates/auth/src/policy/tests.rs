//! Table-driven tests of the language and the evaluator: each operator,
//! the absent-key and empty-set rules, variables, case rules, principals
//! and how identity and resource policies combine.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::Principal;

const TABLE: &str = "arn:aws:dynamodb:us-east-1:111111111111:table/Books";

fn alice() -> Principal {
    let mut tags = BTreeMap::new();
    tags.insert("Team".to_string(), "red".to_string());
    Principal {
        account_id: "111111111111".into(),
        arn: "arn:aws:iam::111111111111:user/alice".into(),
        user_name: "alice".into(),
        user_id: "AIDAALICE".into(),
        tags,
        policies: vec![],
    }
}

fn bob_elsewhere() -> Principal {
    Principal {
        account_id: "222222222222".into(),
        arn: "arn:aws:iam::222222222222:user/bob".into(),
        user_name: "bob".into(),
        user_id: "AIDABOB".into(),
        tags: BTreeMap::new(),
        policies: vec![],
    }
}

fn identity(doc: &str) -> Vec<Arc<Policy>> {
    vec![Arc::new(
        Policy::parse_kind(doc, PolicyKind::Identity).expect(doc),
    )]
}

/// An identity policy of one Allow statement on `*` with `condition`.
fn with_condition(condition: &str) -> Vec<Arc<Policy>> {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{condition}}}}}"#
    ))
}

fn decide(
    policies: &[Arc<Policy>],
    principal: &Principal,
    action: &str,
    resource: &str,
    ctx: &ContextKeys,
) -> Decision {
    let req = Request {
        principal,
        action,
        resource,
        context: ctx,
    };
    evaluate(policies, None, "111111111111", &req)
}

/// Context keys and their values, as a test writes them.
type Pairs<'a> = &'a [(&'a str, &'a [&'a str])];

fn ctx(pairs: Pairs) -> ContextKeys<'static> {
    let mut c = ContextKeys::new();
    for (k, v) in pairs {
        c.set(k, v.iter().map(|s| s.to_string()).collect());
    }
    c
}

fn allowed_with(condition: &str, context: &ContextKeys) -> bool {
    decide(
        &with_condition(condition),
        &alice(),
        "dynamodb:GetItem",
        TABLE,
        context,
    ) == Decision::Allow
}

#[test]
fn every_operator_on_present_and_absent_keys() {
    // (condition, context, allowed)
    let cases: &[(&str, Pairs, bool)] = &[
        (
            r#"{"StringEquals":{"k:s":"abc"}}"#,
            &[("k:s", &["abc"])],
            true,
        ),
        (
            r#"{"StringEquals":{"k:s":"abc"}}"#,
            &[("k:s", &["ABC"])],
            false,
        ),
        (
            r#"{"StringEquals":{"k:s":"a*"}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (
            r#"{"StringEquals":{"k:s":["x","abc"]}}"#,
            &[("k:s", &["abc"])],
            true,
        ),
        (r#"{"StringEquals":{"k:s":"abc"}}"#, &[], false),
        (
            r#"{"StringNotEquals":{"k:s":"abc"}}"#,
            &[("k:s", &["abd"])],
            true,
        ),
        (
            r#"{"StringNotEquals":{"k:s":"abc"}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (
            r#"{"StringNotEquals":{"k:s":["x","abc"]}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (r#"{"StringNotEquals":{"k:s":"abc"}}"#, &[], true),
        (
            r#"{"StringEqualsIgnoreCase":{"k:s":"ABC"}}"#,
            &[("k:s", &["abc"])],
            true,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"k:s":"ABC"}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (
            r#"{"StringLike":{"k:s":"a*c"}}"#,
            &[("k:s", &["abbc"])],
            true,
        ),
        (
            r#"{"StringLike":{"k:s":"a?c"}}"#,
            &[("k:s", &["abbc"])],
            false,
        ),
        (
            r#"{"StringLike":{"k:s":"A*"}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (
            r#"{"StringNotLike":{"k:s":"a*"}}"#,
            &[("k:s", &["bcd"])],
            true,
        ),
        (
            r#"{"StringNotLike":{"k:s":"a*"}}"#,
            &[("k:s", &["abc"])],
            false,
        ),
        (
            r#"{"NumericEquals":{"k:n":"10"}}"#,
            &[("k:n", &["10.0"])],
            true,
        ),
        (r#"{"NumericEquals":{"k:n":10}}"#, &[("k:n", &["10"])], true),
        (
            r#"{"NumericNotEquals":{"k:n":"10"}}"#,
            &[("k:n", &["11"])],
            true,
        ),
        (
            r#"{"NumericLessThan":{"k:n":"10"}}"#,
            &[("k:n", &["9"])],
            true,
        ),
        (
            r#"{"NumericLessThan":{"k:n":"10"}}"#,
            &[("k:n", &["10"])],
            false,
        ),
        (
            r#"{"NumericLessThanEquals":{"k:n":"10"}}"#,
            &[("k:n", &["10"])],
            true,
        ),
        (
            r#"{"NumericGreaterThan":{"k:n":"10"}}"#,
            &[("k:n", &["10.5"])],
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"k:n":"10"}}"#,
            &[("k:n", &["9.99"])],
            false,
        ),
        (
            r#"{"NumericEquals":{"k:n":"10"}}"#,
            &[("k:n", &["ten"])],
            false,
        ),
        (
            r#"{"DateGreaterThan":{"k:d":"2020-01-01T00:00:00Z"}}"#,
            &[("k:d", &["2021-06-01T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateLessThan":{"k:d":"2020-01-01T00:00:00Z"}}"#,
            &[("k:d", &["2021-06-01T00:00:00Z"])],
            false,
        ),
        (
            r#"{"DateEquals":{"k:d":"1970-01-02"}}"#,
            &[("k:d", &["86400"])],
            true,
        ),
        (
            r#"{"DateNotEquals":{"k:d":"1970-01-02"}}"#,
            &[("k:d", &["86400"])],
            false,
        ),
        (
            r#"{"DateLessThanEquals":{"k:d":"2020-01-01"}}"#,
            &[("k:d", &["2020-01-01T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateGreaterThanEquals":{"k:d":"2020-01-01"}}"#,
            &[("k:d", &["2019-12-31T23:59:59Z"])],
            false,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["true"])],
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":true}}"#,
            &[("aws:SecureTransport", &["false"])],
            false,
        ),
        (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, &[], false),
        (
            r#"{"BinaryEquals":{"k:b":"QmluYXJ5"}}"#,
            &[("k:b", &["QmluYXJ5"])],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.113.9"])],
            true,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.113.9"])],
            false,
        ),
        (
            r#"{"ArnEquals":{"k:a":"arn:aws:dynamodb:*:*:table/Books"}}"#,
            &[("k:a", &[TABLE])],
            true,
        ),
        (
            r#"{"ArnLike":{"k:a":"arn:aws:dynamodb:*:*:table/B*"}}"#,
            &[("k:a", &[TABLE])],
            true,
        ),
        (
            r#"{"ArnLike":{"k:a":"arn:aws:dynamodb:*:table/Books"}}"#,
            &[("k:a", &[TABLE])],
            false,
        ),
        (
            r#"{"ArnNotLike":{"k:a":"arn:aws:dynamodb:*:*:table/B*"}}"#,
            &[("k:a", &[TABLE])],
            false,
        ),
        (
            r#"{"ArnNotEquals":{"k:a":"arn:aws:s3:::*"}}"#,
            &[("k:a", &[TABLE])],
            true,
        ),
        (r#"{"Null":{"k:s":"true"}}"#, &[], true),
        (r#"{"Null":{"k:s":"true"}}"#, &[("k:s", &["x"])], false),
        (r#"{"Null":{"k:s":"false"}}"#, &[("k:s", &["x"])], true),
        (r#"{"Null":{"k:s":"false"}}"#, &[("k:s", &[])], false),
        // IfExists: absent is true, present is decided as usual.
        (r#"{"StringEqualsIfExists":{"k:s":"abc"}}"#, &[], true),
        (
            r#"{"StringEqualsIfExists":{"k:s":"abc"}}"#,
            &[("k:s", &["abd"])],
            false,
        ),
        (
            r#"{"NumericLessThanIfExists":{"k:n":"5"}}"#,
            &[("k:n", &["1"])],
            true,
        ),
        // Several keys in one operator, several operators: all must hold.
        (
            r#"{"StringEquals":{"k:a":"1","k:b":"2"}}"#,
            &[("k:a", &["1"]), ("k:b", &["2"])],
            true,
        ),
        (
            r#"{"StringEquals":{"k:a":"1","k:b":"2"}}"#,
            &[("k:a", &["1"]), ("k:b", &["3"])],
            false,
        ),
        (
            r#"{"StringEquals":{"k:a":"1"},"StringLike":{"k:b":"*"}}"#,
            &[("k:a", &["1"])],
            false,
        ),
    ];
    for (condition, context, want) in cases {
        assert_eq!(
            allowed_with(condition, &ctx(context)),
            *want,
            "{condition} with {context:?}"
        );
    }
}

#[test]
fn set_qualifiers_follow_aws() {
    let grant = r#"{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["alice"]}}"#;
    // The hole: ForAllValues over an absent key or an empty set is true.
    assert!(allowed_with(grant, &ctx(&[])));
    assert!(allowed_with(grant, &ctx(&[("dynamodb:LeadingKeys", &[])])));
    assert!(allowed_with(
        grant,
        &ctx(&[("dynamodb:LeadingKeys", &["alice", "alice"])])
    ));
    assert!(!allowed_with(
        grant,
        &ctx(&[("dynamodb:LeadingKeys", &["alice", "bob"])])
    ));
    // …closed by a Null check beside it.
    let closed = r#"{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["alice"]},"Null":{"dynamodb:LeadingKeys":"false"}}"#;
    assert!(!allowed_with(closed, &ctx(&[])));
    assert!(!allowed_with(
        closed,
        &ctx(&[("dynamodb:LeadingKeys", &[])])
    ));
    assert!(allowed_with(
        closed,
        &ctx(&[("dynamodb:LeadingKeys", &["alice"])])
    ));

    let any = r#"{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["a","b"]}}"#;
    assert!(!allowed_with(any, &ctx(&[])));
    assert!(allowed_with(
        any,
        &ctx(&[("dynamodb:Attributes", &["z", "b"])])
    ));
    assert!(!allowed_with(any, &ctx(&[("dynamodb:Attributes", &["z"])])));
    assert!(allowed_with(
        r#"{"ForAnyValue:StringEqualsIfExists":{"dynamodb:Attributes":"a"}}"#,
        &ctx(&[])
    ));
    // Negated set operators: every value / some value outside the list.
    let none_secret = r#"{"ForAllValues:StringNotEquals":{"dynamodb:Attributes":["secret"]}}"#;
    assert!(allowed_with(
        none_secret,
        &ctx(&[("dynamodb:Attributes", &["a", "b"])])
    ));
    assert!(!allowed_with(
        none_secret,
        &ctx(&[("dynamodb:Attributes", &["a", "secret"])])
    ));
    let some_other = r#"{"ForAnyValue:StringNotEquals":{"dynamodb:Attributes":["secret"]}}"#;
    assert!(allowed_with(
        some_other,
        &ctx(&[("dynamodb:Attributes", &["a", "secret"])])
    ));
    assert!(!allowed_with(
        some_other,
        &ctx(&[("dynamodb:Attributes", &["secret"])])
    ));
}

#[test]
fn a_bare_operator_on_several_values_is_any_match_and_its_negation_none() {
    let eq = r#"{"StringEquals":{"dynamodb:LeadingKeys":"alice"}}"#;
    assert!(allowed_with(
        eq,
        &ctx(&[("dynamodb:LeadingKeys", &["bob", "alice"])])
    ));
    assert!(!allowed_with(
        eq,
        &ctx(&[("dynamodb:LeadingKeys", &["bob", "carol"])])
    ));
    let ne = r#"{"StringNotEquals":{"dynamodb:LeadingKeys":"alice"}}"#;
    assert!(!allowed_with(
        ne,
        &ctx(&[("dynamodb:LeadingKeys", &["bob", "alice"])])
    ));
    assert!(allowed_with(
        ne,
        &ctx(&[("dynamodb:LeadingKeys", &["bob", "carol"])])
    ));
}

#[test]
fn condition_keys_ignore_case_values_do_not() {
    let c = r#"{"StringEquals":{"DYNAMODB:leadingkeys":"Alice"}}"#;
    assert!(allowed_with(
        c,
        &ctx(&[("dynamodb:LeadingKeys", &["Alice"])])
    ));
    assert!(!allowed_with(
        c,
        &ctx(&[("dynamodb:LeadingKeys", &["alice"])])
    ));
}

#[test]
fn actions_ignore_case_and_take_wildcards() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["DynamoDB:get*","dynamodb:Query"],"Resource":"*"}}"#,
    );
    let c = ContextKeys::new();
    for (action, want) in [
        ("dynamodb:GetItem", Decision::Allow),
        ("dynamodb:getitem", Decision::Allow),
        ("dynamodb:Query", Decision::Allow),
        ("dynamodb:PutItem", Decision::ImplicitDeny),
        ("s3:GetObject", Decision::ImplicitDeny),
    ] {
        assert_eq!(decide(&p, &alice(), action, TABLE, &c), want, "{action}");
    }
}

#[test]
fn not_action_and_not_resource() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"dynamodb:Delete*","NotResource":"arn:aws:dynamodb:*:*:table/Secret*"}}"#,
    );
    let c = ContextKeys::new();
    assert_eq!(
        decide(&p, &alice(), "dynamodb:GetItem", TABLE, &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &alice(), "dynamodb:DeleteItem", TABLE, &c),
        Decision::ImplicitDeny
    );
    let secret = "arn:aws:dynamodb:us-east-1:111111111111:table/Secrets";
    assert_eq!(
        decide(&p, &alice(), "dynamodb:GetItem", secret, &c),
        Decision::ImplicitDeny
    );
    // An explicit Deny wins over any Allow, in whichever policy.
    let mut both = p.clone();
    both.extend(identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:GetItem","Resource":"*"}}"#));
    assert_eq!(
        decide(&both, &alice(), "dynamodb:GetItem", TABLE, &c),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(&[], &alice(), "dynamodb:GetItem", TABLE, &c),
        Decision::ImplicitDeny
    );
}

#[test]
fn resources_match_per_arn_part_and_case_sensitively() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":["arn:aws:dynamodb:*:111111111111:table/Books","arn:aws:dynamodb:*:111111111111:table/Books/index/*"]}}"#,
    );
    let c = ContextKeys::new();
    for (resource, want) in [
        (TABLE, Decision::Allow),
        (
            "arn:aws:dynamodb:us-east-1:111111111111:table/Books/index/ByAuthor",
            Decision::Allow,
        ),
        (
            "arn:aws:dynamodb:us-east-1:111111111111:table/books",
            Decision::ImplicitDeny,
        ),
        (
            "arn:aws:dynamodb:us-east-1:111111111111:table/Books/stream/2024",
            Decision::ImplicitDeny,
        ),
        (
            "arn:aws:dynamodb:us-east-1:222222222222:table/Books",
            Decision::ImplicitDeny,
        ),
    ] {
        assert_eq!(
            decide(&p, &alice(), "dynamodb:GetItem", resource, &c),
            want,
            "{resource}"
        );
    }
}

#[test]
fn policy_variables_resolve_from_the_principal() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}-*"},
        {"Effect":"Allow","Action":"dynamodb:Query","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:userid}","${aws:PrincipalTag/team}"]}}},
        {"Effect":"Allow","Action":"dynamodb:Scan","Resource":"arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/missing, 'shared'}"},
        {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/missing}"},
        {"Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":"arn:aws:dynamodb:*:*:table/literal${*}"}
    ]}"#,
    );
    let c = ContextKeys::new();
    let t = |name: &str| format!("arn:aws:dynamodb:us-east-1:111111111111:table/{name}");
    assert_eq!(
        decide(&p, &alice(), "dynamodb:GetItem", &t("alice-notes"), &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &alice(), "dynamodb:GetItem", &t("bob-notes"), &c),
        Decision::ImplicitDeny
    );
    let keys = |k: &[&str]| ctx(&[("dynamodb:LeadingKeys", k)]);
    assert_eq!(
        decide(
            &p,
            &alice(),
            "dynamodb:Query",
            TABLE,
            &keys(&["AIDAALICE", "red"])
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &alice(), "dynamodb:Query", TABLE, &keys(&["AIDABOB"])),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&p, &alice(), "dynamodb:Scan", &t("shared"), &c),
        Decision::Allow
    );
    // A variable without a value and without a default matches nothing.
    assert_eq!(
        decide(
            &p,
            &alice(),
            "dynamodb:PutItem",
            &t("${aws:PrincipalTag/missing}"),
            &c
        ),
        Decision::ImplicitDeny
    );
    // ${*} is a literal star, not a wildcard.
    assert_eq!(
        decide(&p, &alice(), "dynamodb:DeleteItem", &t("literal*"), &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &alice(), "dynamodb:DeleteItem", &t("literalX"), &c),
        Decision::ImplicitDeny
    );
}

#[test]
fn the_principal_keys_cannot_be_forged_through_the_context() {
    let p = with_condition(
        r#"{"StringEquals":{"aws:username":"root-admin","aws:PrincipalTag/role":"admin"}}"#,
    );
    let forged = ctx(&[
        ("aws:username", &["root-admin"]),
        ("aws:PrincipalTag/role", &["admin"]),
    ]);
    assert_eq!(
        decide(&p, &alice(), "dynamodb:GetItem", TABLE, &forged),
        Decision::ImplicitDeny
    );
}

#[test]
fn global_keys_come_from_the_principal_and_the_clock() {
    assert!(allowed_with(
        r#"{"StringEquals":{"aws:PrincipalAccount":"111111111111","aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice","aws:PrincipalTag/TEAM":"red","aws:PrincipalType":"User"}}"#,
        &ctx(&[])
    ));
    assert!(allowed_with(
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"NumericGreaterThan":{"aws:EpochTime":"1577836800"}}"#,
        &ctx(&[])
    ));
    // A caller (a test) may fix the time.
    let fixed = ctx(&[("aws:CurrentTime", &["2019-06-01T00:00:00Z"])]);
    assert!(!allowed_with(
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#,
        &fixed
    ));
}

#[test]
fn version_2008_leaves_variables_literal() {
    let p = identity(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}"}}"#,
    );
    let c = ContextKeys::new();
    assert_eq!(
        decide(
            &p,
            &alice(),
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111111111111:table/alice",
            &c
        ),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(
            &p,
            &alice(),
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111111111111:table/${aws:username}",
            &c
        ),
        Decision::Allow
    );
}

fn resource_policy(doc: &str) -> Policy {
    Policy::parse_kind(doc, PolicyKind::Resource).expect(doc)
}

fn decide_with_resource(identity: &[Arc<Policy>], resource: &Policy, who: &Principal) -> Decision {
    let c = ContextKeys::new();
    let req = Request {
        principal: who,
        action: "dynamodb:GetItem",
        resource: TABLE,
        context: &c,
    };
    evaluate(identity, Some(resource), "111111111111", &req)
}

#[test]
fn same_account_either_policy_allows() {
    let by_arn = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"dynamodb:GetItem","Resource":"*"}}"#,
    );
    assert_eq!(
        decide_with_resource(&[], &by_arn, &alice()),
        Decision::Allow
    );
    // Naming the account delegates to identity policies.
    let by_account = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"dynamodb:GetItem","Resource":"*"}}"#,
    );
    assert_eq!(
        decide_with_resource(&[], &by_account, &alice()),
        Decision::ImplicitDeny
    );
    let allow_all = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#,
    );
    assert_eq!(
        decide_with_resource(&allow_all, &by_account, &alice()),
        Decision::Allow
    );
    // A Deny in the resource policy wins.
    let deny = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"dynamodb:Get*","Resource":"*"}}"#,
    );
    assert_eq!(
        decide_with_resource(&allow_all, &deny, &alice()),
        Decision::ExplicitDeny
    );
}

#[test]
fn cross_account_needs_both_policies() {
    let allow_all = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#,
    );
    let grants_bob = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:user/bob"]},"Action":"dynamodb:GetItem","Resource":"*"}}"#,
    );
    let grants_account = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"dynamodb:GetItem","Resource":"*"}}"#,
    );
    let grants_other = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"dynamodb:GetItem","Resource":"*"}}"#,
    );
    let bob = bob_elsewhere();
    assert_eq!(
        decide_with_resource(&allow_all, &grants_bob, &bob),
        Decision::Allow
    );
    assert_eq!(
        decide_with_resource(&allow_all, &grants_account, &bob),
        Decision::Allow
    );
    assert_eq!(
        decide_with_resource(&[], &grants_bob, &bob),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide_with_resource(&allow_all, &grants_other, &bob),
        Decision::ImplicitDeny
    );
    // No resource policy: a foreign identity policy alone never reaches in.
    let c = ContextKeys::new();
    let req = Request {
        principal: &bob,
        action: "dynamodb:GetItem",
        resource: TABLE,
        context: &c,
    };
    assert_eq!(
        evaluate(&allow_all, None, "111111111111", &req),
        Decision::ImplicitDeny
    );
}

#[test]
fn not_principal_covers_everyone_else() {
    let p = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"*","Resource":"*"}}"#,
    );
    let allow_all = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#,
    );
    assert_eq!(
        decide_with_resource(&allow_all, &p, &alice()),
        Decision::Allow
    );
    let mut carol = alice();
    carol.arn = "arn:aws:iam::111111111111:user/carol".into();
    assert_eq!(
        decide_with_resource(&allow_all, &p, &carol),
        Decision::ExplicitDeny
    );
}

#[test]
fn a_resource_policy_statement_without_principal_is_refused() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#;
    assert_eq!(
        Policy::parse_kind(doc, PolicyKind::Resource),
        Err(PolicyError::MissingField("Principal"))
    );
    let with = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"*"}}"#;
    assert_eq!(
        Policy::parse_kind(with, PolicyKind::Identity),
        Err(PolicyError::PrincipalNotAllowed)
    );
}

#[test]
fn malformed_documents_get_iam_messages() {
    let cases: &[(&str, &str)] = &[
        ("{not json", "This policy contains invalid Json"),
        ("", "This policy contains invalid Json"),
        ("[]", "Syntax errors in policy."),
        (
            r#"{"Version":"2012-10-17"}"#,
            "Missing required field Statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "Could not parse the policy: Statement is empty!",
        ),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            "The policy must contain a valid version string",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Action":"a:b","Resource":"*"}}"#,
            "Missing required field Effect",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"a:b","Resource":"*"}}"#,
            "Invalid effect: allow",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetItem","Resource":"*"}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b"}}"#,
            "Missing required field Resource",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"table/x"}}"#,
            "Resource table/x must be in ARN format or \"*\".",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"a:b","Resource":"*"}]}"#,
            "The Statement Ids in the policy are not unique",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#,
            "Invalid condition operator: StringEqualz",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"nokey":"c"}}}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"a:b":{"c":1}}}}}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"123456789012","Action":"a:b","Resource":"*"}}"#,
            "Invalid principal in policy",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"a:b","Resource":"*"}}"#,
            "Invalid principal in policy",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Extra":1}}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","NotAction":"a:c","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
    ];
    for (doc, message) in cases {
        assert_eq!(
            Policy::parse(doc).unwrap_err().to_string(),
            *message,
            "{doc}"
        );
    }
    let deep = "[".repeat(100_000);
    assert_eq!(Policy::parse(&deep).unwrap_err(), PolicyError::InvalidJson);
    let big = format!(r#"{{"Id":"{}"}}"#, "x".repeat(MAX_POLICY_BYTES));
    assert_eq!(Policy::parse(&big).unwrap_err(), PolicyError::TooLarge);
}

#[test]
fn equivalent_documents_print_the_same() {
    let a = Policy::parse(
        r#"{
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"},
                       "Action": ["dynamodb:GetItem"], "Resource": "*"}]
    }"#,
    )
    .unwrap();
    let b = Policy::parse(r#"{"Statement":{"Resource":["*"],"Action":"dynamodb:GetItem","Principal":{"AWS":["arn:aws:iam::111111111111:root"]},"Effect":"Allow"},"Version":"2012-10-17"}"#).unwrap();
    assert_eq!(a.to_canonical_json(), b.to_canonical_json());
    let c = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"dynamodb:PutItem","Resource":"*"}}"#).unwrap();
    assert_ne!(a.to_canonical_json(), c.to_canonical_json());
}

#[test]
fn unconditional_wildcard_grants_are_recognised() {
    let open = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"dynamodb:*","Resource":"*"}}"#).unwrap();
    assert!(open.allows_everyone_unconditionally());
    let conditioned = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"1"}}}}"#).unwrap();
    assert!(!conditioned.allows_everyone_unconditionally());
    let deny = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*"}}"#).unwrap();
    assert!(!deny.allows_everyone_unconditionally());
}

// ---------------------------------------------------------------------------
// Properties: any text parses or is refused without a panic; printed
// policies parse back to the same print; evaluation never panics.

fn json_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"*\"".to_string()),
        "\"[a-zA-Z:*?/${}' ,.-]{0,24}\"".prop_map(|s| s),
        (0i64..1000).prop_map(|n| n.to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
    ]
}

fn json_list() -> impl Strategy<Value = String> {
    prop_oneof![
        json_scalar(),
        prop::collection::vec(json_scalar(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
    ]
}

fn operator() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("StringEquals"),
        Just("StringNotLike"),
        Just("ForAllValues:StringLike"),
        Just("ForAnyValue:StringEqualsIfExists"),
        Just("NumericLessThan"),
        Just("DateGreaterThan"),
        Just("Bool"),
        Just("Null"),
        Just("ArnLike"),
        Just("IpAddress"),
        Just("Bogus"),
    ]
    .prop_map(str::to_string)
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("Allow"), Just("Deny"), Just("allow")],
        prop_oneof![Just("Action"), Just("NotAction")],
        prop_oneof![
            Just("\"*\"".to_string()),
            Just("\"dynamodb:*\"".to_string()),
            "\"dynamodb:[A-Za-z*?]{1,10}\"".prop_map(|s| s),
            json_list()
        ],
        prop_oneof![Just("Resource"), Just("NotResource")],
        prop_oneof![
            Just("\"*\"".to_string()),
            "\"arn:aws:dynamodb:[a-z0-9*-]{0,9}:[0-9*]{0,12}:table/[A-Za-z*?${}:/]{0,16}\""
                .prop_map(|s| s),
            json_list()
        ],
        prop::option::of((operator(), "[a-z]{1,5}:[A-Za-z/]{1,10}", json_list())),
        prop::option::of(prop_oneof![
            Just("\"*\"".to_string()),
            Just("{\"AWS\":\"111111111111\"}".to_string()),
            Just("{\"AWS\":[\"arn:aws:iam::222222222222:user/bob\"]}".to_string()),
            json_list()
        ]),
    )
        .prop_map(|(effect, a, actions, r, resources, cond, principal)| {
            let mut s = format!(r#"{{"Effect":"{effect}","{a}":{actions},"{r}":{resources}"#);
            if let Some((op, key, values)) = cond {
                s.push_str(&format!(r#","Condition":{{"{op}":{{"{key}":{values}}}}}"#));
            }
            if let Some(p) = principal {
                s.push_str(&format!(r#","Principal":{p}"#));
            }
            s.push('}');
            s
        })
}

fn document() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("\"2012-10-17\""), Just("\"2008-10-17\""), Just("1")],
        prop::collection::vec(statement(), 0..4),
    )
        .prop_map(|(v, s)| format!(r#"{{"Version":{v},"Statement":[{}]}}"#, s.join(",")))
}

fn arbitrary_context() -> impl Strategy<Value = ContextKeys<'static>> {
    prop::collection::vec(
        (
            "[a-z]{1,5}:[A-Za-z/]{1,10}",
            prop::collection::vec("[ -~]{0,12}", 0..3),
        ),
        0..4,
    )
    .prop_map(|pairs| {
        let mut c = ContextKeys::new();
        for (k, v) in pairs {
            c.set(&k, v);
        }
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_parses_or_is_refused(text in "[ -~]{0,200}") {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn printed_policies_parse_back_the_same(doc in document()) {
        if let Ok(p) = Policy::parse(&doc) {
            let printed = p.to_canonical_json();
            let again = Policy::parse(&printed).expect(&printed);
            prop_assert_eq!(again.to_canonical_json(), printed);
        }
    }

    #[test]
    fn evaluation_never_panics(
        doc in document(),
        action in "[a-zA-Z:*]{0,20}",
        resource in "(arn:aws:dynamodb:us-east-1:111111111111:table/[A-Za-z*]{0,8})|[ -~]{0,20}",
        context in arbitrary_context(),
    ) {
        if let Ok(p) = Policy::parse(&doc) {
            let p = Arc::new(p);
            let req = Request { principal: &alice(), action: &action, resource: &resource, context: &context };
            let _ = evaluate(std::slice::from_ref(&p), Some(&p), "111111111111", &req);
            let req = Request { principal: &bob_elsewhere(), action: &action, resource: &resource, context: &context };
            let _ = evaluate(std::slice::from_ref(&p), Some(&p), "111111111111", &req);
        }
    }
}
