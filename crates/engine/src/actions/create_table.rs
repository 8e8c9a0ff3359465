//! CreateTable: validate the definition, allocate a never-reused table id
//! and write the catalog entry. Tables are ACTIVE as soon as they exist.

use std::collections::HashSet;
use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{
    BillingModeSummary, CreateTableInput, CreateTableOutput, GlobalSecondaryIndexDescription,
    KeySchemaElement, LocalSecondaryIndexDescription, Projection, ProvisionedThroughputDescription,
    StreamSpecification, TableClassSummary, TableDescription,
};
use openddb_core::{DynamoError, ErrorKind};

use super::common::{now_epoch_seconds, sse_description, table_arn};
use crate::catalog::{IndexMeta, IndexStatus, KeyAttribute, KeySchema, TableMeta};
use crate::keys::{self, TableStats};
use crate::resource_policy;
use crate::run;
use crate::tenant::Tenant;
use crate::RequestContext;

const KEY_TYPES: &[&str] = &["HASH", "RANGE"];
const ATTRIBUTE_TYPES: &[&str] = &["B", "N", "S"];
const BILLING_MODES: &[&str] = &["PROVISIONED", "PAY_PER_REQUEST"];
const PROJECTION_TYPES: &[&str] = &["ALL", "KEYS_ONLY", "INCLUDE"];
/// Stream view types in the order DynamoDB lists them in its message.
pub(crate) const STREAM_VIEW_TYPES: &[&str] =
    &["OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"];
const TABLE_CLASSES: &[&str] = &["STANDARD", "STANDARD_INFREQUENT_ACCESS"];
const MAX_LSIS: usize = 5;
pub(crate) const MAX_GSIS: usize = 20;
/// A global index key has up to four partition and four sort attributes
/// (multi-attribute keys, November 2025).
const MAX_GSI_KEY_PART: usize = 4;
const MAX_GSI_KEY_ELEMENTS: usize = 2 * MAX_GSI_KEY_PART;
const MAX_NON_KEY_ATTRIBUTES: usize = 100;

fn invalid(msg: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!("One or more parameter values were invalid: {msg}"))
}

/// The member-level checks, reported together as DynamoDB does.
fn check_members(input: &CreateTableInput) -> Result<(), DynamoError> {
    if input.table_name.is_none() {
        // CreateTable reports a missing name in its own words, alone.
        return Err(DynamoError::validation(
            "The parameter 'TableName' is required but was not present in the request",
        ));
    }
    let mut v = Violations::new();
    v.require(&input.attribute_definitions, "attributeDefinitions");
    if let Some(defs) = &input.attribute_definitions {
        for (i, d) in defs.iter().enumerate() {
            let m = format!("attributeDefinitions.{}.member", i + 1);
            v.require(&d.attribute_name, &format!("{m}.attributeName"));
            if let Some(n) = &d.attribute_name {
                check_len(&mut v, n, &format!("{m}.attributeName"), 1, 255);
            }
            v.require(&d.attribute_type, &format!("{m}.attributeType"));
            v.one_of(
                d.attribute_type.as_deref(),
                &format!("{m}.attributeType"),
                ATTRIBUTE_TYPES,
            );
        }
    }
    v.table_name(input.table_name.as_deref(), "tableName", 3);
    v.require(&input.key_schema, "keySchema");
    if let Some(ks) = &input.key_schema {
        check_key_schema_members(&mut v, ks, "keySchema", 2);
    }
    // DynamoDB reports global index members before local ones.
    if let Some(gsis) = &input.global_secondary_indexes {
        for (i, gsi) in gsis.iter().enumerate() {
            let m = format!("globalSecondaryIndexes.{}.member", i + 1);
            check_index_members(
                &mut v,
                &m,
                &gsi.index_name,
                &gsi.key_schema,
                &gsi.projection,
                true,
            );
            if let Some(pt) = &gsi.provisioned_throughput {
                check_throughput_members(&mut v, pt, &format!("{m}.provisionedThroughput"));
            }
        }
    }
    if let Some(lsis) = &input.local_secondary_indexes {
        for (i, lsi) in lsis.iter().enumerate() {
            let m = format!("localSecondaryIndexes.{}.member", i + 1);
            check_index_members(
                &mut v,
                &m,
                &lsi.index_name,
                &lsi.key_schema,
                &lsi.projection,
                false,
            );
        }
    }
    v.one_of(input.billing_mode.as_deref(), "billingMode", BILLING_MODES);
    if let Some(pt) = &input.provisioned_throughput {
        check_throughput_members(&mut v, pt, "provisionedThroughput");
    }
    if let Some(s) = &input.stream_specification {
        v.require(&s.stream_enabled, "streamSpecification.streamEnabled");
        v.one_of(
            s.stream_view_type.as_deref(),
            "streamSpecification.streamViewType",
            STREAM_VIEW_TYPES,
        );
    }
    if let Some(sse) = &input.sse_specification {
        v.one_of(
            sse.sse_type.as_deref(),
            "sSESpecification.sSEType",
            &["AES256", "KMS"],
        );
    }
    v.one_of(input.table_class.as_deref(), "tableClass", TABLE_CLASSES);
    v.into_result()
}

