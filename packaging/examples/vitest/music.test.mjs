import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';

const client = new DynamoDBClient({
  endpoint: inject('openddbEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
// One server for every test file: a table name of its own keeps files apart.
const table = `music-${randomUUID()}`;

beforeAll(async () => {
  await client.send(
    new CreateTableCommand({
      TableName: table,
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
});

afterAll(() => client.destroy());

test('an item put is the item got', async () => {
  const item = { Artist: { S: 'Arturus' }, Song: { S: 'Hey' }, Plays: { N: '1' } };
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
  const { Item } = await client.send(
    new GetItemCommand({ TableName: table, Key: { Artist: item.Artist, Song: item.Song } }),
  );
  expect(Item).toEqual(item);
});

test('a query reads songs in sort key order', async () => {
  for (const song of ['b', 'c', 'a']) {
    await client.send(
      new PutItemCommand({ TableName: table, Item: { Artist: { S: 'Q' }, Song: { S: song } } }),
    );
  }
  const { Items } = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'Artist = :a',
      ExpressionAttributeValues: { ':a': { S: 'Q' } },
    }),
  );
  expect(Items.map((i) => i.Song.S)).toEqual(['a', 'b', 'c']);
});
