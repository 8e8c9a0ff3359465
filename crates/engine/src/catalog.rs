//! Table metadata as stored in the catalog, and the in-memory view of it
//! every action works from.

use openddb_core::api::{AttributeDefinition, KeySchemaElement, Projection, TableDescription, Tag};
use openddb_core::keyenc::KeyValue;
use openddb_core::{DynamoError, Item};
use serde::{Deserialize, Serialize};

/// One key attribute: its name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    pub name: String,
    pub attr_type: String,
}

/// A table's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    pub partition_key: KeyAttribute,
    pub sort_key: Option<KeyAttribute>,
}

/// Where key attributes come from: DynamoDB words key problems in a `Key`
/// parameter differently from those in a whole item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOf {
    Item,
    KeyParameter,
}

/// What the catalog stores per table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    /// Internal id (key prefix); never reused.
    pub id: u64,
    pub key_schema: KeySchema,
    /// The description as created/updated, without live statistics.
    pub description: TableDescription,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Secondary indexes, local and global, with their storage ids.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// Changes with every change to `indexes`; mirrored in the table's
    /// statistics record so that a write sees a stale catalog in its
    /// transaction.
    #[serde(default)]
    pub generation: u64,
    /// The next index id to hand out (ids are never reused in a table).
    #[serde(default)]
    pub next_index_id: u32,
    /// The enabled stream, if any.
    #[serde(default)]
    pub stream: Option<crate::streams::StreamRef>,
    /// Time to Live, while enabled.
    #[serde(default)]
    pub ttl: Option<TimeToLive>,
    /// The table's resource-based policy (PutResourcePolicy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<ResourcePolicy>,
    /// The resource-based policy of one of its streams, by stream ARN; it
    /// counts only while that stream is the table's current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_policy: Option<StreamPolicy>,
}

/// A resource-based policy as stored: the document as given (without its
/// whitespace, as DynamoDB gives it back) and its revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub document: String,
    /// Milliseconds since the epoch of the change, as a string: DynamoDB's
    /// revision ids are such timestamps, increasing with every change.
    pub revision_id: String,
}

/// A stream's resource-based policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPolicy {
    pub stream_arn: String,
    pub policy: ResourcePolicy,
}

/// A table's Time to Live setting while it is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeToLive {
    /// The attribute that holds each item's expiry (epoch seconds).
    pub attribute_name: String,
    /// The catalog generation that enabled it: tells a backfill of an
    /// earlier enabling (since disabled) to stop.
    pub since: u64,
    /// Whether every item written before TTL was enabled is in the TTL
    /// index (DescribeTimeToLive says `ENABLING` until then).
    pub backfilled: bool,
}

/// Which attributes an index stores besides the keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexProjection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// The life cycle of an index (local ones are always active).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexStatus {
    /// Being backfilled; writes already maintain it.
    Creating,
    Active,
    /// Being removed; writes no longer maintain it.
    Deleting,
}

impl IndexStatus {
    pub fn wire(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Active => "ACTIVE",
            IndexStatus::Deleting => "DELETING",
        }
    }
}

/// A secondary index: its key attributes (several, for multi-attribute
/// global keys), projection and storage id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexMeta {
    pub id: u32,
    pub name: String,
    pub global: bool,
    pub partition: Vec<KeyAttribute>,
    pub sort: Vec<KeyAttribute>,
    pub projection: IndexProjection,
    pub status: IndexStatus,
}

impl IndexMeta {
    /// Builds an index from its declaration, resolving attribute types
    /// from the table's attribute definitions (already validated).
    pub fn declare(
        id: u32,
        name: &str,
        global: bool,
        key_schema: &[KeySchemaElement],
        projection: Option<&Projection>,
        definitions: &[AttributeDefinition],
        status: IndexStatus,
    ) -> IndexMeta {
        let attr = |e: &KeySchemaElement| {
            let name = e.attribute_name.clone().unwrap_or_default();
            let attr_type = definitions
                .iter()
                .find(|d| d.attribute_name.as_deref() == Some(name.as_str()))
                .and_then(|d| d.attribute_type.clone())
                .unwrap_or_default();
            KeyAttribute { name, attr_type }
        };
        let of_type = |t: &str| {
            key_schema
                .iter()
                .filter(|e| e.key_type.as_deref() == Some(t))
                .map(attr)
                .collect::<Vec<_>>()
        };
        let projection = match projection.and_then(|p| p.projection_type.as_deref()) {
            Some("KEYS_ONLY") => IndexProjection::KeysOnly,
            Some("INCLUDE") => IndexProjection::Include(
                projection
                    .and_then(|p| p.non_key_attributes.clone())
                    .unwrap_or_default(),
            ),
            _ => IndexProjection::All,
        };
        IndexMeta {
            id,
            name: name.to_string(),
            global,
            partition: of_type("HASH"),
            sort: of_type("RANGE"),
            projection,
            status,
        }
    }

