'use strict';
// Finds the openddb executable: OPENDDB_BINARY_PATH if set, else the one in
// this platform's package (@openddb/<platform>-<arch>), installed by npm as
// an optional dependency of the launcher.

const fs = require('node:fs');
const { PLATFORMS, packageName, binaryFile } = require('./platforms');

function platformKey() {
  return `${process.platform}-${process.arch}`;
}

function binaryPath() {
  const override = process.env.OPENDDB_BINARY_PATH;
  if (override) {
    if (!fs.existsSync(override)) {
      throw new Error(`openddb: OPENDDB_BINARY_PATH is set to ${override}, which does not exist`);
    }
    return override;
  }
  const key = platformKey();
  if (!Object.prototype.hasOwnProperty.call(PLATFORMS, key)) {
    throw new Error(
      `openddb: no prebuilt binary for ${key} (there are packages for ` +
        `${Object.keys(PLATFORMS).join(', ')}); build one with ` +
        '`cargo install openddb` and set OPENDDB_BINARY_PATH to it',
    );
  }
  const name = packageName(key);
  // Resolved from this file, so the platform package is found wherever npm,
  // pnpm or yarn placed it next to the launcher.
  try {
    return require.resolve(`${name}/bin/${binaryFile(key)}`);
  } catch (err) {
    throw new Error(
      `openddb: the package ${name}, which holds the openddb binary for this ` +
        'platform, is not installed. It is an optional dependency of openddb: ' +
        'reinstall without --no-optional / --omit=optional, or set ' +
        `OPENDDB_BINARY_PATH to an openddb binary (${err.code || err.message})`,
    );
  }
}

module.exports = { binaryPath, platformKey };
