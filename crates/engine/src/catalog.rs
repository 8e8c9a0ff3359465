//! Table metadata as stored in the catalog, and the in-memory view of it
//! every action works from.

use openddb_core::api::{TableDescription, Tag};
use openddb_core::{AttributeValue, DynamoError, Item};
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
}

/// Maximum size of a partition key value in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// Maximum size of a sort key value in bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

impl TableMeta {
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
    ) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>), DynamoError> {
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
    ) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>), DynamoError> {
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

    fn key_part<'a>(
        &self,
        item: &'a Item,
        attr: &KeyAttribute,
        is_partition: bool,
        of: KeyOf,
    ) -> Result<&'a AttributeValue, DynamoError> {
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
        if v.type_name() != attr.attr_type {
            return Err(if of == KeyOf::KeyParameter {
                DynamoError::validation("The provided key element does not match the schema")
            } else {
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    attr.name,
                    attr.attr_type,
                    v.type_name()
                ))
            });
        }
        let len = match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::B(b) => b.len(),
            _ => usize::MAX,
        };
        if len == 0 {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
                if matches!(v, AttributeValue::S(_)) { "string" } else { "binary" },
                attr.name
            )));
        }
        if len != usize::MAX {
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
        }
        Ok(v)
    }

    pub fn key_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key_schema.partition_key.name.as_str())
            .chain(self.key_schema.sort_key.as_ref().map(|s| s.name.as_str()))
    }
}
