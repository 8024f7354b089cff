// Self-inspections in a real browser (issue 17 part 1), on SQLite and PostgreSQL: a staff
// member answers the open inspection on a phone — one question left out is named and focused,
// nothing is lost — then sees the answer read-only; a department head sees the radar chart of
// the departments, the item scores, one department's radar and trend, and records an interview
// with a person who answered "no"; the privacy office publishes a new version of the questions
// and a bad row is named at its field.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

async function submit(page, form, button = 'button[type=submit]') {
  const [response] = await Promise.all([page.waitForNavigation(), form.locator(button).first().click()]);
  return response;
}

for (const postgres of [false, true]) {
  const db = postgres ? 'PostgreSQL' : 'SQLite';
  describe(`self-inspections in the browser (${db})`, () => {
    let stack;
    before(async () => {
      stack = await startStack({ postgres });
    });
    after(async () => {
      await stack?.close();
    });

    test('a staff member answers the inspection on a phone', async () => {
      const { page } = await stack.newPage({ viewport: PHONE });
      await stack.signIn(page, 'yamada');
      await page.goto('/programme');
      const tasks = page.getByTestId('my-tasks');
      const link = tasks.locator('a[href^="/programme/inspections/answer"]').first();
      assert.match(await link.textContent(), /個人の点検/);
      await Promise.all([page.waitForNavigation(), link.click()]);
      const form = page.getByTestId('answer-form');
      const questions = await form.locator('fieldset.question').count();
      assert.equal(questions, 15, 'seed 002: fifteen rules');
      // Phones: every field is at least 16 px.
      const small = await form.locator('input:not([type=hidden]), button').evaluateAll((els) =>
        els.filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16).length,
      );
      assert.equal(small, 0);

      // Everything but question 7 answered; question 3 is a "no" with a note.
      for (let n = 1; n <= questions; n++) {
        if (n === 7) continue;
        await form.getByTestId(`q-${n}-${n === 3 ? 'no' : 'yes'}`).check();
      }
      await form.locator('input[name="note-3"]').fill('会議が続くとロックを忘れる');
      const response = await submit(page, form, '[data-testid=answer-submit]');
      assert.equal(response.status(), 422);
      const summary = page.getByTestId('form-errors');
      assert.match(await summary.textContent(), /質問7に回答してください/);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'answer-q-7', 'the missing question has the focus');
      // What was typed is still there.
      assert.ok(await form.getByTestId('q-3-no').isChecked());
      assert.equal(await form.locator('input[name="note-3"]').inputValue(), '会議が続くとロックを忘れる');
      await screenshot(page, `inspection-answer-refused-${db}`);

      await form.getByTestId('q-7-yes').check();
      const ok = await submit(page, form, '[data-testid=answer-submit]');
      assert.equal(ok.status(), 200);
      assert.match(page.url(), /sent=1/);
      const answered = page.getByTestId('answered');
      assert.match(await answered.textContent(), /回答しました/);
      assert.match(await page.locator('main').textContent(), /会議が続くとロックを忘れる/);
      await screenshot(page, `inspection-answered-${db}`);
      // The task is gone from the hub.
      await page.goto('/programme');
      assert.equal(await page.getByTestId('my-tasks').locator('a[href*="for=individual"]').count(), 0);
      // Staff see no figures.
      const denied = await page.goto('/programme/inspections/departments/1');
      assert.ok([403, 404].includes(denied.status()));
    });

    test('a department head sees the radar charts and records an interview', async () => {
      const { page } = await stack.newPage({ viewport: { width: 1280, height: 900 } });
      await stack.signIn(page, 'suzuki');
      await page.goto('/programme/inspections');
      const rounds = page.getByTestId('insp-rounds');
      assert.ok((await rounds.locator('tbody tr').count()) >= 12, 'a year of monthly rounds');
      // The newest round that is complete: the second row (the first is still open).
      await Promise.all([page.waitForNavigation(), rounds.locator('tbody tr').nth(1).locator('a').click()]);
      const depts = page.getByTestId('round-depts');
      const names = await depts.locator('tbody tr td.main').allTextContents();
      assert.deepEqual(
        names.map((n) => n.trim()),
        ['オペレーションサービス部', 'カスタマーサポート課', '物流課'],
        'the head sees the own department and those below it, nothing else',
      );
      const radar = page.getByTestId('radars').locator('svg[role=img]').first();
      await assert.doesNotReject(radar.waitFor());
      assert.equal(await radar.locator('circle').count() >= 10, true);
      const desc = await radar.locator('desc').textContent();
      assert.match(desc, /ルールの理解：/);
      assert.match(desc, /全社 \d+点/);
      await screenshot(page, `inspection-round-${db}`);

      // One department: the radar against the month before and the company, and the trend.
      await Promise.all([page.waitForNavigation(), depts.getByText('カスタマーサポート課').click()]);
      await assert.doesNotReject(page.getByTestId('dept-radar').locator('svg').waitFor());
      assert.match(await page.getByTestId('dept-radar').textContent(), /前回/);
      const trend = page.getByTestId('dept-trend').locator('svg');
      assert.ok((await trend.locator('circle').count()) >= 12);
      await screenshot(page, `inspection-department-${db}`);

      // The follow-up list: record an interview; a bad date is named at its field.
      await page.goBack();
      await Promise.all([page.waitForNavigation(), page.getByTestId('follow-up-link').click()]);
      const person = page.locator('section[data-testid^=person-]').filter({ hasText: '面談前' }).first();
      await assert.doesNotReject(person.waitFor());
      const id = await person.getAttribute('id');
      await person.locator('summary').click();
      const form = person.locator('form');
      await form.locator('input[name=interviewed_on]').fill('2099-01-01');
      const refused = await submit(page, form);
      assert.equal(refused.status(), 422);
      const again = page.locator(`#${id}`);
      assert.match(await again.getByTestId('form-errors').textContent(), /今日より後/);
      await again.locator('select[name=outcome]').selectOption('improved');
      await again.locator('input[name=interviewed_on]').fill(new Date().toISOString().slice(0, 10));
      await again.locator('input[name=note]').fill('ロックの手順を確認した');
      await submit(page, again.locator('form'));
      assert.match(page.url(), /saved=1/);
      const done = page.locator(`#${id}`);
      assert.match(await done.textContent(), /ロックの手順を確認した/);
      assert.match(await done.textContent(), /改善済み/);
    });

    test('an executive reads the monthly report as a page and as a PDF', async () => {
      const { page } = await stack.newPage({ viewport: { width: 1280, height: 900 } });
      await stack.signIn(page, 'watanabe');
      await page.goto('/programme');
      await Promise.all([page.waitForNavigation(), page.locator('a[href="/programme/report"]').click()]);
      // The month before has a full round (this month's may not have opened yet).
      await Promise.all([page.waitForNavigation(), page.getByTestId('report-prev').click()]);
      await Promise.all([page.waitForNavigation(), page.getByTestId('report-prev').click()]);
      const depts = page.getByTestId('report-depts');
      assert.ok((await depts.locator('tbody tr').count()) >= 5, 'every department of the company');
      assert.match(await page.getByTestId('report-score').textContent(), /\d+点/);
      const radars = page.getByTestId('report-radars').locator('svg[role=img]');
      assert.ok((await radars.count()) >= 6, 'the company and each department');
      assert.match(await page.getByTestId('report-incidents').textContent(), /当月の発生/);
      await screenshot(page, `monthly-report-${db}`);
      const href = await page.getByTestId('report-pdf').getAttribute('href');
      const pdf = await page.request.get(href);
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');
      const bytes = await pdf.body();
      assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
      const { writeFileSync, mkdirSync } = await import('node:fs');
      mkdirSync('test-results', { recursive: true });
      writeFileSync(`test-results/monthly-report-${db}.pdf`, bytes);
      // Staff have no report.
      const { page: staff } = await stack.newPage();
      await stack.signIn(staff, 'yamada');
      const denied = await staff.goto('/programme/report');
      assert.equal(denied.status(), 403);
    });

    test('the privacy office publishes a new version of the questions', async () => {
      const { page } = await stack.newPage({ viewport: { width: 1280, height: 900 } });
      await stack.signIn(page, 'tanaka');
      await page.goto('/programme/inspections/sets/manager');
      const form = page.getByTestId('set-form');
      // A question without its short label is named at its field.
      await form.locator('input[name="label-11"]').fill('');
      await form.locator('input[name="text-11"]').fill('私物の記録媒体が職場にない。');
      const refused = await submit(page, form, '[data-testid=publish-set]');
      assert.equal(refused.status(), 422);
      assert.match(await page.getByTestId('form-errors').textContent(), /質問11: 短い見出しを入力してください/);
      assert.equal(await page.evaluate(() => document.activeElement?.name), 'label-11');
      await form.locator('input[name="label-11"]').fill('私物媒体');
      await submit(page, form, '[data-testid=publish-set]');
      assert.match(page.url(), /saved=1/);
      assert.match(await page.locator('main details').first().textContent(), /第2版[\s\S]*私物媒体: 私物の記録媒体が職場にない。/);
    });
  });
}
