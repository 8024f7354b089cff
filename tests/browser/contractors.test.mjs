// Contractors and internal audit in a real browser (issue 17, parts 5 and 6), on SQLite and
// PostgreSQL, with the demo data: the privacy office finds the contractor whose contract lacks
// the subcontracting clause and whose review is late, records the clause with its evidence
// (the earlier record stays in the history) and the review, and names the contractor on an
// incident; an auditor who is the privacy manager is refused with the reason at the field; the
// auditor records a finding; the owner of a corrective action finds it among the own tasks on
// a phone and marks it done; staff see no register.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

async function submit(page, form) {
  const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').first().click()]);
  return response;
}

for (const postgres of [false, true]) {
  const db = postgres ? 'PostgreSQL' : 'SQLite';
  describe(`contractors and internal audit in the browser (${db})`, () => {
    let stack;
    before(async () => {
      stack = await startStack({ postgres });
    });
    after(async () => {
      await stack?.close();
    });

    test('the privacy office checks a contractor, records a review and names it on an incident', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/programme');
      await Promise.all([page.waitForNavigation(), page.locator('a[href="/programme/contractors"]').click()]);
      const list = page.getByTestId('contractor-list');
      const row = list.locator('tr', { hasText: '株式会社コールパートナーズ' });
      await assert.doesNotReject(row.getByTestId('not-met').waitFor());
      await assert.doesNotReject(row.getByTestId('review-overdue').waitFor());
      await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
      const checklist = page.getByTestId('contractor-checklist');
      const sub = checklist.locator('tr[data-item=subcontracting]');
      assert.equal((await sub.getByTestId('check-status').textContent()).trim(), '満たさない');

      // "Met" without evidence is refused at the field.
      await page.locator('#record-check summary').click();
      let form = page.getByTestId('check-form');
      await form.locator('select[name=item]').selectOption('subcontracting');
      await form.locator('select[name=status]').selectOption('met');
      let res = await submit(page, form);
      assert.equal(res.status(), 422);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'check-document');
      form = page.getByTestId('check-form');
      await form.locator('input[name=document]').fill('覚書（再委託の事前承認と同等の義務）');
      await form.locator('input[name=document_on]').fill('2026-11-30');
      res = await submit(page, form);
      assert.equal(res.status(), 200);
      assert.equal((await sub.getByTestId('check-status').textContent()).trim(), '満たす');
      assert.match(await sub.textContent(), /以前の記録（1件）/);
      await screenshot(page, `contractor-${db}`);

      // The late review is recorded; the mark goes.
      assert.equal(await page.getByTestId('review-overdue').count(), 1);
      await page.locator('#record-review summary').click();
      form = page.getByTestId('review-form');
      await form.locator('select[name=result]').selectOption('satisfactory');
      await form.locator('textarea[name=note]').fill('再委託先の報告書を受領し確認した。');
      await submit(page, form);
      assert.equal(await page.getByTestId('review-overdue').count(), 0);
      assert.match(await page.getByTestId('contractor-reviews').textContent(), /再委託先の報告書/);
      const contractorUrl = page.url().replace(/\?.*$/, '');

      // The incident names the contractor; the contractor lists the incident.
      await page.goto('/incidents/1');
      const pick = page.getByTestId('incident-contractor-form');
      await pick.locator('select[name=contractor_id]').selectOption({ label: '株式会社コールパートナーズ' });
      await submit(page, pick);
      assert.equal((await page.getByTestId('incident-contractor-name').textContent()).trim(), '株式会社コールパートナーズ');
      await page.goto(contractorUrl);
      assert.match(await page.getByTestId('contractor-incidents').textContent(), /BCC/);
    });

    test('an auditor who is not independent is refused with the reason; the auditor records a finding', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/programme/audits');
      await page.locator('#add-audit summary').click();
      const form = page.getByTestId('audit-form');
      await form.locator('select[name=department_id]').selectOption({ label: 'バイヤー部' });
      await form.locator('input[name=planned_on]').fill(`${new Date().getFullYear()}-12-20`);
      await form.locator('select[name=auditor_id]').selectOption({ label: '田中 美咲（個人情報保護事務局）' });
      const res = await submit(page, form);
      assert.equal(res.status(), 422);
      assert.match(await page.getByTestId('auditor-error').textContent(), /個人情報保護管理者/);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'audit-auditor_id');
      await screenshot(page, `audit-plan-refused-${db}`);
      await page.getByTestId('audit-form').locator('select[name=auditor_id]').selectOption({ label: '加藤 恵（内部監査室）' });
      await submit(page, page.getByTestId('audit-form'));
      assert.match(await page.getByTestId('audit-list').textContent(), /バイヤー部/);

      // The auditor conducts the audit of the logistics section.
      const { page: kato } = await stack.newPage();
      await stack.signIn(kato, 'kato');
      await kato.goto('/programme');
      await Promise.all([kato.waitForNavigation(), kato.getByTestId('my-tasks').locator('a', { hasText: '物流課' }).click()]);
      await kato.locator('#record-finding summary').click();
      const finding = kato.getByTestId('finding-form');
      await finding.locator('select[name=severity]').selectOption('minor');
      await finding.locator('textarea[name=description]').fill('出荷伝票の控えが施錠されていない箱に保管されていた。');
      await finding.locator('input[name=rule]').fill('個人情報保護規程 第14条');
      await submit(kato, finding);
      assert.match(await kato.locator('[data-testid=finding]').last().textContent(), /出荷伝票/);
    });

    test('the owner marks a corrective action done from the own tasks on a phone; staff see no register', async () => {
      const { page } = await stack.newPage({ viewport: PHONE });
      await stack.signIn(page, 'suzuki');
      await page.goto('/programme');
      const task = page.getByTestId('my-tasks').locator('a', { hasText: '退職者のアカウント' });
      await Promise.all([page.waitForNavigation(), task.click()]);
      const action = page.locator('[data-testid=action]', { hasText: '退職者のアカウント' });
      const form = action.getByTestId('action-update');
      await form.locator('select[name=status]').selectOption('done');
      await form.locator('input[name=note]').fill('退職手続きにアカウント削除の確認を追加した');
      await submit(page, form);
      assert.equal((await page.locator('[data-testid=action]', { hasText: '退職者のアカウント' }).getByTestId('action-status').textContent()).trim(), '完了');
      await screenshot(page, `audit-action-phone-${db}`);
      await page.goto('/programme');
      assert.equal(await page.getByTestId('my-tasks').locator('a', { hasText: '退職者のアカウント' }).count(), 0);

      const { page: staff } = await stack.newPage();
      await stack.signIn(staff, 'yamada');
      await staff.goto('/programme');
      assert.equal(await staff.locator('a[href="/programme/contractors"]').count(), 0);
      const r = await staff.goto('/programme/contractors');
      assert.equal(r.status(), 403);
    });
  });
}
