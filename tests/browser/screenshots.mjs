// Screenshots of the pages a phone shows worst (issue 13), for docs/screenshots/.
//
//   MAMORI_BIN=target/debug/mamori node tests/browser/screenshots.mjs docs/screenshots after
//
// Starts `mamori serve --demo`, signs in as the privacy office (田中, who sees every page) on a
// 390×844 phone in Japanese, and saves one full-page PNG per page as OUTDIR/PREFIX-NAME.png.
// Run it with an older binary and the prefix `before` to show what changed.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startStack } from './harness.mjs';

const [outDir = 'docs/screenshots', prefix = 'after'] = process.argv.slice(2);

const PAGES = [
  ['incident', '/incidents/1'],
  ['incidents', '/incidents'],
  ['ledger', '/ledger'],
  ['recurrence', '/incidents/1/recurrence'],
  ['first-report', '/incidents/new'],
];

const stack = await startStack();
try {
  const { context, page } = await stack.newPage({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 1,
  });
  await stack.signIn(page, 'tanaka');
  mkdirSync(outDir, { recursive: true });
  for (const [name, path] of PAGES) {
    await page.goto(path);
    const file = resolve(join(outDir, `${prefix}-${name}.png`));
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  }
  await context.close();
} finally {
  await stack.close();
}
