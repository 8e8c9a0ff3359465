"""The PyPI package's smoke test (run by scripts/packages-test.sh in a
scratch venv): start a server, CreateTable, PutItem, GetItem, stop, and
check the process is gone."""

import os
import subprocess

import boto3

import openddb

# The wheel installed the binary as a script of this environment.
binary = openddb.binary_path()
version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
assert version.strip() == f"openddb {openddb.__version__}", (version, openddb.__version__)

with openddb.start() as server:
    print(f"openddb {server.pid} at {server.endpoint}")
    assert server.endpoint == f"http://127.0.0.1:{server.port}", server.endpoint
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    ddb.create_table(
        TableName="Music",
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
    item = {"Artist": {"S": "Arturus"}, "Song": {"S": "Call Me Today"}, "Plays": {"N": "7"}}
    ddb.put_item(TableName="Music", Item=item)
    got = ddb.get_item(
        TableName="Music", Key={"Artist": item["Artist"], "Song": item["Song"]}, ConsistentRead=True
    )
    assert got["Item"] == item, got

# Leaving the block stopped it: SIGTERM, and openddb exits 0 after it.
assert server.process.returncode == 0, server.process.returncode
assert not server.running
try:
    os.kill(server.pid, 0)
except ProcessLookupError:
    pass
else:
    raise AssertionError(f"process {server.pid} is still there")
# A server that cannot start is an error carrying its output, not a hang.
try:
    openddb.start(args=["--no-such-flag"])
except openddb.OpenddbError as err:
    assert "exited before it was ready" in str(err), err
    assert "unexpected argument '--no-such-flag'" in err.output, err.output
else:
    raise AssertionError("start() with an unknown flag returned")
print("python smoke test: passed")