fn check_len(v: &mut Violations, s: &str, member: &str, min: usize, max: usize) {
    let len = s.chars().count();
    if len < min {
        v.push(
            &format!("'{s}'"),
            member,
            &format!("Member must have length greater than or equal to {min}"),
        );
    }
    if len > max {
        v.push(
            &format!("'{s}'"),
            member,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
}

fn check_key_schema_members(v: &mut Violations, ks: &[KeySchemaElement], member: &str, max: usize) {
    for (i, k) in ks.iter().enumerate() {
        let m = format!("{member}.{}.member", i + 1);
        v.require(&k.attribute_name, &format!("{m}.attributeName"));
        if let Some(n) = &k.attribute_name {
            check_len(v, n, &format!("{m}.attributeName"), 1, 255);
        }
        v.require(&k.key_type, &format!("{m}.keyType"));
        v.one_of(k.key_type.as_deref(), &format!("{m}.keyType"), KEY_TYPES);
    }
    if ks.is_empty() {
        v.push(
            "'[]'",
            member,
            "Member must have length greater than or equal to 1",
        );
    }
    if ks.len() > max {
        v.push(
            &format!("'{}'", show_key_schema(ks)),
            member,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
}

fn show_key_schema(ks: &[KeySchemaElement]) -> String {
    let parts: Vec<String> = ks
        .iter()
        .map(|k| {
            format!(
                "KeySchemaElement(attributeName={}, keyType={})",
                k.attribute_name.as_deref().unwrap_or("null"),
                k.key_type.as_deref().unwrap_or("null")
            )
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

pub(crate) fn check_index_members(
    v: &mut Violations,
    member: &str,
    name: &Option<String>,
    ks: &Option<Vec<KeySchemaElement>>,
    projection: &Option<Projection>,
    global: bool,
) {
    match name {
        None => v.push(
            "null",
            &format!("{member}.indexName"),
            "Member must not be null",
        ),
        Some(n) => v.name_constraints(n, &format!("{member}.indexName"), 3, 255),
    }
    v.require(ks, &format!("{member}.keySchema"));
    if let Some(ks) = ks {
        let max = if global { MAX_GSI_KEY_ELEMENTS } else { 2 };
        check_key_schema_members(v, ks, &format!("{member}.keySchema"), max);
    }
    v.require(projection, &format!("{member}.projection"));
    if let Some(p) = projection {
        v.one_of(
            p.projection_type.as_deref(),
            &format!("{member}.projection.projectionType"),
            PROJECTION_TYPES,
        );
    }
}

fn check_throughput_members(
    v: &mut Violations,
    pt: &openddb_core::api::ProvisionedThroughput,
    member: &str,
) {
    v.require(
        &pt.read_capacity_units,
        &format!("{member}.readCapacityUnits"),
    );
    v.at_least(
        pt.read_capacity_units,
        &format!("{member}.readCapacityUnits"),
        1,
    );
    v.require(
        &pt.write_capacity_units,
        &format!("{member}.writeCapacityUnits"),
    );
    v.at_least(
        pt.write_capacity_units,
        &format!("{member}.writeCapacityUnits"),
        1,
    );
}

/// Validates a key schema against the attribute definitions; returns the
/// parsed key.
pub(crate) fn parse_key_schema(
    ks: &[KeySchemaElement],
    defs: &[(String, String)],
) -> Result<KeySchema, DynamoError> {
    // Request validation refuses an empty key schema first; this must not
    // index past one all the same.
    let Some(hash) = ks.first() else {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    };
    if hash.key_type.as_deref() != Some("HASH") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let range = ks.get(1);
    if let Some(r) = range {
        if r.key_type.as_deref() != Some("RANGE") {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if r.attribute_name == hash.attribute_name {
            return Err(DynamoError::validation(
                "Invalid KeySchema: Some index key attribute have no definition",
            ));
        }
    }
    let attr = |e: &KeySchemaElement| -> Option<KeyAttribute> {
        let name = e.attribute_name.clone().unwrap_or_default();
        defs.iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| KeyAttribute {
                name: n.clone(),
                attr_type: t.clone(),
            })
    };
    let (Some(pk), sk) = (attr(hash), range.map(attr)) else {
        return Err(undefined_keys(ks, defs));
    };
    let sk = match sk {
        Some(None) => return Err(undefined_keys(ks, defs)),
        Some(Some(s)) => Some(s),
        None => None,
    };
    Ok(KeySchema {
        partition_key: pk,
        sort_key: sk,
    })
}

/// Validates a global index's key schema, which may name up to four
/// partition and four sort attributes, partition attributes first.
pub(crate) fn parse_gsi_key_schema(
    ks: &[KeySchemaElement],
    defs: &[(String, String)],
) -> Result<(), DynamoError> {
    let hashes = ks
        .iter()
        .filter(|k| k.key_type.as_deref() == Some("HASH"))
        .count();
    if ks.len() <= 2 && hashes <= 1 {
        return parse_key_schema(ks, defs).map(|_| ());
    }
    if ks.first().and_then(|k| k.key_type.as_deref()) != Some("HASH") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if hashes > MAX_GSI_KEY_PART {
        return Err(invalid(
            "The KeySchema exceeds the maximum allowed number of HASH key attributes",
        ));
    }
    if ks.len() - hashes > MAX_GSI_KEY_PART {
        return Err(invalid(
            "The KeySchema exceeds the maximum allowed number of RANGE key attributes",
        ));
    }
    if ks[..hashes]
        .iter()
        .any(|k| k.key_type.as_deref() != Some("HASH"))
    {
        return Err(invalid(
            "All HASH key attributes must precede RANGE key attributes in the KeySchema",
        ));
    }
    let mut names = HashSet::new();
    for k in ks {
        if !names.insert(k.attribute_name.as_deref().unwrap_or_default()) {
            return Err(invalid(
                "The KeySchema contains multiple key attributes with the same name",
            ));
        }
    }
    if !ks.iter().all(|k| {
        defs.iter()
            .any(|(n, _)| Some(n.as_str()) == k.attribute_name.as_deref())
    }) {
        return Err(undefined_keys(ks, defs));
    }
    Ok(())
}

fn undefined_keys(ks: &[KeySchemaElement], defs: &[(String, String)]) -> DynamoError {
    let keys: Vec<&str> = ks
        .iter()
        .map(|k| k.attribute_name.as_deref().unwrap_or_default())
        .collect();
    let names: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
    invalid(format!(
        "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
        keys.join(", "),
        names.join(", ")
    ))
}

pub(crate) fn check_projection(p: &Projection, index: &str) -> Result<(), DynamoError> {
    let ty = p.projection_type.as_deref().unwrap_or("ALL");
    match (ty, &p.non_key_attributes) {
        ("INCLUDE", None) => Err(invalid(format!(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified for index: {index}"
        ))),
        ("INCLUDE", Some(n)) if n.len() > MAX_NON_KEY_ATTRIBUTES => Err(invalid(format!(
            "The number of projected attributes exceeds the limit of {MAX_NON_KEY_ATTRIBUTES} for index: {index}"
        ))),
        (other, Some(_)) if other != "INCLUDE" => Err(invalid(format!(
            "ProjectionType is {other}, but NonKeyAttributes is specified"
        ))),
        _ => Ok(()),
    }
}

/// Everything DynamoDB checks about the definition beyond single members.
fn check_definition(input: &CreateTableInput) -> Result<KeySchema, DynamoError> {
    let defs: Vec<(String, String)> = input
        .attribute_definitions
        .iter()
        .flatten()
        .map(|d| {
            (
                d.attribute_name.clone().unwrap_or_default(),
                d.attribute_type.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut seen = HashSet::new();
    for (n, _) in &defs {
        if !seen.insert(n.as_str()) {
            return Err(invalid("Duplicate AttributeName in AttributeDefinitions"));
        }
    }

    let billing = input.billing_mode.as_deref().unwrap_or("PROVISIONED");
    let on_demand = billing == "PAY_PER_REQUEST";
    match (&input.provisioned_throughput, on_demand) {
        (None, false) => {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        (Some(_), true) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        _ => {}
    }

    if let Some(s) = &input.stream_specification {
        match (s.stream_enabled, &s.stream_view_type) {
            (Some(true), None) => {
                return Err(invalid(
                    "Table is being created with a stream enabled, UpdateViewType is required",
                ))
            }
            (Some(false), Some(_)) => {
                return Err(invalid(
                    "Table is being created with a stream disabled, UpdateViewType should not be specified",
                ))
            }
            _ => {}
        }
    }

    let ks = input.key_schema.as_deref().unwrap_or_default();
    let key = parse_key_schema(ks, &defs)?;

    let mut used: HashSet<&str> = key_names(ks);
    let mut index_names = HashSet::new();

    if let Some(lsis) = &input.local_secondary_indexes {
        if lsis.is_empty() {
            return Err(invalid("List of LocalSecondaryIndexes is empty"));
        }
        if key.sort_key.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        if lsis.len() > MAX_LSIS {
            return Err(invalid(format!(
                "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
            )));
        }
        for lsi in lsis {
            let name = lsi.index_name.as_deref().unwrap_or_default();
            if !index_names.insert(name.to_string()) {
                return Err(invalid(format!("Duplicate index name: {name}")));
            }
            let iks = lsi.key_schema.as_deref().unwrap_or_default();
            let ikey = parse_key_schema(iks, &defs)?;
            if ikey.partition_key.name != key.partition_key.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                    ikey.partition_key.name, key.partition_key.name
                )));
            }
            if ikey.sort_key.is_none() {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            }
            if let Some(p) = &lsi.projection {
                check_projection(p, name)?;
            }
            used.extend(key_names(iks));
        }
    }
    if let Some(gsis) = &input.global_secondary_indexes {
        if gsis.is_empty() {
            return Err(invalid("List of GlobalSecondaryIndexes is empty"));
        }
        if gsis.len() > MAX_GSIS {
            return Err(DynamoError::new(
                ErrorKind::LimitExceededException,
                format!("Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of {MAX_GSIS}"),
            ));
        }
        for gsi in gsis {
            let name = gsi.index_name.as_deref().unwrap_or_default();
            if !index_names.insert(name.to_string()) {
                return Err(invalid(format!("Duplicate index name: {name}")));
            }
            let iks = gsi.key_schema.as_deref().unwrap_or_default();
            parse_gsi_key_schema(iks, &defs)?;
            if let Some(p) = &gsi.projection {
                check_projection(p, name)?;
            }
            match (&gsi.provisioned_throughput, on_demand) {
                (None, false) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput must be specified for index: {name}"
                    )))
                }
                (Some(_), true) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )))
                }
                _ => {}
            }
            used.extend(key_names(iks));
        }
    }

    if used.len() != defs.len() || defs.iter().any(|(n, _)| !used.contains(n.as_str())) {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(key)
}

