// Take-outs and the device register in a real browser (issue 17, parts 3 and 4), on SQLite and
// PostgreSQL: a staff member of the contact centre asks on a phone to take customer data out on
// a USB stick (an empty form first: every problem at its field); the head of the department
// above refuses without a reason (refused at the field), then approves from the approval queue;
// the staff member records the return on the phone and the take-out is closed. The privacy
// office's register holds the demo's ~300 lending laptops on pages, filters them, and shows one
// device's lending form.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

async function submit(page, form, button = 'button[type=submit]') {
  const [response] = await Promise.all([page.waitForNavigation(), form.locator(button).first().click()]);
  return response;
}

/** The JST day `days` from now, as a date field takes it. */
function jstDay(days) {
  const d = new Date(Date.now() + 9 * 3600 * 1000 + days * 86400 * 1000);
  return d.toISOString().slice(0, 10);
}

for (const postgres of [false, true]) {
  const db = postgres ? 'PostgreSQL' : 'SQLite';
  describe(`take-outs in the browser (${db})`, () => {
    let stack;
    before(async () => {
      stack = await startStack({ postgres });
    });
    after(async () => {
      await stack?.close();
    });

    test('a head approves a take-out asked on a phone; the requester records the return', async () => {
      // ── The request, on a phone. ──
      const phone = await stack.newPage({ viewport: PHONE, isMobile: true, hasTouch: true });
      const p = phone.page;
      await stack.signIn(p, 'ito');
      await p.goto('/programme');
      await Promise.all([p.waitForNavigation(), p.locator('a[href="/programme/takeouts/new"]').click()]);
      const form = p.getByTestId('takeout-form');
      // Fields are 16 px on a phone (no zoom on focus) and inside the screen.
      for (const name of ['dataset_id', 'carrier', 'purpose', 'until']) {
        const field = form.locator(`[name=${name}]`);
        const size = await field.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
        assert.ok(size >= 16, `${name}: ${size}px`);
        const box = await field.boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${name} is off the screen`);
      }
      // Sent empty: every problem at its field, the first one focused.
      let res = await submit(p, form);
      assert.equal(res.status(), 422);
      const errors = p.getByTestId('form-errors');
      assert.match(await errors.textContent(), /持ち出す個人情報/);
      assert.match(await errors.textContent(), /理由/);
      assert.equal(await p.evaluate(() => document.activeElement?.id), 'takeout-dataset_id');
      await screenshot(p, `takeout-request-refused-${db}`);
      // Filled in.
      const datasets = await form.locator('select[name=dataset_id] option').allTextContents();
      assert.ok(datasets.length >= 2, `the contact centre's ledger entries: ${datasets}`);
      await form.locator('select[name=dataset_id]').selectOption({ index: 1 });
      const carrier = form.locator('select[name=carrier]');
      const usb = (await carrier.locator('option').allTextContents()).find((t) => t.startsWith('USB-'));
      assert.ok(usb, 'the department’s USB sticks are offered');
      await carrier.selectOption({ label: usb });
      await form.locator('[name=purpose]').fill('顧客訪問で契約内容を確認するため');
      await form.locator('[name=until]').fill(jstDay(2));
      res = await submit(p, form);
      assert.equal(res.status(), 200);
      const m = p.url().match(/\/programme\/takeouts\/(\d+)\?sent=1$/);
      assert.ok(m, p.url());
      const id = m[1];
      assert.equal(await p.getByTestId('takeout-status').getAttribute('data-status'), 'requested');
      assert.equal(await p.getByTestId('decide-form').count(), 0, 'no decision for the requester');
      await screenshot(p, `takeout-requested-${db}`);

      // ── The decision, by the head of the department above, from the queue. ──
      const desk = await stack.newPage();
      const h = desk.page;
      await stack.signIn(h, 'suzuki');
      await h.goto('/programme');
      const task = h.getByTestId('my-tasks').locator('a[href="/programme/takeouts/queue"]');
      await Promise.all([h.waitForNavigation(), task.click()]);
      const row = h.getByTestId(`takeout-${id}`);
      assert.match(await row.textContent(), /伊藤 さくら/);
      await Promise.all([h.waitForNavigation(), row.locator('a').click()]);
      const decide = h.getByTestId('decide-form');
      // A refusal needs its reason.
      res = await submit(h, decide, '[data-testid=refuse]');
      assert.equal(res.status(), 422);
      assert.equal(await h.locator('#decide-reason').getAttribute('aria-invalid'), 'true');
      assert.equal(await h.evaluate(() => document.activeElement?.id), 'decide-reason');
      res = await submit(h, h.getByTestId('decide-form'), '[data-testid=approve]');
      assert.equal(res.status(), 200);
      assert.match(h.url(), /\?done=approved$/);
      assert.equal(await h.getByTestId('takeout-status').getAttribute('data-status'), 'approved');
      await screenshot(h, `takeout-approved-${db}`);
      // The queue is empty of it now; the list of open take-outs shows it as out.
      await h.goto('/programme/takeouts/queue');
      assert.equal(await h.getByTestId(`takeout-${id}`).count(), 0);
      await h.goto('/programme/takeouts?show=open');
      assert.match(await h.getByTestId(`takeout-${id}`).textContent(), /持ち出し中/);

      // ── The return, recorded by the requester on the phone, from the own tasks. ──
      await p.goto('/programme');
      const own = p.getByTestId('my-tasks').locator(`a[href="/programme/takeouts/${id}#evidence"]`);
      await Promise.all([p.waitForNavigation(), own.click()]);
      const ev = p.getByTestId('evidence-form');
      await ev.locator('input[name=evidence][value=returned]').check();
      await ev.locator('[name=note]').fill('課の金庫に返却しました');
      res = await submit(p, ev);
      assert.equal(res.status(), 200);
      assert.match(p.url(), /\?done=closed$/);
      assert.equal(await p.getByTestId('takeout-status').getAttribute('data-status'), 'closed');
      assert.match(await p.getByTestId('takeout-evidence').textContent(), /返却した/);
      await screenshot(p, `takeout-returned-${db}`);
      // The head sees it among the returned ones.
      await h.goto('/programme/takeouts?show=closed');
      assert.equal(await h.getByTestId(`takeout-${id}`).count(), 1);
      await phone.context.close();
      await desk.context.close();
    });

    test('the register holds the lending laptops on pages, filtered, and lends one', async () => {
      const { page, context } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/programme/devices');
      const count = await page.getByTestId('device-count').textContent();
      const n = Number(count.match(/(\d+)台/)[1]);
      assert.ok(n >= 300, count);
      assert.equal(await page.getByTestId('device-list').locator('tbody tr').count(), 50);
      await Promise.all([page.waitForNavigation(), page.getByTestId('next-page').click()]);
      assert.match(page.url(), /page=2/);
      // Laptops in stock of one department.
      await page.goto('/programme/devices');
      const filters = page.getByTestId('device-filters');
      await filters.locator('select[name=department]').selectOption({ label: '物流課' });
      await filters.locator('select[name=kind]').selectOption('laptop');
      await filters.locator('select[name=state]').selectOption('in_stock');
      await submit(page, filters);
      const rows = page.getByTestId('device-list').locator('tbody tr');
      assert.ok((await rows.count()) > 10);
      for (const text of await rows.allTextContents()) {
        assert.match(text, /物流課/);
        assert.match(text, /在庫/);
      }
      // One of them, lent to a colleague for a week.
      await Promise.all([page.waitForNavigation(), rows.first().locator('a').click()]);
      const lend = page.getByTestId('lend-form');
      await lend.locator('[name=borrower]').fill('yamada');
      await lend.locator('[name=due]').fill(jstDay(7));
      const res = await submit(page, lend);
      assert.equal(res.status(), 200);
      assert.match(page.url(), /\?lent=1$/);
      assert.match(await page.getByTestId('device-state').textContent(), /貸出中/);
      assert.match(await page.getByTestId('open-loan').textContent(), /山田 太郎/);
      await screenshot(page, `device-lent-${db}`);
      await context.close();
    });
  });
}
