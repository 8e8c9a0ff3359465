// The npm package's smoke test (run by scripts/packages-test.sh in a
// scratch project): start a server, CreateTable, PutItem, GetItem, stop,
// and check the process is gone.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { start } from 'openddb';

// The CommonJS entry is the same implementation.
assert.equal(createRequire(import.meta.url)('openddb').start, start);

const server = await start();
console.log(`openddb ${server.pid} at ${server.endpoint}`);
assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);

const client = new DynamoDBClient({
  endpoint: server.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
try {
  await client.send(
    new CreateTableCommand({
      TableName: 'Music',
      AttributeDefinitions: [
        { AttributeName: 'Artist', AttributeType: 'S' },
        { AttributeName: 'Song', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'Artist', KeyType: 'HASH' },
        { AttributeName: 'Song', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const item = {
    Artist: { S: 'Arturus' },
    Song: { S: 'Call Me Today' },
    Plays: { N: '7' },
  };
  await client.send(new PutItemCommand({ TableName: 'Music', Item: item }));
  const got = await client.send(
    new GetItemCommand({
      TableName: 'Music',
      Key: { Artist: item.Artist, Song: item.Song },
      ConsistentRead: true,
    }),
  );
  assert.deepEqual(got.Item, item);
} finally {
  client.destroy();
}

const exit = await server.stop();
assert.deepEqual(exit, { code: 0, signal: null }, `openddb exited with ${JSON.stringify(exit)}`);
assert.equal(server.running, false);
// Signal 0 checks that the pid is gone.
assert.throws(() => process.kill(server.pid, 0), { code: 'ESRCH' });
// A server that cannot start is an error carrying its output, not a hang.
await assert.rejects(start({ args: ['--no-such-flag'] }), (err) => {
  assert.match(err.message, /exited before it was ready/);
  assert.match(err.output, /unexpected argument '--no-such-flag'/);
  return true;
});
console.log('node smoke test: passed');
