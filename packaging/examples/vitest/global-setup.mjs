// Vitest global setup: one openddb server for the whole run. Tests read its
// endpoint with inject('openddbEndpoint').
import { start } from 'openddb';

export default async function setup(project) {
  const server = await start({ args: ['--log-level', 'warn'] });
  project.provide('openddbEndpoint', server.endpoint);
  return async () => {
    await server.stop();
  };
}
