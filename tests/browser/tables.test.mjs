// Tables on a phone and the first report by keyboard (issue 13, items 3 and 9).
//
// On a 390 × 844 phone a table whose main column would be squeezed becomes cards (each value
// under its column's name): the ledger's 項目 and the incident list's 件名 get the card's
// width, the recurrence form's 担当 and 期日 are on screen, and nothing but a scrolling
// .table-wrap is wider than the screen. A .table-wrap that scrolls shows it and takes the
// keyboard. The first report is filed by keyboard in at most 12 key presses after the
// description is typed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 900 } };

/** Elements wider than the screen that are not inside a scrolling .table-wrap. */
function overflowing(page) {
  return page.evaluate(() => {
    const w = window.innerWidth;
    const out = [];
    for (const e of document.querySelectorAll('body *')) {
      if (e.closest('.table-wrap')) continue;
      const r = e.getBoundingClientRect();
      if (r.width > 0 && (r.right > w + 1 || r.left < -1) && getComputedStyle(e).position !== 'absolute') {
        out.push(`${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).replace(/ /g, '.') : ''} ${Math.round(r.left)}–${Math.round(r.right)}`);
      }
    }
    return { page: document.documentElement.scrollWidth, screen: w, out };
  });
}

async function noOverflow(page, what) {
  const o = await overflowing(page);
  assert.deepEqual(o.out, [], `${what}: wider than the ${o.screen} px screen: ${o.out.join(', ')}`);
  assert.ok(o.page <= o.screen, `${what}: the page is ${o.page} px wide on a ${o.screen} px screen`);
}

/** Widths of the cells of a table's column named `label` (their data-label). */
function cellWidths(page, testid, selector) {
  return page.evaluate(
    ([t, s]) => [...document.querySelectorAll(`[data-testid=${t}] ${s}`)].map((c) => c.getBoundingClientRect().width),
    [testid, selector],
  );
}

