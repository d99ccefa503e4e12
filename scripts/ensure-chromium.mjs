// Part of `npm test`: the browser test of the trace viewer (test/viewer.test.ts)
// drives Debian's chromium. Where it is missing and this runs as root on a machine
// with apt-get, install it (the project's own set-up, so that `npm ci && npm test`
// is all a fresh machine needs); elsewhere say in one line that the browser test
// will be skipped. Never fails the test run.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM) && !process.env.SMPCHECK_NO_INSTALL) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (root && apt) {
    process.stderr.write('npm test: installing Debian\'s chromium for the viewer\'s browser test (apt-get)\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const ok = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status === 0
      && spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
    if (!ok) process.stderr.write('npm test: chromium could not be installed; the viewer\'s browser test will be skipped\n');
  } else {
    process.stderr.write(`npm test: ${CHROMIUM} is missing (install Debian's chromium as root to run it); the viewer's browser test will be skipped\n`);
  }
}
