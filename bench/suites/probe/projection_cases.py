"""Cases for probe.py: Query and Scan of global and local secondary indexes
of every projection type, with filters, projections and Select on attributes
the index does or does not project (docs/real-suites.md, "Filters on
unprojected attributes")."""
T = "proj"
S = lambda v: {"S": v}
SETUP = [("CreateTable", {
    "TableName": T, "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in ["pk", "sk", "gpk", "gsk", "lsk"]],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {"IndexName": "g_keys", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}},
        {"IndexName": "g_inc", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["data"]}},
        {"IndexName": "g_all", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}},
        {"IndexName": "g_hash", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}},
    ],
    "LocalSecondaryIndexes": [
        {"IndexName": "l_keys", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}},
        {"IndexName": "l_inc", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["data"]}},
    ]})]
for i in range(3):
    SETUP.append(("PutItem", {"TableName": T, "Item": {"pk": S("p"), "sk": S(f"s{i}"), "gpk": S("G"), "gsk": S(f"g{i}"), "lsk": S(f"l{i}"), "data": S(f"d{i}"), "extra": S(f"x{i}"), "m": {"M": {"a": S(f"a{i}")}}}}))

INDEXES = ["g_keys", "g_inc", "g_all", "g_hash", "l_keys", "l_inc"]
def kc(ix):
    return ("gpk = :k", S("G")) if ix.startswith("g") else ("pk = :k", S("p"))
VARIANTS = {
    "filter-unprojected": {"FilterExpression": "extra = :x", "ExpressionAttributeValues": {":x": S("x1")}},
    "filter-not-exists-unprojected": {"FilterExpression": "attribute_not_exists(extra)"},
    "filter-projected-data": {"FilterExpression": "#d = :x", "ExpressionAttributeNames": {"#d": "data"}, "ExpressionAttributeValues": {":x": S("d1")}},
    "filter-nested-unprojected": {"FilterExpression": "m.a = :x", "ExpressionAttributeValues": {":x": S("a1")}},
    "filter-table-sort-key": {"FilterExpression": "sk = :x", "ExpressionAttributeValues": {":x": S("s1")}},
    "filter-index-sort-key-gsk": {"FilterExpression": "gsk = :x", "ExpressionAttributeValues": {":x": S("g1")}},
    "filter-index-sort-key-lsk": {"FilterExpression": "lsk = :x", "ExpressionAttributeValues": {":x": S("l1")}},
    "filter-index-hash-gpk": {"FilterExpression": "gpk = :x", "ExpressionAttributeValues": {":x": S("G")}},
    "projection-unprojected": {"ProjectionExpression": "extra"},
    "projection-key-and-unprojected": {"ProjectionExpression": "pk, extra"},
    "projection-nested-unprojected": {"ProjectionExpression": "m.a"},
    "projection-and-filter-unprojected": {"ProjectionExpression": "extra", "FilterExpression": "m.a = :x", "ExpressionAttributeValues": {":x": S("a1")}},
    "select-all": {"Select": "ALL_ATTRIBUTES"},
    "select-all-projected": {"Select": "ALL_PROJECTED_ATTRIBUTES"},
    "select-all-projected-filter-unprojected": {"Select": "ALL_PROJECTED_ATTRIBUTES", "FilterExpression": "extra = :x", "ExpressionAttributeValues": {":x": S("x1")}},
    "select-all-filter-unprojected": {"Select": "ALL_ATTRIBUTES", "FilterExpression": "extra = :x", "ExpressionAttributeValues": {":x": S("x1")}},
    "select-count-filter-unprojected": {"Select": "COUNT", "FilterExpression": "extra = :x", "ExpressionAttributeValues": {":x": S("x1")}},
    "select-count": {"Select": "COUNT"},
    "specific-atg-unprojected": {"Select": "SPECIFIC_ATTRIBUTES", "AttributesToGet": ["extra"]},
    "default": {},
}
LEGACY_FILTER = {"extra": {"ComparisonOperator": "EQ", "AttributeValueList": [S("x1")]}}
CASES = []
for ix in INDEXES:
    for vname, v in VARIANTS.items():
        scan = {"TableName": T, "IndexName": ix, **v}
        CASES.append((f"Scan {ix} {vname}", "Scan", scan))
        k, kv = kc(ix)
        q = {"TableName": T, "IndexName": ix, **v}
        if "AttributesToGet" in v:
            q["KeyConditions"] = {k.split()[0]: {"ComparisonOperator": "EQ", "AttributeValueList": [kv]}}
        else:
            q["KeyConditionExpression"] = k
            q["ExpressionAttributeValues"] = {**v.get("ExpressionAttributeValues", {}), ":k": kv}
        CASES.append((f"Query {ix} {vname}", "Query", q))
    CASES.append((f"Scan {ix} legacy-scanfilter-unprojected", "Scan", {"TableName": T, "IndexName": ix, "ScanFilter": LEGACY_FILTER}))
    k, kv = kc(ix)
    CASES.append((f"Query {ix} legacy-queryfilter-unprojected", "Query", {"TableName": T, "IndexName": ix, "KeyConditions": {k.split()[0]: {"ComparisonOperator": "EQ", "AttributeValueList": [kv]}}, "QueryFilter": LEGACY_FILTER}))
