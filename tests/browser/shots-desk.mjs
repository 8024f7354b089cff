import { startStack } from './harness.mjs';
const PAGES = [
  ['ito', 'desk', '/desk'],
  ['ito', 'desk-inquiry', '/desk/inquiries/9'],
  ['tanaka', 'desk-tanaka', '/desk'],
];
const stack = await startStack();
try {
  for (const [w, h, tag] of [[390, 844, 'phone'], [1280, 900, 'wide']]) {
    for (const login of new Set(PAGES.map(([l]) => l))) {
      const { page } = await stack.newPage({ viewport: { width: w, height: h } });
      await stack.signIn(page, login);
      for (const [, name, path] of PAGES.filter(([l]) => l === login)) {
        await page.goto(path);
        await page.screenshot({ path: `/tmp/${name}-${tag}.png`, fullPage: true });
      }
    }
  }
} finally { await stack.stop(); }
