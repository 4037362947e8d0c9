// Provisioning for `npm test`: makes sure Chromium, redis-server and iproute2 (`ip`, for network-namespace tests) exist, installing them with apt when root.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `name` is an executable file somewhere on PATH. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const missing = [];
if (!executable(chromiumPath)) {
  if (process.env.CHROMIUM_PATH) {
    console.error(`provision: CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable file.`);
    process.exit(1);
  }
  missing.push('chromium');
}
if (!onPath('redis-server')) missing.push('redis-server');
if (!onPath('ip')) missing.push('iproute2');

if (missing.length === 0) {
  console.log(`provision: ok (chromium at ${chromiumPath}, redis-server and ip on PATH)`);
  process.exit(0);
}

const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version') && onPath('apt-get');

if (!isRoot || !isDebian) {
  console.error(`provision: missing ${missing.join(', ')}.`);
  if (isDebian) {
    console.error(`provision: run this as root, then run the tests again:\n\n  sudo sh -c '${command}'\n`);
  } else {
    console.error(
      'provision: this is not a Debian system with apt-get; install Chromium and redis-server with your ' +
        'package manager (or set CHROMIUM_PATH to a Chromium binary), then run the tests again.',
    );
  }
  process.exit(1);
}

/** apt-get's helpers (dpkg, gpgv) live here even when PATH was narrowed. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs an apt-get command with its output streamed; exits on failure. */
function run(args) {
  console.log(`provision: apt-get ${args.join(' ')}`);
  const result = spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      PATH: `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`,
      DEBIAN_FRONTEND: 'noninteractive',
    },
  });
  if (result.status !== 0) {
    console.error(`provision: 'apt-get ${args.join(' ')}' failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

run(['update']);
run(['install', '-y', ...missing]);

const still = [];
if (!executable(chromiumPath)) still.push(`chromium (expected at ${chromiumPath})`);
if (!onPath('redis-server')) still.push('redis-server');
if (!onPath('ip')) still.push('iproute2 (ip)');
if (still.length > 0) {
  console.error(`provision: still missing after install: ${still.join(', ')}.`);
  process.exit(1);
}
console.log(`provision: installed ${missing.join(', ')}`);