fn key_names(ks: &[KeySchemaElement]) -> HashSet<&str> {
    ks.iter()
        .filter_map(|k| k.attribute_name.as_deref())
        .collect()
}

pub(crate) fn throughput_description(
    pt: &Option<openddb_core::api::ProvisionedThroughput>,
) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription {
        number_of_decreases_today: Some(0),
        read_capacity_units: Some(pt.as_ref().and_then(|p| p.read_capacity_units).unwrap_or(0)),
        write_capacity_units: Some(
            pt.as_ref()
                .and_then(|p| p.write_capacity_units)
                .unwrap_or(0),
        ),
        ..Default::default()
    }
}

/// Builds the description a new table starts with.
fn describe_new(
    input: &CreateTableInput,
    ctx: &RequestContext,
    now: f64,
    uuid: String,
) -> TableDescription {
    let name = input.table_name.clone().unwrap_or_default();
    let arn = table_arn(&ctx.region, &ctx.account_id, &name);
    let on_demand = input.billing_mode.as_deref() == Some("PAY_PER_REQUEST");
    let mut d = TableDescription {
        attribute_definitions: input.attribute_definitions.clone(),
        table_name: Some(name.clone()),
        key_schema: input.key_schema.clone(),
        table_status: Some("ACTIVE".into()),
        creation_date_time: Some(now),
        provisioned_throughput: Some(throughput_description(&input.provisioned_throughput)),
        table_arn: Some(arn.clone()),
        table_id: Some(uuid),
        deletion_protection_enabled: Some(input.deletion_protection_enabled.unwrap_or(false)),
        ..Default::default()
    };
    if on_demand {
        d.billing_mode_summary = Some(BillingModeSummary {
            billing_mode: Some("PAY_PER_REQUEST".into()),
            last_update_to_pay_per_request_date_time: Some(now),
        });
    } else if input.billing_mode.is_some() {
        d.billing_mode_summary = Some(BillingModeSummary {
            billing_mode: Some("PROVISIONED".into()),
            last_update_to_pay_per_request_date_time: None,
        });
    }
    if let Some(lsis) = &input.local_secondary_indexes {
        d.local_secondary_indexes = Some(
            lsis.iter()
                .map(|l| LocalSecondaryIndexDescription {
                    index_name: l.index_name.clone(),
                    key_schema: l.key_schema.clone(),
                    projection: l.projection.clone(),
                    index_arn: Some(format!(
                        "{arn}/index/{}",
                        l.index_name.as_deref().unwrap_or_default()
                    )),
                    ..Default::default()
                })
                .collect(),
        );
    }
    if let Some(gsis) = &input.global_secondary_indexes {
        d.global_secondary_indexes = Some(
            gsis.iter()
                .map(|g| GlobalSecondaryIndexDescription {
                    index_name: g.index_name.clone(),
                    key_schema: g.key_schema.clone(),
                    projection: g.projection.clone(),
                    index_status: Some("ACTIVE".into()),
                    provisioned_throughput: Some(throughput_description(&g.provisioned_throughput)),
                    index_arn: Some(format!(
                        "{arn}/index/{}",
                        g.index_name.as_deref().unwrap_or_default()
                    )),
                    on_demand_throughput: g.on_demand_throughput.clone(),
                    ..Default::default()
                })
                .collect(),
        );
    }
    if let Some(s) = &input.stream_specification {
        if s.stream_enabled == Some(true) {
            enable_stream(&mut d, s.stream_view_type.clone(), now);
        }
    }
    if let Some(sse) = &input.sse_specification {
        if sse.enabled == Some(true) {
            d.sse_description = Some(sse_description(sse, ctx));
        }
    }
    if let Some(class) = &input.table_class {
        d.table_class_summary = Some(TableClassSummary {
            table_class: Some(class.clone()),
            last_update_date_time: None,
        });
    }
    if let Some(odt) = &input.on_demand_throughput {
        d.on_demand_throughput = Some(odt.clone());
    }
    d
}

