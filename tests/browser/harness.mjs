// The browser-test harness: starts a real `mamori serve --demo` on a free loopback port with a
// temporary data directory, reads the demo users' passwords from its output, launches Debian's
// headless Chromium through playwright-core, and stops everything afterwards.
//
// Environment:
//   MAMORI_BIN  the mamori binary (default: target/debug/mamori under the repository root)
//   CHROMIUM    the Chromium executable (default: /usr/bin/chromium)
//   MAMORI_TEST_POSTGRES_URL  the PostgreSQL server for tests that run on it too (scripts/test
//               sets it to a fresh database of its run; a test makes its own database beside it)

import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const resultsDir = join(here, 'test-results');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), with node's crypto only.

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text) {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export const TOTP_STEP_SECONDS = 30;

export function currentStep(nowMs = Date.now()) {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The code for `step` (HOTP of the step counter), zero-padded to `digits`. */
export function totpAt(secret, step, digits = 6) {
  const key = Buffer.isBuffer(secret) ? secret : base32Decode(secret);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

// ---------------------------------------------------------------------------------------------
// The demo output of `mamori serve --demo`.

/**
 * Reads the demo users from the table that `mamori serve --demo` prints:
 *   login  display name (may contain spaces)  code / 日本語ラベル  password  [(2FA note)]
 * The role is the `code / label` pair; the password is the next token after it.
 */
export function parseDemoUsers(text) {
  const users = new Map();
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const slash = tokens.findIndex(
      (t, i) => t === '/' && i >= 2 && /^[a-z_]+$/.test(tokens[i - 1]) && i + 2 < tokens.length,
    );
    if (slash < 0) continue;
    const login = tokens[0];
    if (!/^[a-z0-9._-]+$/.test(login) || login === 'login') continue;
    const user = {
      login,
      name: tokens.slice(1, slash - 1).join(' '),
      role: tokens[slash - 1],
      roleLabel: tokens[slash + 1],
      password: tokens[slash + 2],
      totpAtFirstLogin: line.includes('2FA'),
    };
    users.set(login, user);
  }
  return users;
}

// ---------------------------------------------------------------------------------------------
// The server.

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const live = new Set();
function killAllSync() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

async function waitHealthy(base, child, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mamori exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output()}`);
    }
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && output().includes('mamori: http://')) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`mamori did not answer /healthz within ${timeoutMs} ms:\n${output()}`);
}

/**
 * A fresh, empty PostgreSQL database on the server of MAMORI_TEST_POSTGRES_URL (the one
 * scripts/test creates for its run), made with psql; returns { url, drop }. Its name starts with
 * `mamori_test_`, so scripts/test also drops it if this process dies first.
 */
export function createPostgresDatabase() {
  const base = process.env.MAMORI_TEST_POSTGRES_URL;
  if (!base) throw new Error('MAMORI_TEST_POSTGRES_URL is not set: scripts/test sets it');
  const name = `mamori_test_browser_${process.pid}_${Date.now()}`;
  const admin = new URL(base);
  admin.pathname = '/postgres';
  const psql = (sql) => {
    const r = spawnSync('psql', [admin.href, '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr || r.error}`);
  };
  psql(`CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * Starts `mamori serve --demo` and returns { base, users, stop, output, dataDir }: on SQLite in
 * its data directory, or with `postgres: true` on a fresh PostgreSQL database (dropped by stop).
 */
export async function startMamori({ timeoutMs = 30_000, postgres = false } = {}) {
  const bin = resolve(repoRoot, process.env.MAMORI_BIN || 'target/debug/mamori');
  if (!existsSync(bin)) {
    throw new Error(`no mamori binary at ${bin}: run \`cargo build -p mamori-cli\` or set MAMORI_BIN`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'mamori-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // A clean environment: no MAMORI_* setting of the caller's (a database URL, say) may leak in,
  // and the working directory is the temporary one so that no ./mamori.toml is read.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAMORI_')));
  env.MAMORI_LOG = 'warn';
  env.NO_COLOR = '1';
  const pg = postgres ? createPostgresDatabase() : null;
  if (pg) env.MAMORI_DATABASE_URL = pg.url;
  const child = spawn(
    bin,
    ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', join(tmp, 'data'), '--create'],
    { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((ok) => child.once('exit', ok));
  const output = () => `--- stdout ---\n${out}\n--- stderr ---\n${err}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // graceful shutdown: final audit entry and checkpoint
      const done = await Promise.race([exited.then(() => true), sleep(10_000, false, { ref: false })]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    live.delete(child);
    rmSync(tmp, { recursive: true, force: true });
    pg?.drop();
  };

  try {
    await waitHealthy(base, child, output, timeoutMs);
    const users = parseDemoUsers(out);
    if (users.size < 10) {
      throw new Error(`expected 10 demo users in the output of mamori serve --demo, found ${users.size}:\n${output()}`);
    }
    return { base, users, stop, output, dataDir: join(tmp, 'data') };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The browser.

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM`);
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.png`);
  await page.screenshot({ path, ...opts });
  return path;
}

// ---------------------------------------------------------------------------------------------
// The whole stack for one test file.

/**
 * Starts the server and the browser. `stack.close()` stops both (call it from `after`).
 * The stack remembers each user's TOTP secret and the last step accepted for them, so that
 * helpers can log in again without replaying a code.
 */
export async function startStack({ postgres = false } = {}) {
  const server = await startMamori({ postgres });
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  const totp = new Map(); // login -> { secret, lastStep }
  const stack = {
    ...server,
    browser,
    totp,
    user(login) {
      const u = server.users.get(login);
      if (!u) throw new Error(`no demo user ${login}`);
      return u;
    },
    async newPage({ viewport = { width: 1280, height: 800 }, ...rest } = {}) {
      const context = await browser.newContext({ viewport, baseURL: server.base, locale: 'ja-JP', ...rest });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      return { context, page };
    },
    /**
     * A code not used yet for `login`: the current step's, or, when that step was already used,
     * the next step's (the server accepts one step of clock skew either way), or else it waits
     * for the next step to begin.
     */
    async freshCode(login) {
      const t = totp.get(login);
      if (!t) throw new Error(`${login} has no TOTP secret yet`);
      for (;;) {
        const now = currentStep();
        const step = now > t.lastStep ? now : t.lastStep + 1;
        if (step <= now + 1) return { code: totpAt(t.secret, step), step };
        const nextStepAt = (now + 1) * TOTP_STEP_SECONDS * 1000;
        await sleep(nextStepAt - Date.now() + 200);
      }
    },
    noteUsed(login, step) {
      const t = totp.get(login);
      t.lastStep = Math.max(t.lastStep, step);
    },
    /** Fills the login form and submits it; returns the navigation's response. */
    async submitLogin(page, login, password) {
      await page.goto('/login');
      const form = page.getByTestId('login-form');
      await form.locator('input[name=login]').fill(login);
      await form.locator('input[name=password]').fill(password);
      const [response] = await Promise.all([
        page.waitForNavigation(),
        form.locator('button[type=submit]').click(),
      ]);
      return response;
    },
    /** Submits a TOTP code on /login/totp or /login/totp-setup; returns the final response. */
    async submitCode(page, code) {
      const input = page.locator('form[action^="/login/totp"] input[name=code]');
      await input.fill(code);
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.locator('form[action^="/login/totp"] button[type=submit]').click(),
      ]);
      return response;
    },
    /**
     * Logs `login` in completely, enrolling TOTP where the role requires it, and ends on the
     * home page.
     */
    async signIn(page, login) {
      const u = stack.user(login);
      await stack.submitLogin(page, login, u.password);
      const path = new URL(page.url()).pathname;
      if (path === '/login/totp-setup') {
        const secret = (await page.getByTestId('totp-secret').textContent()).trim();
        const step = currentStep();
        totp.set(login, { secret, lastStep: step - 1 });
        await stack.submitCode(page, totpAt(secret, step));
        stack.noteUsed(login, step);
      } else if (path === '/login/totp') {
        const { code, step } = await stack.freshCode(login);
        await stack.submitCode(page, code);
        stack.noteUsed(login, step);
      }
      const end = new URL(page.url()).pathname;
      if (end !== '/') {
        throw new Error(`${login} did not reach the home page but ${page.url()}`);
      }
    },
    async close() {
      try {
        await browser.close();
      } finally {
        await server.stop();
      }
    },
  };
  return stack;
}
