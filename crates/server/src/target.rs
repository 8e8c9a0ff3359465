//! The `X-Amz-Target` header: which API and which operation a request names.

/// An operation named by a request's `X-Amz-Target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// `DynamoDB_20120810.<Op>`, an operation of the DynamoDB API.
    DynamoDb(&'a str),
    /// `DynamoDBStreams_20120810.<Op>`, an operation of the Streams API.
    Streams(&'a str),
}

/// Every operation of `DynamoDB_20120810`, sorted for binary search. DynamoDB
/// answers `UnknownOperationException` for any other name before it looks at
/// the signature; names on this list that the engine does not implement yet
/// get the same answer from the engine, after authentication.
const DYNAMODB_OPERATIONS: &[&str] = &[
    "BatchExecuteStatement",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateBackup",
    "CreateGlobalTable",
    "CreateTable",
    "DeleteBackup",
    "DeleteItem",
    "DeleteResourcePolicy",
    "DeleteTable",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetItem",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListTables",
    "ListTagsOfResource",
    "PutItem",
    "PutResourcePolicy",
    "Query",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "Scan",
    "SearchVectors",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateItem",
    "UpdateKinesisStreamingDestination",
    "UpdateTable",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// Every operation of `DynamoDBStreams_20120810`, sorted.
const STREAMS_OPERATIONS: &[&str] = &[
    "DescribeStream",
    "GetRecords",
    "GetShardIterator",
    "ListStreams",
];

/// Reads a target; `None` for anything that is not `<known API>.<known op>`.
pub(crate) fn parse(target: &[u8]) -> Option<Target<'_>> {
    let target = std::str::from_utf8(target).ok()?;
    let (api, operation) = target.split_once('.')?;
    match api {
        "DynamoDB_20120810" => DYNAMODB_OPERATIONS
            .binary_search(&operation)
            .ok()
            .map(|_| Target::DynamoDb(operation)),
        "DynamoDBStreams_20120810" => STREAMS_OPERATIONS
            .binary_search(&operation)
            .ok()
            .map(|_| Target::Streams(operation)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_lists_are_sorted() {
        assert!(DYNAMODB_OPERATIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(STREAMS_OPERATIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn parses_known_targets_only() {
        assert_eq!(
            parse(b"DynamoDB_20120810.GetItem"),
            Some(Target::DynamoDb("GetItem"))
        );
        assert_eq!(
            parse(b"DynamoDBStreams_20120810.GetRecords"),
            Some(Target::Streams("GetRecords"))
        );
        for bad in [
            &b""[..],
            b"whatever",
            b"DynamoDB_20120810.ListTable",
            b"DynamoDB_20120810.GetItem.x",
            b"DynamoDB_20111205.GetItem",
            b"dynamodb_20120810.GetItem",
            b"DynamoDB_20120810.GetRecords",
            b"DynamoDB_20120810.\xff",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
