// The vault in a real browser (issue 5): a custodian issues a time-limited grant; a staff member
// finds a customer, reveals a granted field (htmx), and the page blanks it by itself when the
// grant runs out (the browser's clock is driven by Playwright); a grant revoked while a page is
// open stops the next click and blanks the page; a personal API token made on the account page
// works with the API, and stops with the grant. Searches are sent with POST (the form and the
// API), so that no e-mail address or phone number ends up in an address, a log or the history;
// the form offers only the ways of searching the grant covers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const CUSTOMER = 'customer007@example.jp';
const PURPOSE = '問い合わせ 2026-1124-01 の本人確認';

/** Searches `ds` from the lookup form (a POST with the page's CSRF token). */
async function lookup(page, ds, by, q) {
  await page.goto(`/vault/${ds}`);
  const form = page.getByTestId('vault-lookup');
  await form.locator('select[name=by]').selectOption(by);
  await form.locator('input[name=q]').fill(q);
  await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
  assert.equal(new URL(page.url()).search, '', 'the search is not in the address');
  assert.doesNotMatch(page.url(), /@/);
}

describe('the vault in the browser', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('a grant reveals a field until it runs out; a revoked grant stops the open page; an API token follows the grant', async () => {
    // The custodian grants 山田 the e-mail and phone of 配送先情報 for one hour.
    const cust = await stack.newPage();
    await stack.signIn(cust.page, 'kobayashi');
    await cust.page.goto('/vault/grants');
    const form = cust.page.getByTestId('grant-form');
    const grantee = await form.locator('select[name=grantee] option', { hasText: '山田' }).first().getAttribute('value');
    await form.locator('select[name=grantee]').selectOption(grantee);
    const ds = await form.locator('select[name=dataset] option', { hasText: '配送先情報' }).getAttribute('value');
    await form.locator('select[name=dataset]').selectOption(ds);
    const fields = form.locator(`fieldset.grant-fields[data-dataset="${ds}"]`);
    assert.ok(await fields.isVisible(), 'the chosen dataset shows its fields');
    await fields.locator('input[value=email]').check();
    await fields.locator('input[value=phone]').check();
    await form.locator('input[name=purpose]').fill(PURPOSE);
    await form.locator('input[name=hours]').fill('1');
    await Promise.all([cust.page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    const row = cust.page.getByTestId('grant-list').locator('tr', { hasText: PURPOSE });
    assert.match(await row.textContent(), /有効/);

    // 山田 looks the customer up with the browser's clock under the test's control.
    const staff = await stack.newPage();
    await staff.page.clock.install();
    await stack.signIn(staff.page, 'yamada');
    await staff.page.goto(`/vault/${ds}`);
    const offered = await staff.page.getByTestId('vault-lookup').locator('select[name=by] option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered, ['email', 'phone', 'record'], 'only the ways the grant covers');
    await lookup(staff.page, ds, 'email', CUSTOMER);
    const access = staff.page.getByTestId('vault-access');
    assert.match(await access.textContent(), /2026-1124-01/);
    const results = staff.page.getByTestId('vault-results');
    assert.match(await results.textContent(), /c\*+@example\.jp/, 'masked by default');
    assert.doesNotMatch(await results.innerHTML(), new RegExp(CUSTOMER));
    assert.equal(await results.locator('[data-testid^="reveal-"][data-testid$="-name"]').count(), 0, 'the name is not granted');
    await results.locator('[data-testid^="reveal-"][data-testid$="-email"]').first().click();
    const revealed = staff.page.getByTestId('revealed');
    await revealed.waitFor();
    assert.equal((await revealed.textContent()).trim(), CUSTOMER);
    await screenshot(staff.page, 'vault-revealed', { fullPage: true });

    // An hour later the page hides the value and disables the buttons by itself.
    await staff.page.clock.fastForward('01:00:05');
    await staff.page.waitForFunction(() => document.querySelectorAll('.revealed').length === 0);
    assert.ok(await staff.page.locator('.vault-expired').isVisible(), 'the page says the grant ended');
    assert.ok(await results.locator('.reveal-btn').first().isDisabled());
    assert.doesNotMatch(await results.innerHTML(), new RegExp(CUSTOMER));
    await screenshot(staff.page, 'vault-expired', { fullPage: true });

    // A second page, real clock: reveal, then the custodian revokes; the next click blanks it.
    const open = await stack.newPage();
    await stack.signIn(open.page, 'yamada');
    await lookup(open.page, ds, 'email', CUSTOMER);
    const openResults = open.page.getByTestId('vault-results');
    await openResults.locator('[data-testid^="reveal-"][data-testid$="-email"]').first().click();
    await open.page.getByTestId('revealed').waitFor();

    // Before the revocation, an API token of 山田's reaches the dataset too.
    await open.page.goto('/account');
    const tokens = open.page.getByTestId('api-tokens');
    await tokens.locator('input[name=name]').fill('照会ツール');
    await tokens.locator('input[name=days]').fill('7');
    await tokens.locator('input[name=password]').fill(stack.user('yamada').password);
    await Promise.all([open.page.waitForNavigation(), tokens.locator('button[type=submit]').click()]);
    const token = await open.page.getByTestId('new-token').inputValue();
    assert.match(token, /^mmr_/);
    await screenshot(open.page, 'account-api-token', { fullPage: true });
    const api = (path, init = {}) =>
      fetch(`${stack.base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers || {}) } });
    const apiLookup = () =>
      api(`/api/v1/vault/datasets/${ds}/lookup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: CUSTOMER }),
      });
    let r = await api(`/api/v1/vault/datasets/${ds}/records?email=${encodeURIComponent(CUSTOMER)}`);
    assert.equal(r.status, 400, 'the old GET with the search in the address is refused');
    assert.equal((await r.json()).field, 'method');
    r = await apiLookup();
    assert.equal(r.status, 200);
    const found = await r.json();
    assert.equal(found.records.length, 1);
    assert.equal(found.records[0].fields.email.may_reveal, true);
    r = await api(`/api/v1/vault/records/${found.records[0].id}/reveal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ field: 'email' }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).value, CUSTOMER);

    await lookup(open.page, ds, 'email', CUSTOMER);
    await openResults.locator('[data-testid^="reveal-"][data-testid$="-email"]').first().click();
    await open.page.getByTestId('revealed').waitFor();
    await cust.page.goto('/vault/grants');
    await Promise.all([
      cust.page.waitForNavigation(),
      cust.page.getByTestId('grant-list').locator('tr', { hasText: PURPOSE }).locator('button[data-testid^="revoke-"]').click(),
    ]);
    assert.match(await cust.page.getByTestId('grant-list').locator('tr', { hasText: PURPOSE }).textContent(), /取消済/);
    await openResults.locator('[data-testid^="reveal-"][data-testid$="-phone"]').first().click();
    await open.page.waitForFunction(() => document.querySelectorAll('.revealed').length === 0);
    assert.ok(await open.page.locator('.vault-expired').isVisible());
    r = await apiLookup();
    assert.equal(r.status, 403, 'the token stops with the grant');
    assert.equal((await r.json()).error, 'error.403');
  });
});
