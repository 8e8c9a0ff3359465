'use strict';
// start(): runs an openddb server for a test run (on a free port and in
// memory by default) and resolves once it accepts requests, which the
// binary announces with the line `openddb listening on HOST:PORT` on stderr.

const { spawn } = require('node:child_process');
const { binaryPath, platformKey } = require('./lib/binary');

const READY = /^openddb listening on (.+):(\d+)$/;
const KEEP_LINES = 200;

class Server {
  constructor(child, host, port, scheme, output) {
    this.process = child;
    this.pid = child.pid;
    this.host = host;
    this.port = port;
    this.endpoint = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this._output = output;
    this._exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
      } else {
        child.once('exit', (code, signal) => resolve({ code, signal }));
      }
    });
    this._stopping = null;
  }

  /** The server's last lines of output (stderr and stdout, interleaved). */
  get output() {
    return this._output.join('\n');
  }

  /** True until the process has exited. */
  get running() {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /**
   * SIGTERM (openddb finishes the requests in flight, then exits), SIGKILL
   * if it is still there after `graceMs`. Resolves with how it exited.
   */
  stop({ graceMs = 10000 } = {}) {
    if (this._stopping) {
      return this._stopping;
    }
    this._stopping = (async () => {
      if (this.running) {
        this.process.kill('SIGTERM');
        let timer;
        const late = new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs, 'late');
        });
        const first = await Promise.race([this._exited, late]);
        clearTimeout(timer);
        if (first === 'late' && this.running) {
          this.process.kill('SIGKILL');
        }
      }
      const exit = await this._exited;
      process.removeListener('exit', this._onParentExit);
      return exit;
    })();
    return this._stopping;
  }
}

function serverArgs(options) {
  const args = ['--port', String(options.port ?? 0), '--host', options.host ?? '127.0.0.1'];
  if (options.inMemory ?? true) {
    args.push('--in-memory');
  } else if (options.dataDir !== undefined) {
    args.push('--data-dir', options.dataDir);
  }
  return args.concat(options.args ?? []);
}

function endpointHost(host) {
  // A server on every interface is reached through loopback.
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/**
 * Starts openddb and resolves with a Server once it is ready; rejects (with
 * the server's output) if it exits first or is not ready within timeoutMs.
 */
// async: a missing binary is a rejection too, not a synchronous throw.
async function start(options = {}) {
  const binary = options.binaryPath ?? binaryPath();
  const args = serverArgs(options);
  const scheme = args.some((a) => /^--?tls-(cert|self-signed)$/.test(a)) ? 'https' : 'http';
  const timeoutMs = options.timeoutMs ?? 30000;

  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const output = [];
    let server = null;
    let settled = false;

    const fail = (message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      const tail = output.length ? `\n--- openddb output ---\n${output.join('\n')}` : '';
      const err = new Error(`${message}${tail}`);
      err.output = output.join('\n');
      reject(err);
    };

    const onLine = (line) => {
      output.push(line);
      if (output.length > KEEP_LINES) output.shift();
      if (settled) return;
      const ready = READY.exec(line);
      if (!ready) return;
      settled = true;
      clearTimeout(timer);
      const host = endpointHost(ready[1].replace(/^\[(.*)\]$/, '$1'));
      server = new Server(child, host, Number(ready[2]), scheme, output);
      // The server must not outlive the program that started it, and must
      // not keep that program alive either: stop() or exit, whichever first.
      server._onParentExit = () => {
        if (server.running) child.kill('SIGTERM');
      };
      process.on('exit', server._onParentExit);
      child.unref();
      child.stdout.unref();
      child.stderr.unref();
      resolve(server);
    };

    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      // Read to the end even after start-up: a full pipe would block the
      // server's logging.
      stream.on('data', (chunk) => {
        const lines = (partial + chunk).split(/\r?\n/);
        partial = lines.pop();
        lines.forEach(onLine);
      });
      stream.on('end', () => {
        if (partial) onLine(partial);
        partial = '';
      });
    }

    const timer = setTimeout(
      () => fail(`openddb did not start within ${timeoutMs} ms (${binary} ${args.join(' ')})`),
      timeoutMs,
    );
    child.once('error', (err) => fail(`cannot run ${binary}: ${err.message}`));
    // 'close', not 'exit': by then the pipes are drained, so the error
    // carries the server's last words.
    child.once('close', (code, signal) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      fail(`openddb exited before it was ready (${how}): ${binary} ${args.join(' ')}`);
    });
  });
}

module.exports = { start, binaryPath, platformKey, Server };