describe('tables on a phone, the first report by keyboard', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('on a phone tables become cards: main columns get the width, required inputs are on screen', async () => {
    const phone = await stack.newPage(PHONE);
    const desk = await stack.newPage(DESKTOP);
    await stack.signIn(phone.page, 'tanaka');
    await stack.signIn(desk.page, 'tanaka');

    // The ledger: 項目 was 1–2 characters a line (the first row ~1,100 px tall).
    await phone.page.goto('/ledger');
    const items = await cellWidths(phone.page, 'ledger-list', 'td[data-label="項目"]');
    assert.ok(items.length > 0 && Math.min(...items) > 200, `ledger 項目 cells ${items.join(', ')} px wide`);
    const rowHeights = await phone.page.evaluate(() => [...document.querySelectorAll('[data-testid=ledger-list] tbody tr')].map((r) => r.getBoundingClientRect().height));
    assert.ok(Math.max(...rowHeights) < 700, `ledger rows ${rowHeights.map(Math.round).join(', ')} px tall`);
    await noOverflow(phone.page, '/ledger');
    await screenshot(phone.page, 'tables-ledger-phone', { fullPage: true });
    await desk.page.goto('/ledger');
    await screenshot(desk.page, 'tables-ledger-desktop', { fullPage: true });

    // A .table-wrap is a named, focusable region, and shows that it scrolls (shadows).
    const wrap = await desk.page.evaluate(() => {
      const w = document.querySelector('[data-testid=ledger-list]').closest('.table-wrap');
      return { tabindex: w.getAttribute('tabindex'), name: w.getAttribute('aria-label'), bg: getComputedStyle(w).backgroundImage, role: w.querySelector('table').getAttribute('role') };
    });
    assert.equal(wrap.tabindex, '0');
    assert.ok(wrap.name, 'the scrolling table has a name');
    assert.match(wrap.bg, /radial-gradient/);
    assert.equal(wrap.role, 'table', 'the table keeps its role when the phone turns rows into cards');
    const cellRoles = await phone.page.evaluate(() => [...document.querySelectorAll('[data-testid=ledger-list] td')].every((c) => c.getAttribute('role') === 'cell'));
    assert.ok(cellRoles, 'every cell says it is a cell');

    // The incident list: 件名 was 4 characters a line.
    await phone.page.goto('/incidents');
    const subjects = await cellWidths(phone.page, 'incident-list', 'td.subject');
    assert.ok(subjects.length > 0 && Math.min(...subjects) > 200, `件名 cells ${subjects.join(', ')} px wide`);
    await noOverflow(phone.page, '/incidents');
    await screenshot(phone.page, 'tables-incidents-phone', { fullPage: true });
    await desk.page.goto('/incidents');
    await screenshot(desk.page, 'tables-incidents-desktop', { fullPage: true });

    // The recurrence form (the department head writes it): 担当 and 期日 (required) are on
    // screen, not beyond a sideways scroll.
    const href = await phone.page.locator('[data-testid=incident-list] td.subject a').last().getAttribute('href');
    const head = await stack.newPage(PHONE);
    await stack.signIn(head.page, 'suzuki');
    await head.page.goto(`${href}/recurrence`);
    const inputs = await head.page.evaluate(() => [...document.querySelectorAll('[data-testid^=measures-] input')]
      .map((i) => { const r = i.getBoundingClientRect(); return { name: i.name, left: r.left, right: r.right, width: r.width }; }));
    assert.ok(inputs.some((i) => i.name.endsWith('_owner')) && inputs.some((i) => i.name.endsWith('_date')), JSON.stringify(inputs));
    const off = inputs.filter((i) => i.left < 0 || i.right > 390 || i.width < 100);
    assert.deepEqual(off, [], `inputs off screen or too narrow: ${JSON.stringify(off)}`);
    await noOverflow(head.page, 'recurrence');
    await screenshot(head.page, 'tables-recurrence-phone', { fullPage: true });
    await head.context.close();
    await desk.page.goto(`${href}/recurrence`);
    await screenshot(desk.page, 'tables-recurrence-desktop', { fullPage: true });

    // The incident page (obligations) and the dashboard's deadlines.
    await phone.page.goto(href);
    await noOverflow(phone.page, 'incident');
    await phone.page.goto('/');
    await noOverflow(phone.page, '/');
    const due = await cellWidths(phone.page, 'deadlines', 'td.main');
    assert.ok(due.length > 0 && Math.min(...due) > 250, `deadline cells ${due.join(', ')} px wide`);
    await screenshot(phone.page, 'tables-home-phone', { fullPage: true });
    for (const p of [phone, desk]) await p.context.close();

    // The audit log, admin users and the vault, as those who see them.
    for (const [login, paths] of [['kato', ['/audit']], ['admin', ['/admin/users']], ['kobayashi', ['/vault', '/vault/grants']]]) {
      const ph = await stack.newPage(PHONE);
      const dk = await stack.newPage(DESKTOP);
      await stack.signIn(ph.page, login);
      await stack.signIn(dk.page, login);
      for (const path of paths) {
        const response = await ph.page.goto(path);
        assert.equal(response.status(), 200, path);
        await noOverflow(ph.page, path);
        const main = await ph.page.evaluate(() => [...document.querySelectorAll('table.cards td.main')].map((c) => c.getBoundingClientRect().width));
        assert.ok(main.every((w) => w > 250), `${path}: main cells ${main.join(', ')} px wide`);
        await screenshot(ph.page, `tables${path.replace(/\//g, '-')}-phone`, { fullPage: true });
        await dk.page.goto(path);
        await screenshot(dk.page, `tables${path.replace(/\//g, '-')}-desktop`, { fullPage: true });
      }
      for (const p of [ph, dk]) await p.context.close();
    }
  });

  test('the first report is filed by keyboard in at most 12 key presses after the description', async () => {
    const { context, page } = await stack.newPage(DESKTOP);
    await stack.signIn(page, 'yamada');
    await page.goto('/incidents/new');
    // The time found is one text field, prefilled with now in Japan.
    assert.match(await page.locator('input[name=found_at]').inputValue(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    await page.locator('textarea[name=description]').focus();
    await page.keyboard.type('キーボードだけで第一報: USBメモリを紛失した');

    let presses = 0;
    const press = async (key) => {
      presses += 1;
      await page.keyboard.press(key);
    };
    const active = () => page.evaluate(() => {
      const a = document.activeElement;
      return { tag: a.tagName.toLowerCase(), name: a.getAttribute('name'), type: a.getAttribute('type'), value: a.value };
    });
    // The event: leak (漏えい), chosen with the arrow keys on the closed select.
    await press('Tab');
    assert.equal((await active()).name, 'event');
    while ((await active()).value !== 'leak') {
      assert.ok(presses < 8, 'the arrows did not reach 漏えい');
      await press('ArrowUp');
    }
    // Then Tab to the submit button and press Enter.
    for (;;) {
      await press('Tab');
      const a = await active();
      if (a.tag === 'button' && a.type === 'submit') break;
      assert.ok(presses < 30, `still not at the submit button: ${JSON.stringify(a)}`);
    }
    await Promise.all([page.waitForURL(/\/incidents\/\d+\?filed=1/), press('Enter')]);
    assert.ok(presses <= 12, `${presses} key presses after the description`);
    console.log(`# the first report took ${presses} key presses after the description`);
    assert.match(await page.locator('.flash').textContent(), /第一報を受け付けました/);
    assert.match(await page.locator('h1').textContent(), /キーボードだけで第一報/);
    await screenshot(page, 'tables-first-report-filed', { fullPage: true });

    // The first-report form on a phone and on a desktop.
    await page.goto('/incidents/new');
    await screenshot(page, 'tables-first-report-desktop', { fullPage: true });
    const phone = await stack.newPage(PHONE);
    await stack.signIn(phone.page, 'yamada');
    await phone.page.goto('/incidents/new');
    await noOverflow(phone.page, '/incidents/new');
    await screenshot(phone.page, 'tables-first-report-phone', { fullPage: true });
    await context.close();
    await phone.context.close();
  });
});
