'use strict';
// The platforms that get a package of their own (`@openddb/<key>`), keyed
// by Node's `${process.platform}-${process.arch}`. The launcher's
// optionalDependencies and each platform package's os/cpu fields are
// written from this table by packaging/npm/stamp.js, so the three cannot
// disagree.

const PLATFORMS = {
  'linux-x64': { os: 'linux', cpu: 'x64', rustTarget: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { os: 'linux', cpu: 'arm64', rustTarget: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { os: 'darwin', cpu: 'x64', rustTarget: 'x86_64-apple-darwin' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', rustTarget: 'aarch64-apple-darwin' },
  'win32-x64': { os: 'win32', cpu: 'x64', rustTarget: 'x86_64-pc-windows-msvc' },
};

const SCOPE = '@openddb';

function packageName(key) {
  return `${SCOPE}/${key}`;
}

function binaryFile(key) {
  return PLATFORMS[key].os === 'win32' ? 'openddb.exe' : 'openddb';
}

module.exports = { PLATFORMS, SCOPE, packageName, binaryFile };
