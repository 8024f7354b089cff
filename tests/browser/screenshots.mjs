// Screenshots of the pages a phone shows worst (issue 13), for docs/screenshots/.
//
//   MAMORI_BIN=target/debug/mamori node tests/browser/screenshots.mjs docs/screenshots after
//
// Starts `mamori serve --demo`, signs in on a 390×844 phone in Japanese — as the privacy office
// (田中), and as the department head (鈴木) for the recurrence form his department writes — and
// saves one full-page PNG per page as OUTDIR/PREFIX-NAME.png.
// Run it with an older binary and the prefix `before` to show what changed.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startStack } from './harness.mjs';

const [outDir = 'docs/screenshots', prefix = 'after'] = process.argv.slice(2);

const PAGES = [
  ['tanaka', 'incident', '/incidents/1'],
  ['tanaka', 'incidents', '/incidents'],
  ['tanaka', 'ledger', '/ledger'],
  ['tanaka', 'first-report', '/incidents/new'],
  ['suzuki', 'recurrence', '/incidents/1/recurrence'],
];

const stack = await startStack();
try {
  mkdirSync(outDir, { recursive: true });
  for (const login of new Set(PAGES.map(([l]) => l))) {
    const { context, page } = await stack.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 1,
    });
    await stack.signIn(page, login);
    for (const [, name, path] of PAGES.filter(([l]) => l === login)) {
      await page.goto(path);
      const file = resolve(join(outDir, `${prefix}-${name}.png`));
      await page.screenshot({ path: file, fullPage: true });
      console.log(file);
    }
    await context.close();
  }
} finally {
  await stack.close();
}