/// Turns a stream on in `d`: a new label and ARN from the time it starts.
pub(crate) fn enable_stream(d: &mut TableDescription, view_type: Option<String>, now: f64) {
    let label = stream_label(now);
    d.stream_specification = Some(StreamSpecification {
        stream_enabled: Some(true),
        stream_view_type: view_type,
    });
    d.latest_stream_arn = Some(format!(
        "{}/stream/{label}",
        d.table_arn.as_deref().unwrap_or_default()
    ));
    d.latest_stream_label = Some(label);
}

/// A stream label: the creation time as `YYYY-MM-DDTHH:MM:SS.mmm` (UTC).
pub(crate) fn stream_label(epoch_seconds: f64) -> String {
    let millis = (epoch_seconds * 1000.0).round() as i64;
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: CreateTableInput,
) -> Result<CreateTableOutput, DynamoError> {
    check_members(&input)?;
    let key_schema = check_definition(&input)?;
    // `ResourcePolicy` is checked as PutResourcePolicy checks a table's.
    let resource_policy = match &input.resource_policy {
        Some(text) => {
            resource_policy::check_document(text, resource_policy::Attached::Table)?;
            Some(resource_policy::new_revision(text, None))
        }
        None => None,
    };
    let name = input.table_name.clone().unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:CreateTable",
            crate::authz::Resource::table(&name),
        )]
    })?;
    if tenant.catalog_table(&name).is_some() {
        return Err(in_use(&name));
    }
    // The name of a table still being deleted is not free yet.
    tenant.check_not_transient(&name, None)?;
    let description = describe_new(
        &input,
        ctx,
        now_epoch_seconds(),
        uuid::Uuid::new_v4().to_string(),
    );
    let tags = input.tags.clone().unwrap_or_default();
    let catalog_key = keys::catalog_key(&name);
    let region = ctx.region.clone();
    let stream_settings = tenant.stream_settings;
    // A stream has a trimmer to run, found even if the process stops first.
    let _ahead = match &input.stream_specification {
        Some(s) if s.stream_enabled == Some(true) => {
            Some(crate::tenancy::work_ahead(tenant).await?)
        }
        _ => None,
    };
    let name_r = name.clone();
    let meta = run::write(&tenant.kv, move |txn| {
        if txn.get(&catalog_key)?.is_some() {
            return Ok(Err(in_use(&name)));
        }
        let counter = keys::next_table_id_key();
        let id = match txn.get(&counter)? {
            Some(b) if b.len() == 8 => u64::from_be_bytes(b.try_into().unwrap_or([0; 8])),
            _ => 1,
        };
        txn.put(&counter, &(id + 1).to_be_bytes())?;
        let indexes = declared_indexes(&description);
        let mut meta = TableMeta {
            id,
            key_schema: key_schema.clone(),
            next_index_id: indexes.len() as u32 + 1,
            indexes,
            description: description.clone(),
            tags: tags.clone(),
            generation: 0,
            stream: None,
            ttl: None,
            resource_policy: resource_policy.clone(),
            stream_policy: None,
        };
        crate::streams::reconcile(txn, &mut meta, &region, &stream_settings)?;
        let bytes =
            serde_json::to_vec(&meta).map_err(|e| openddb_kv::KvError::Fatal(e.to_string()))?;
        txn.put(&catalog_key, &bytes)?;
        txn.put(&keys::stats_key(id), &TableStats::default().encode())?;
        Ok(Ok(meta))
    })
    .await?;
    let mut description = super::common::describe_with_stats(&meta, &Default::default());
    if let Some(transient) = &tenant.transient {
        transient.created(&name_r, meta.id);
        tenant.overlay(meta.id, &mut description);
    }
    tenant.insert_table(Arc::new(meta));
    crate::trimmer::ensure(tenant);
    Ok(CreateTableOutput {
        table_description: Some(super::common::localize_description(description, ctx)),
    })
}

/// The storage view of the indexes a table is created with: local ones
/// first, ids from 1.
fn declared_indexes(d: &TableDescription) -> Vec<IndexMeta> {
    let defs = d.attribute_definitions.as_deref().unwrap_or_default();
    let locals = d.local_secondary_indexes.iter().flatten().map(|l| {
        (
            l.index_name.as_deref().unwrap_or_default(),
            false,
            l.key_schema.as_deref().unwrap_or_default(),
            l.projection.as_ref(),
        )
    });
    let globals = d.global_secondary_indexes.iter().flatten().map(|g| {
        (
            g.index_name.as_deref().unwrap_or_default(),
            true,
            g.key_schema.as_deref().unwrap_or_default(),
            g.projection.as_ref(),
        )
    });
    locals
        .chain(globals)
        .enumerate()
        .map(|(i, (name, global, ks, projection))| {
            IndexMeta::declare(
                i as u32 + 1,
                name,
                global,
                ks,
                projection,
                defs,
                IndexStatus::Active,
            )
        })
        .collect()
}

fn in_use(name: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::ResourceInUseException,
        format!("Table already exists: {name}"),
    )
}
