//! DynamoDB's validation messages for typical mistakes, through the wire
//! path (`Database::dispatch`), in both storage modes. Expected strings are
//! what real DynamoDB answers today (June-2026 wording: PutItem, UpdateItem
//! and DeleteItem wrap request-level and value-level problems in
//! `1 validation error detected: `, GetItem does not; key-shape problems and
//! "part of the key" stay bare).

#[macro_use]
mod common;

use common::*;
use openddb_core::ErrorKind;
use openddb_engine::Database;
use serde_json::{json, Value};

const V: ErrorKind = ErrorKind::ValidationException;

async fn setup(db: &Database) {
    create_hash_table(db, "hash").await;
    create_composite_table(db, "composite").await;
    db.create_table(binary_table_input("binary"))
        .await
        .expect("create binary table");
}

async fn check(db: &Database, cases: Vec<(&str, Value, ErrorKind, String)>) {
    let mut failures = Vec::new();
    for (op, body, kind, message) in cases {
        match wire(db, op, body.clone()).await {
            Ok(v) => failures.push(format!("{op} {body}\n  accepted: {v}")),
            Err(e) if e.kind != kind || e.message != message => failures.push(format!(
                "{op} {body}\n  expected {kind:?}: {message}\n  got      {:?}: {}",
                e.kind, e.message
            )),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn put_with(attr: Value) -> Value {
    json!({"TableName": "hash", "Item": {"pk": {"S": "k"}, "a": attr}})
}

/// `n` map levels around a scalar: the attribute itself is level 1.
fn nested(levels: usize) -> Value {
    let mut v = json!({"S": "leaf"});
    for _ in 0..levels {
        v = json!({"M": {"a": v}});
    }
    v
}

both_modes! {
    async fn put_item_request_messages(db) {
        setup(db).await;
        let long = "a".repeat(256);
        let three_bad_enums = "3 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATE_NEW, NONE]; Value 'INVALID' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]";
        check(db, vec![
            ("PutItem", json!({"Item": {"pk": {"S": "k"}}}), V,
             "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into()),
            ("PutItem", json!({"TableName": "", "Item": {}}), V,
             "1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1".into()),
            ("PutItem", json!({"TableName": "", "Item": {}, "ReturnValues": "INVALID"}), V,
             "1 validation error detected: Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1".into()),
            ("PutItem", json!({"TableName": long, "Item": {"pk": {"S": "k"}}}), V,
             format!("1 validation error detected: Value '{long}' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255")),
            ("PutItem", json!({"TableName": "bad table!@#", "Item": {"pk": {"S": "k"}}}), V,
             "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".into()),
            ("PutItem", json!({"TableName": "absent_table", "Item": {"pk": {"S": "k"}},
                "ReturnConsumedCapacity": "INVALID", "ReturnItemCollectionMetrics": "INVALID", "ReturnValues": "INVALID"}), V,
             three_bad_enums.into()),
            ("PutItem", json!({"TableName": "absent_table", "Item": {"pk": {"S": "k"}}}),
             ErrorKind::ResourceNotFoundException, "Requested resource not found".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "Expected": {"a": {"Exists": false}}, "ConditionExpression": "attribute_exists(pk)"}), V,
             "1 validation error detected: Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             "1 validation error detected: ExpressionAttributeValues can only be specified when using expressions".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ExpressionAttributeNames": {"#n": "x"}}), V,
             "1 validation error detected: ExpressionAttributeNames can only be specified when using expressions".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}}, "ConditionExpression": ""}), V,
             "1 validation error detected: Invalid ConditionExpression: The expression can not be empty;".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ConditionExpression": "((attribute_not_exists(pk)))"}), V,
             "1 validation error detected: Invalid ConditionExpression: The expression has redundant parentheses;".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ConditionExpression": "contains(#a, #a)", "ExpressionAttributeNames": {"#a": "data"}}), V,
             "1 validation error detected: Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [data]".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ConditionExpression": "status = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             "1 validation error detected: Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ConditionExpression": "a = :v AND b = :w", "ExpressionAttributeValues": {":w": {"S": "x"}}}), V,
             "1 validation error detected: Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "ConditionExpression": "attribute_exists(a)", "ExpressionAttributeValues": {}}), V,
             "1 validation error detected: ExpressionAttributeValues must not be empty".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "Expected": {"a": {"Exists": true}}}), V,
             "1 validation error detected: One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}},
                "Expected": {"a": {"ComparisonOperator": "EQ"}}}), V,
             "1 validation error detected: One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}}, "ReturnValues": "ALL_NEW"}), V,
             "1 validation error detected: ReturnValues can only be ALL_OLD or NONE".into()),
        ]).await;
    }

    async fn put_item_key_messages_are_bare(db) {
        setup(db).await;
        check(db, vec![
            ("PutItem", json!({"TableName": "hash", "Item": {"notTheKey": {"S": "k"}}}), V,
             "One or more parameter values were invalid: Missing the key pk in the item".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"N": "1"}}}), V,
             "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N".into()),
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": ""}}}), V,
             "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("PutItem", json!({"TableName": "binary", "Item": {"pk": {"B": ""}}}), V,
             "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk".into()),
            ("PutItem", json!({"TableName": "composite", "Item": {"pk": {"S": "k"}}}), V,
             "One or more parameter values were invalid: Missing the key sk in the item".into()),
        ]).await;
    }

    async fn put_item_value_messages(db) {
        setup(db).await;
        let e = "1 validation error detected: ";
        let p = "One or more parameter values were invalid: ";
        check(db, vec![
            ("PutItem", put_with(json!({"SS": []})), V, format!("{e}{p}An string set  may not be empty")),
            ("PutItem", put_with(json!({"NS": []})), V, format!("{e}{p}An number set  may not be empty")),
            ("PutItem", put_with(json!({"BS": []})), V, format!("{e}{p}Binary sets should not be empty")),
            ("PutItem", put_with(json!({"SS": ["a", "a"]})), V, format!("{e}{p}Input collection [\"a\", \"a\"] contains duplicates.")),
            ("PutItem", put_with(json!({"SS": ["b", "a", "b"]})), V, format!("{e}{p}Input collection [\"a\", \"b\", \"b\"] contains duplicates.")),
            ("PutItem", put_with(json!({"NS": ["2", "1", "2"]})), V, format!("{e}{p}Input collection contains duplicates.")),
            ("PutItem", put_with(json!({"BS": ["/w==", "AA==", "AA=="]})), V,
             format!("{e}{p}Input collection [\"AA==\",\"/w==\",\"AA==\"]of type BS contains duplicates.")),
            ("PutItem", put_with(json!({"NULL": false})), V, format!("{e}{p}Null attribute value types must have the value of true")),
            ("PutItem", put_with(json!({"NS": [""]})), V, format!("{e}The parameter cannot be converted to a numeric value: ")),
            ("PutItem", put_with(json!({"N": "abc"})), V, format!("{e}The parameter cannot be converted to a numeric value: abc")),
            ("PutItem", put_with(json!({"N": "1e126"})), V,
             format!("{e}Number overflow. Attempting to store a number with magnitude larger than supported range")),
            ("PutItem", put_with(json!({"N": "1e-131"})), V,
             format!("{e}Number underflow. Attempting to store a number with magnitude smaller than supported range")),
            ("PutItem", put_with(json!({"N": "1234567890123456789012345678901234567890"})), V,
             format!("{e}Attempting to store more than 38 significant digits in a Number")),
            ("PutItem", put_with(nested(32)), V,
             format!("{e}Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")),
        ]).await;
    }

    async fn put_item_value_problems_are_refused(db) {
        // The same cases as `put_item_value_messages`, checked only for the
        // error kind and the message body (envelope aside), and that nothing
        // was written.
        setup(db).await;
        let cases: Vec<(Value, &str)> = vec![
            (json!({"SS": []}), "An string set  may not be empty"),
            (json!({"NS": []}), "An number set  may not be empty"),
            (json!({"BS": []}), "Binary sets should not be empty"),
            (json!({"SS": ["a", "a"]}), "contains duplicates."),
            (json!({"NULL": false}), "Null attribute value types must have the value of true"),
            (json!({"N": "abc"}), "The parameter cannot be converted to a numeric value: abc"),
            (json!({"N": "1e126"}), "Number overflow. Attempting to store a number with magnitude larger than supported range"),
            (json!({"N": "1e-131"}), "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
            (json!({"N": "1234567890123456789012345678901234567890"}), "Attempting to store more than 38 significant digits in a Number"),
            (nested(32), "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"),
        ];
        for (attr, ending) in cases {
            let e = wire(db, "PutItem", put_with(attr.clone())).await.expect_err("refused");
            assert_eq!(e.kind, V, "{attr}: {}", e.message);
            assert!(e.message.ends_with(ending), "{attr}: {}", e.message);
        }
        assert_eq!(stats(db, "hash").await, (0, 0));
        // The deepest accepted nesting and the extreme numbers are fine.
        for attr in [nested(31), json!({"N": "1e-130"}), json!({"N": "9.9999999999999999999999999999999999999E+125"}),
                     json!({"SS": [""]}), json!({"BS": [""]})] {
            wire(db, "PutItem", put_with(attr.clone())).await.unwrap_or_else(|e| panic!("{attr}: {e}"));
        }
    }

    async fn update_item_messages(db) {
        setup(db).await;
        let e = "1 validation error detected: ";
        check(db, vec![
            ("UpdateItem", json!({"TableName": "", "Key": {}}), V,
             format!("{e}Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1")),
            ("UpdateItem", json!({"TableName": "x!", "Key": {}}), V,
             format!("{e}Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")),
            ("UpdateItem", json!({"TableName": "absent_table", "Key": {"pk": {"S": "k"}},
                "ReturnValues": "INVALID", "ReturnConsumedCapacity": "INVALID"}), V,
             format!("{e}Failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATE_NEW, NONE]")),
            ("UpdateItem", json!({"TableName": "", "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             "2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'key' failed to satisfy constraint: Member must not be null".into()),
            ("UpdateItem", json!({"TableName": "absent_table", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}}}),
             ErrorKind::ResourceNotFoundException, "Requested resource not found".into()),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "INVALID SYNTAX HERE",
                "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             format!("{e}Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                "ExpressionAttributeNames": {"#unused": "x"}, "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             format!("{e}Value provided in ExpressionAttributeNames unused in expressions: keys: {{#unused}}")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}, ":unused": {"S": "y"}}}), V,
             format!("{e}Value provided in ExpressionAttributeValues unused in expressions: keys: {{:unused}}")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET attr1 = :v"}), V,
             format!("{e}Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET b = :w",
                "ConditionExpression": "a = :v", "ExpressionAttributeValues": {":w": {"S": "x"}}}), V,
             format!("{e}Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET data = :v",
                "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"S": "x"}}}, "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             format!("{e}Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{AttributeUpdates}} Expression parameters: {{UpdateExpression}}")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": ""}), V,
             format!("{e}Invalid UpdateExpression: The expression can not be empty;")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET status = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             format!("{e}Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status")),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET pk = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key".into()),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}},
                "AttributeUpdates": {"pk": {"Action": "PUT", "Value": {"S": "x"}}}}), V,
             "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key".into()),
            ("UpdateItem", json!({"TableName": "composite", "Key": {"pk": {"S": "k"}}}), V,
             "The provided key element does not match the schema".into()),
            ("UpdateItem", json!({"TableName": "binary", "Key": {"pk": {"B": ""}}}), V,
             "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk".into()),
            ("UpdateItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                "ExpressionAttributeValues": {":v": nested(32)}}), V,
             format!("{e}Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")),
        ]).await;
        assert_eq!(stats(db, "hash").await, (0, 0));
    }

    async fn enum_lists_in_dynamodb_order(db) {
        setup(db).await;
        check(db, vec![
            ("PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}}, "ConditionalOperator": "XOR"}), V,
             "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]".into()),
            ("UpdateItem", json!({"TableName": "hash", "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"S": "x"}}},
                "Expected": {"a": {"Exists": false}, "b": {"Exists": false}}, "ConditionalOperator": "XOR"}), V,
             "2 validation errors detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]; Value null at 'key' failed to satisfy constraint: Member must not be null".into()),
            ("UpdateItem", json!({"TableName": "", "ReturnConsumedCapacity": "INVALID", "ReturnValues": "INVALID"}), V,
             "4 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'INVALID' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value null at 'key' failed to satisfy constraint: Member must not be null".into()),
        ]).await;
    }

    async fn delete_item_messages(db) {
        setup(db).await;
        let e = "1 validation error detected: ";
        let p = "One or more parameter values were invalid: ";
        let key = json!({"pk": {"S": "k"}});
        check(db, vec![
            ("DeleteItem", json!({"TableName": "", "Key": {}}), V,
             format!("{e}Value at 'TableName' failed to satisfy constraint: Member must have length greater than or equal to 1")),
            ("DeleteItem", json!({"TableName": "absent_table", "Key": key, "ReturnValues": "INVALID", "ReturnConsumedCapacity": "INVALID"}), V,
             "2 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATE_NEW, NONE]".into()),
            ("DeleteItem", json!({"TableName": "absent_table", "Key": key}),
             ErrorKind::ResourceNotFoundException, "Requested resource not found".into()),
            ("DeleteItem", json!({"TableName": "composite", "Key": key}), V,
             "The provided key element does not match the schema".into()),
            ("DeleteItem", json!({"TableName": "hash", "Key": {"pk": {"S": ""}}}), V,
             "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("DeleteItem", json!({"TableName": "hash", "Key": {"pk": {"N": "1"}}}), V,
             "The provided key element does not match the schema".into()),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "Expected": {"a": {"Exists": false}},
                "ConditionExpression": "attribute_exists(a)"}), V,
             format!("{e}Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{Expected}} Expression parameters: {{ConditionExpression}}")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ExpressionAttributeValues": {":v": {"S": "x"}}}), V,
             format!("{e}ExpressionAttributeValues can only be specified when using expressions")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ExpressionAttributeNames": {"#n": "x"}}), V,
             format!("{e}ExpressionAttributeNames can only be specified when using expressions")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "Expected": {"a": {"Exists": false}}, "ExpressionAttributeNames": {"#n": "x"}}), V,
             format!("{e}ExpressionAttributeNames can only be specified when using expressions")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ConditionExpression": "attribute_exists(a)", "ExpressionAttributeValues": {}}), V,
             format!("{e}ExpressionAttributeValues must not be empty")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ConditionExpression": "attribute_exists(a)", "ExpressionAttributeNames": {}}), V,
             format!("{e}ExpressionAttributeNames must not be empty")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ConditionExpression": ""}), V,
             format!("{e}Invalid ConditionExpression: The expression can not be empty;")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ReturnValues": "ALL_NEW"}), V,
             format!("{e}ReturnValues can only be ALL_OLD or NONE")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "ReturnValues": "UPDATED_NEW"}), V,
             format!("{e}ReturnValues can only be ALL_OLD or NONE")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "Expected": {"a": {"Exists": true}}}), V,
             format!("{e}{p}Value must be provided when Exists is true for Attribute: a")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "Expected": {"a": {"Exists": false, "Value": {"S": "x"}}}}), V,
             format!("{e}{p}Value cannot be used when Exists is false for Attribute: a")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key,
                "Expected": {"a": {"Value": {"S": "x"}, "AttributeValueList": [{"S": "x"}], "ComparisonOperator": "EQ"}}}), V,
             format!("{e}{p}Value and AttributeValueList cannot be used together for Attribute: a")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key, "Expected": {"a": {"ComparisonOperator": "EQ"}}}), V,
             format!("{e}{p}Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a")),
            ("DeleteItem", json!({"TableName": "hash", "Key": key,
                "Expected": {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}}}), V,
             format!("{e}{p}Invalid number of argument(s) for the BETWEEN ComparisonOperator")),
        ]).await;
    }

    async fn get_item_messages_are_bare(db) {
        setup(db).await;
        let key = json!({"pk": {"S": "k"}});
        check(db, vec![
            ("GetItem", json!({"Key": key}), V,
             "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into()),
            ("GetItem", json!({"TableName": "_conformance_does_not_exist_em_get", "Key": key}),
             ErrorKind::ResourceNotFoundException, "Requested resource not found".into()),
            ("GetItem", json!({"TableName": "composite", "Key": key}), V,
             "The provided key element does not match the schema".into()),
            ("GetItem", json!({"TableName": "hash", "Key": {"pk": {"N": "1"}}}), V,
             "The provided key element does not match the schema".into()),
            ("GetItem", json!({"TableName": "hash", "Key": {"pk": {"L": []}}}), V,
             "The provided key element does not match the schema".into()),
            ("GetItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}, "extra": {"S": "x"}}}), V,
             "The provided key element does not match the schema".into()),
            ("GetItem", json!({"TableName": "hash", "Key": {"pk": {"S": ""}}}), V,
             "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "!!! INVALID !!!"}), V,
             "Invalid ProjectionExpression: Syntax error; token: \"!\", near: \"!!\"".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "a, a.b"}), V,
             "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "l, l[0]"}), V,
             "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [l], path two: [l, [0]]".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "#undef"}), V,
             "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #undef".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "pk, status"}), V,
             "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status".into()),
            ("GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": "a",
                "AttributesToGet": ["a"]}), V,
             "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}".into()),
            ("GetItem", json!({"TableName": "hash", "Key": {"pk": {"N": "abc"}}}), V,
             "The parameter cannot be converted to a numeric value: abc".into()),
        ]).await;
        // Siblings do not overlap.
        for pe in ["a.b, a.c", "l[0], l[1]"] {
            wire(db, "GetItem", json!({"TableName": "hash", "Key": key, "ProjectionExpression": pe}))
                .await
                .unwrap_or_else(|e| panic!("{pe}: {e}"));
        }
    }

    async fn conditional_operator_needs_two_expected_entries(db) {
        // Wording from DynamoDB's own error catalogue (shipped in DynamoDB
        // Local); enveloped like every request-level error of these writes.
        setup(db).await;
        let item = json!({"pk": {"S": "k"}});
        check(db, vec![
            ("PutItem", json!({"TableName": "hash", "Item": item, "ConditionalOperator": "AND"}), V,
             "1 validation error detected: ConditionalOperator cannot be used without Filter or Expected".into()),
            ("DeleteItem", json!({"TableName": "hash", "Key": item, "ConditionalOperator": "OR",
                "Expected": {"a": {"Exists": false}}}), V,
             "1 validation error detected: ConditionalOperator can only be used when Filter or Expected has two or more elements".into()),
        ]).await;
        wire(db, "PutItem", json!({"TableName": "hash", "Item": item, "ConditionalOperator": "OR",
            "Expected": {"a": {"Exists": false}, "b": {"Exists": false}}}))
            .await
            .expect("two Expected entries combine with OR");
    }

    async fn wire_responses_have_dynamodb_shape(db) {
        setup(db).await;
        let out = wire(db, "PutItem", json!({"TableName": "hash", "Item": {"pk": {"S": "k"}, "n": {"N": "007"}},
            "ReturnConsumedCapacity": "TOTAL"})).await.unwrap();
        assert_eq!(out["ConsumedCapacity"]["TableName"], "hash");
        assert_eq!(out["ConsumedCapacity"]["CapacityUnits"], 1.0);
        assert!(out.get("Attributes").is_none(), "{out}");
        let out = wire(db, "GetItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}})).await.unwrap();
        assert_eq!(out, json!({"Item": {"pk": {"S": "k"}, "n": {"N": "7"}}}));
        let out = wire(db, "GetItem", json!({"TableName": "hash", "Key": {"pk": {"S": "nope"}}})).await.unwrap();
        assert_eq!(out, json!({}), "a missing item has no Item member");
        let out = wire(db, "DeleteItem", json!({"TableName": "hash", "Key": {"pk": {"S": "k"}}, "ReturnValues": "ALL_OLD"})).await.unwrap();
        assert_eq!(out, json!({"Attributes": {"pk": {"S": "k"}, "n": {"N": "7"}}}));
        let out = wire(db, "ListTables", json!({})).await.unwrap();
        assert_eq!(out, json!({"TableNames": ["binary", "composite", "hash"]}));
        let e = wire(db, "Frobnicate", json!({})).await.expect_err("unknown operation");
        assert_eq!(e.kind, ErrorKind::UnknownOperationException);
    }
}
