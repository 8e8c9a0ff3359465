"""pytest against the session's openddb server: the openddb_endpoint fixture
comes from the plugin the openddb package registers (no conftest needed)."""

import uuid

import boto3
import pytest


@pytest.fixture
def dynamodb(openddb_endpoint):
    return boto3.client(
        "dynamodb",
        endpoint_url=openddb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def table(dynamodb):
    # One server for the session: a table of its own per test keeps tests apart.
    name = f"music-{uuid.uuid4()}"
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "Song", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "Artist", "KeyType": "HASH"},
            {"AttributeName": "Song", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    dynamodb.delete_table(TableName=name)


def test_put_then_get(dynamodb, table):
    item = {"Artist": {"S": "Arturus"}, "Song": {"S": "Hey"}, "Plays": {"N": "1"}}
    dynamodb.put_item(TableName=table, Item=item)
    got = dynamodb.get_item(TableName=table, Key={"Artist": item["Artist"], "Song": item["Song"]})
    assert got["Item"] == item


def test_condition_failure_is_dynamodbs_error(dynamodb, table):
    key = {"Artist": {"S": "Arturus"}, "Song": {"S": "Once"}}
    dynamodb.put_item(TableName=table, Item=key)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName=table, Item=key, ConditionExpression="attribute_not_exists(Artist)"
        )


def test_server_fixture(openddb_server, openddb_endpoint):
    assert openddb_server.running
    assert openddb_endpoint == openddb_server.endpoint
