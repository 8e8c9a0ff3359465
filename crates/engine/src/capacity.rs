//! Capacity units as DynamoDB computes them from item sizes: a write unit
//! per started KB, a read unit per started 4 KB (half for eventually
//! consistent reads), never less than one unit.

use openddb_core::api::{Capacity, ConsumedCapacity};

pub fn write_units(size_bytes: usize) -> f64 {
    size_bytes.div_ceil(1024).max(1) as f64
}

pub fn read_units(size_bytes: usize, consistent: bool) -> f64 {
    let units = size_bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// What `ReturnConsumedCapacity` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnCapacity {
    None,
    Total,
    Indexes,
}

impl ReturnCapacity {
    pub fn parse(v: Option<&str>) -> ReturnCapacity {
        match v {
            Some("TOTAL") => ReturnCapacity::Total,
            Some("INDEXES") => ReturnCapacity::Indexes,
            _ => ReturnCapacity::None,
        }
    }

    /// The report for `units` consumed on the base table only.
    pub fn report(self, table: &str, units: f64) -> Option<ConsumedCapacity> {
        match self {
            ReturnCapacity::None => None,
            ReturnCapacity::Total => Some(ConsumedCapacity {
                table_name: table.to_string(),
                capacity_units: units,
                ..Default::default()
            }),
            ReturnCapacity::Indexes => Some(ConsumedCapacity {
                table_name: table.to_string(),
                capacity_units: units,
                table: Some(Capacity {
                    capacity_units: units,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    }
}

impl ReturnCapacity {
    /// The report of a write: `table_units` on the table plus what each
    /// secondary index consumed (in the total, and by index for INDEXES).
    pub fn report_write(
        self,
        table: &str,
        table_units: f64,
        indexes: &[crate::write::IndexWrite],
    ) -> Option<ConsumedCapacity> {
        let total = table_units + indexes.iter().map(|i| i.units).sum::<f64>();
        let mut report = self.report(table, total)?;
        if self == ReturnCapacity::Indexes {
            report.table = Some(Capacity {
                capacity_units: table_units,
                ..Default::default()
            });
            for index in indexes {
                let map = if index.global {
                    report
                        .global_secondary_indexes
                        .get_or_insert_with(Default::default)
                } else {
                    report
                        .local_secondary_indexes
                        .get_or_insert_with(Default::default)
                };
                map.insert(
                    index.name.clone(),
                    Capacity {
                        capacity_units: index.units,
                        ..Default::default()
                    },
                );
            }
        }
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_up_and_never_fall_below_one() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(0, false), 0.5);
    }
}
