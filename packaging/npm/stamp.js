'use strict';
// Writes the package.json files of a build (called by build.sh):
//   node stamp.js launcher <dir> <version>       the launcher copied to <dir>
//   node stamp.js platform <dir> <key> <version> a platform package in <dir>
// Versions come from the workspace's Cargo.toml, platforms from
// openddb/lib/platforms.js.

const fs = require('node:fs');
const path = require('node:path');
const { PLATFORMS, packageName, binaryFile } = require('./openddb/lib/platforms');

function write(file, json) {
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}

function launcher(dir, version) {
  const file = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  pkg.version = version;
  // Every platform package at exactly this version: npm installs the one
  // whose os/cpu match and skips the others.
  pkg.optionalDependencies = Object.fromEntries(
    Object.keys(PLATFORMS).map((key) => [packageName(key), version]),
  );
  write(file, pkg);
}

function platform(dir, key, version) {
  const target = PLATFORMS[key];
  if (!target) {
    throw new Error(`unknown platform ${key}; known: ${Object.keys(PLATFORMS).join(', ')}`);
  }
  const launcherPkg = JSON.parse(
    fs.readFileSync(path.join(__dirname, 'openddb', 'package.json'), 'utf8'),
  );
  write(path.join(dir, 'package.json'), {
    name: packageName(key),
    version,
    description: `The openddb binary for ${key} (installed by the openddb package)`,
    license: launcherPkg.license,
    homepage: launcherPkg.homepage,
    repository: { ...launcherPkg.repository, directory: 'packaging/npm' },
    os: [target.os],
    cpu: [target.cpu],
    // No install scripts and nothing to require: only the executable.
    files: [`bin/${binaryFile(key)}`],
    preferUnplugged: true,
  });
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${packageName(key)}\n\nThe \`openddb\` executable for ${key}. Install \`openddb\` instead;\n` +
      'it depends on this package and runs the binary.\n',
  );
}

const [mode, dir, ...rest] = process.argv.slice(2);
if (mode === 'launcher' && rest.length === 1) {
  launcher(dir, rest[0]);
} else if (mode === 'platform' && rest.length === 2) {
  platform(dir, rest[0], rest[1]);
} else {
  process.stderr.write('usage: node stamp.js launcher <dir> <version> | platform <dir> <key> <version>\n');
  process.exit(2);
}
