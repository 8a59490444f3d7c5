// Starts one pushsvc process for a browser test: cleartext listener on a free loopback port,
// a temporary store, extra TOML appended as given; resolves once its ready file names the
// bound address. stop() ends it by its PID (and only it), then removes the folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function startPushsvc({ bin, extraToml = '', readyMs = 20_000 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushsvc-web-'));
  fs.writeFileSync(path.join(dir, 'pushsvc.toml'), `[server]
listen = "127.0.0.1:0"
[store]
path = "${dir}/data"
[log]
level = "warn"
${extraToml}`);
  const readyFile = path.join(dir, 'ready.json');
  const child = spawn(bin, ['--config', path.join(dir, 'pushsvc.toml'), '--ready-file', readyFile],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + readyMs;
  while (!fs.existsSync(readyFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pushsvc did not start (exit ${child.exitCode}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
  return {
    ready,
    base: `http://${ready.cleartext}`,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const exited = new Promise((r) => child.once('exit', r));
        const timer = new Promise((r) => setTimeout(r, 5000));
        await Promise.race([exited, timer]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Polls `probe` (async, truthy when done) every `everyMs` until `ms` passed; returns its last
// value. For states that only the browser's DOM shows.
export async function until(probe, { ms = 30_000, everyMs = 200 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
