#!/usr/bin/env node
'use strict';
// `openddb` on the PATH of an npm project: runs this platform's binary with
// the same arguments and standard streams, passes on the signals a terminal
// or a supervisor sends, and exits as the binary did.

const { spawn } = require('node:child_process');
const { binaryPath } = require('../lib/binary');

let binary;
try {
  binary = binaryPath();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const forwarders = new Map();
for (const signal of SIGNALS) {
  // A terminal's Ctrl-C reaches the binary directly too (same process
  // group); openddb treats a second SIGINT like the first.
  const forward = () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
  };
  forwarders.set(signal, forward);
  process.on(signal, forward);
}

child.on('error', (err) => {
  process.stderr.write(`openddb: cannot run ${binary}: ${err.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so a parent sees what it would have seen
    // running the binary itself.
    const forward = forwarders.get(signal);
    if (forward) {
      process.removeListener(signal, forward);
    }
    process.kill(process.pid, signal);
    // Not reached unless the signal is ignored here.
    process.exit(128 + (require('node:os').constants.signals[signal] || 0));
  }
  process.exit(code === null ? 1 : code);
});
