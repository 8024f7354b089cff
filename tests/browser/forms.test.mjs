// Refused forms in a real browser (issue 13, item 6): an empty first report on a Japanese page
// gets no English bubble from the browser (the form has `novalidate`; the server answers 422),
// but a summary of the problems above the form, the first invalid field focused (`autofocus`,
// no script), `aria-invalid` and the message under the field. A second submit with several
// problems names them all, each link leads to its field, and nothing typed is lost.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

describe('refused forms in the browser', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('an empty first report: no browser bubble, a summary, the first invalid field focused', async () => {
    const { page } = await stack.newPage();
    await stack.signIn(page, 'yamada');
    await page.goto('/incidents/new');
    const form = page.getByTestId('first-report');
    assert.equal(await form.getAttribute('novalidate'), '', 'the form has novalidate');
    assert.equal(await page.getByTestId('form-errors').count(), 0);

    // Submitting the empty form reaches the server (a browser bubble would stop it here).
    const [response] = await Promise.all([
      page.waitForNavigation(),
      form.locator('button[type=submit]').first().click(),
    ]);
    assert.equal(response.status(), 422);
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');

    const summary = page.getByTestId('form-errors');
    assert.equal(await summary.getAttribute('role'), 'alert');
    assert.match(await summary.locator('h2').textContent(), /入力内容を確認してください（1件）/);
    const links = await summary.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
    assert.deepEqual(links, [['#report-description', '何が起きたかを入力してください']]);

    const description = page.locator('#report-description');
    assert.equal(await description.getAttribute('aria-invalid'), 'true');
    assert.equal(await description.getAttribute('aria-describedby'), 'report-description-error');
    assert.equal(await page.locator('#report-description-error').textContent(), '何が起きたかを入力してください');
    // The first invalid field has the focus when the page is shown.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'report-description');
    // No field is invalid in the browser's own sense either: it never showed a bubble.
    assert.equal(await page.evaluate(() => document.querySelector('form[novalidate]') !== null), true);
    await screenshot(page, 'first-report-refused', { fullPage: true });
    await page.context().close();
  });

  test('several problems: all in the summary in form order, each link leads to its field, values kept', async () => {
    const { page } = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await stack.signIn(page, 'yamada');
    await page.goto('/incidents/new');
    const form = page.getByTestId('first-report');
    await form.locator('input[name=persons]').fill('1000人以上');
    await form.locator('input[name=found_by]').fill('佐藤');
    await form.locator('textarea[name=actions_taken]').fill('送信先に削除を依頼した');
    const [response] = await Promise.all([
      page.waitForNavigation(),
      form.locator('button[type=submit]').first().click(),
    ]);
    assert.equal(response.status(), 422);
    const summary = page.getByTestId('form-errors');
    assert.match(await summary.locator('h2').textContent(), /（2件）/);
    const hrefs = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(hrefs, ['#report-description', '#report-persons']);
    assert.match(await page.locator('#report-persons-error').textContent(), /1000人以上/);
    assert.equal(await page.locator('#report-persons').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'report-description');
    // What was typed is still there.
    assert.equal(await page.locator('#report-persons').inputValue(), '1000人以上');
    assert.equal(await page.locator('#report-found_by').inputValue(), '佐藤');
    assert.equal(await page.locator('#report-actions_taken').inputValue(), '送信先に削除を依頼した');
    // The link to the second problem leads to its field.
    await summary.locator('a[href="#report-persons"]').click();
    assert.equal(new URL(page.url()).hash, '#report-persons');
    const box = await page.locator('#report-persons').boundingBox();
    assert.ok(box && box.y >= 0 && box.y < 844, `the field is on screen (y = ${box?.y})`);
    // The messages are visible (not hidden by the phone layout) and red-bordered fields stand out.
    const visible = await page.locator('.field-error').evaluateAll((es) => es.every((e) => e.getBoundingClientRect().height > 0));
    assert.ok(visible, 'every message is shown');
    await screenshot(page, 'first-report-refused-phone', { fullPage: true });

    // Corrected, it goes through.
    await page.locator('#report-description').fill('顧客リストを誤送信した');
    await page.locator('#report-persons').fill('約1000');
    await Promise.all([page.waitForURL(/\/incidents\/\d+\?filed=1/), form.locator('button[type=submit]').first().click()]);
    await page.context().close();
  });
});