    /// The index key attributes, partition first.
    pub fn key_attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.partition.iter().chain(self.sort.iter())
    }

    /// Whether writes must keep this index in step.
    pub fn maintained(&self) -> bool {
        self.status != IndexStatus::Deleting
    }

    /// The index key values of `item`, or `None` when the item lacks one
    /// of them or has it with another type (sparse indexes).
    pub fn key_values<'a>(&self, item: &'a Item) -> Option<Vec<KeyValue<'a>>> {
        self.key_attributes()
            .map(|a| {
                let v = KeyValue::try_from(item.get(&a.name)?).ok()?;
                (v.type_name() == a.attr_type).then_some(v)
            })
            .collect()
    }

    /// Whether the index stores attribute `name` of its items.
    pub fn projects(&self, name: &str, table: &KeySchema) -> bool {
        match &self.projection {
            IndexProjection::All => true,
            IndexProjection::KeysOnly => self.is_key(name, table),
            IndexProjection::Include(attrs) => {
                self.is_key(name, table) || attrs.iter().any(|a| a == name)
            }
        }
    }

    fn is_key(&self, name: &str, table: &KeySchema) -> bool {
        table.names().any(|n| n == name) || self.key_attributes().any(|a| a.name == name)
    }

    /// The item as the index stores it.
    pub fn project(&self, item: &Item, table: &KeySchema) -> Item {
        match &self.projection {
            IndexProjection::All => item.clone(),
            _ => item
                .iter()
                .filter(|(k, _)| self.projects(k, table))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

impl KeySchema {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.partition_key.name.as_str())
            .chain(self.sort_key.as_ref().map(|s| s.name.as_str()))
    }
}

/// Maximum size of a partition key value in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// Maximum size of a sort key value in bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

impl TableMeta {
    /// The table's resource-based policy document, if it has one (what
    /// authorization evaluates for the table and its indexes).
    pub fn resource_policy_document(&self) -> Option<&str> {
        self.resource_policy.as_ref().map(|p| p.document.as_str())
    }

    /// The resource-based policy of the table's current stream, if
    /// `stream_arn` is that stream and it has one.
    pub fn stream_policy(&self, stream_arn: &str) -> Option<&ResourcePolicy> {
        let current = self.stream.as_ref()?;
        self.stream_policy
            .as_ref()
            .filter(|p| p.stream_arn == stream_arn && current.arn == stream_arn)
            .map(|p| &p.policy)
    }

    pub fn name(&self) -> &str {
        self.description.table_name.as_deref().unwrap_or_default()
    }

    pub fn deletion_protection(&self) -> bool {
        self.description
            .deletion_protection_enabled
            .unwrap_or(false)
    }

    /// The key attributes of `item`, checked against the schema the way
    /// DynamoDB checks an item given to PutItem.
    pub fn item_key<'a>(
        &self,
        item: &'a Item,
    ) -> Result<(KeyValue<'a>, Option<KeyValue<'a>>), DynamoError> {
        let pk = self.key_part(item, &self.key_schema.partition_key, true, KeyOf::Item)?;
        let sk = match &self.key_schema.sort_key {
            Some(s) => Some(self.key_part(item, s, false, KeyOf::Item)?),
            None => None,
        };
        Ok((pk, sk))
    }

    /// Validates a `Key` parameter: exactly the key attributes, right types.
    pub fn key_from_key_param<'a>(
        &self,
        key: &'a Item,
    ) -> Result<(KeyValue<'a>, Option<KeyValue<'a>>), DynamoError> {
        let expected = 1 + usize::from(self.key_schema.sort_key.is_some());
        let schema_names = |n: &str| {
            n == self.key_schema.partition_key.name
                || self
                    .key_schema
                    .sort_key
                    .as_ref()
                    .is_some_and(|s| s.name == n)
        };
        if key.len() != expected || !key.keys().all(|k| schema_names(k)) {
            return Err(DynamoError::validation(
                "The provided key element does not match the schema",
            ));
        }
        let pk = self.key_part(
            key,
            &self.key_schema.partition_key,
            true,
            KeyOf::KeyParameter,
        )?;
        let sk = match &self.key_schema.sort_key {
            Some(s) => Some(self.key_part(key, s, false, KeyOf::KeyParameter)?),
            None => None,
        };
        Ok((pk, sk))
    }

    /// One key attribute of `item`, checked for presence, type, emptiness
    /// and size. The type check is the conversion to a key value compared
    /// with the schema's type: a value of a non-key type (BOOL, M, ...)
    /// fails it the same way as a key value of the wrong scalar type.
    fn key_part<'a>(
        &self,
        item: &'a Item,
        attr: &KeyAttribute,
        is_partition: bool,
        of: KeyOf,
    ) -> Result<KeyValue<'a>, DynamoError> {
        let Some(v) = item.get(&attr.name) else {
            return Err(if of == KeyOf::KeyParameter {
                DynamoError::validation("The provided key element does not match the schema")
            } else {
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attr.name
                ))
            });
        };
        let key = match KeyValue::try_from(v) {
            Ok(k) if k.type_name() == attr.attr_type => k,
            _ => {
                return Err(if of == KeyOf::KeyParameter {
                    DynamoError::validation("The provided key element does not match the schema")
                } else {
                    DynamoError::validation(format!(
                        "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                        attr.name,
                        attr.attr_type,
                        v.type_name()
                    ))
                })
            }
        };
        let len = match key {
            KeyValue::S(s) => s.len(),
            KeyValue::B(b) => b.len(),
            KeyValue::N(_) => return Ok(key),
        };
        if len == 0 {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
                if matches!(key, KeyValue::S(_)) { "string" } else { "binary" },
                attr.name
            )));
        }
        if is_partition && len > MAX_PARTITION_KEY_BYTES {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{MAX_PARTITION_KEY_BYTES} bytes"
            )));
        }
        if !is_partition && len > MAX_SORT_KEY_BYTES {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
            )));
        }
        Ok(key)
    }

    pub fn key_names(&self) -> impl Iterator<Item = &str> {
        self.key_schema.names()
    }

    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The indexes writes must keep in step.
    pub fn maintained_indexes(&self) -> impl Iterator<Item = &IndexMeta> {
        self.indexes.iter().filter(|i| i.maintained())
    }
}
