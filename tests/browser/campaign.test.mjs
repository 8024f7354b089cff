// Issue 14 end to end in a real browser: a leaked CP932 CSV is uploaded to an incident, scanned
// and matched against the vault (five customers by e-mail, one row nobody knows), the counts go
// into the assessment, the notice is drafted, approved by the CISO, and a campaign reaches every
// person — letters (PDF, CP932 address list), two letters back (one by hand, one from a list),
// their e-mails over real SMTP (the demo mailbox), one bounce (a real DSN), phone outcomes at
// the contact desk, the last person covered by the public notice, the obligation done.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const LEAK = join(here, 'fixtures', 'leaked-cp932.csv');

/** Reloads `path` until `check(page)` is true (at most `ms`). */
async function until(page, path, check, ms = 60_000, what = path) {
  const end = Date.now() + ms;
  for (;;) {
    await page.goto(path);
    if (await check(page)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(700);
  }
}

async function num(page, testid) {
  return Number((await page.getByTestId(testid).textContent()).replace(/[^0-9]/g, ''));
}

/** The demo mailbox: the messages of campaign `id` (Message-ID mamori.c{id}.…). */
function campaignMail(dataDir, id) {
  const dir = join(dataDir, 'demo-mail');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(dir, f), 'latin1'))
    .filter((m) => new RegExp(`^Message-ID:\\s*<mamori\\.c${id}\\.`, 'im').test(m));
}

function messageId(raw) {
  return raw.match(/^Message-ID:\s*<([^>]+)>/im)[1];
}

function dsnFor(id, rcpt) {
  return [
    'From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)',
    'To: alerts@mirai-tsuhan.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Mon, 7 Dec 2026 10:00:00 +0900',
    'Message-ID: <bounce-1@mx.example.jp>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
    '',
    '--B1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.jp. Your message could not be delivered.',
    '',
    '--B1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.jp',
    '',
    `Final-Recipient: rfc822; ${rcpt}`,
    'Action: failed',
    'Status: 5.1.1',
    `Diagnostic-Code: smtp; 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown`,
    '',
    '--B1',
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: <${id}>`,
    `To: ${rcpt}`,
    'Subject: notice',
    '',
    '--B1--',
    '',
  ].join('\r\n');
}

describe('a leaked file to a notice in every hand', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('upload, match, assess, approve, post, return, e-mail, bounce, call, publish', async () => {
    const { page } = await stack.newPage();
    await stack.signIn(page, 'tanaka');

    // The incident: the demo's newsletter mis-send.
    await page.goto('/incidents');
    await page.getByRole('link', { name: /BCC漏れ/ }).first().click();
    const incident = new URL(page.url()).pathname.match(/\/incidents\/(\d+)/)[1];

    // 1. The leaked file, uploaded through the page (streamed, CSRF in a header).
    await page.goto(`/incidents/${incident}/files`);
    await page.setInputFiles('#upload-file', LEAK);
    const [upload] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/incidents/${incident}/files`)),
      page.getByTestId('evidence-submit').click(),
    ]);
    assert.ok(upload.status() < 400, `upload answered ${upload.status()}`);
    // The page's script goes to the list by itself after the upload.
    await sleep(1000);
    await page.waitForLoadState('load');
    await until(
      page,
      `/incidents/${incident}/files`,
      async (p) => (await p.locator('[data-state]').first().textContent()).includes('完了'),
      60_000,
      'the scan',
    );
    assert.match(await page.locator('[data-rows]').first().textContent(), /^6$/);

    // 2. Matching: five customers by e-mail, one row nobody knows.
    await page.goto(`/incidents/${incident}/impact`);
    assert.equal(await num(page, 'impact-total'), 6);
    assert.equal(await num(page, 'impact-identifier'), 5);
    assert.equal(await num(page, 'impact-unmatched'), 1);
    assert.equal(await num(page, 'proposed-persons'), 6);
    // Card numbers leaked: reportable whatever the number of persons (施行規則7条2号).
    assert.match(await page.getByTestId('impact-items').textContent(), /クレジットカード番号/);
    await Promise.all([page.waitForNavigation(), page.getByTestId('impact-apply').click()]);
    await page.goto(`/incidents/${incident}/impact`);
    assert.equal(await page.getByTestId('impact-no-changes').count(), 1, 'the proposal was applied');

    // 3. The notice: drafted from the incident, saved, approved by the CISO.
    await page.goto(`/incidents/${incident}/notice`);
    assert.equal(await page.getByTestId('notice-draft').count(), 1);
    // The draft leaves the contact point to the office; approval needs it.
    assert.match(await page.getByTestId('notice-missing').textContent(), /問い合わせ窓口/);
    await page.locator('#notice-ja_contact').fill('お客様相談窓口 0120-000-000（平日9時〜18時）');
    await page.locator('#notice-en_contact').fill('Customer desk 0120-000-000 (weekdays 9:00-18:00)');
    await Promise.all([page.waitForNavigation(), page.getByTestId('notice-save').click()]);
    assert.equal(await page.getByTestId('notice-missing').count(), 0);
    assert.equal(await page.getByTestId('notice-version-1').count(), 1);
    assert.equal(await page.getByTestId('notice-approve').count(), 0, 'the privacy office cannot approve');
    {
      const ciso = await stack.newPage();
      await stack.signIn(ciso.page, 'takahashi');
      await ciso.page.goto(`/incidents/${incident}/notice`);
      await Promise.all([ciso.page.waitForNavigation(), ciso.page.getByTestId('notice-approve').click()]);
      assert.match(await ciso.page.getByTestId('notice-version-1').textContent(), /高橋/);
      await ciso.context.close();
    }

    // 4. The campaign: post → e-mail → phone.
    await page.goto(`/incidents/${incident}/campaigns`);
    assert.equal(await num(page, 'camp-affected'), 6);
    await Promise.all([page.waitForNavigation(), page.getByTestId('campaign-create').click()]);
    const campaign = new URL(page.url()).pathname.match(/\/campaigns\/(\d+)/)[1];
    assert.equal(await num(page, 'fig-total'), 6);

    // Letters: one PDF for the printer, the address list in CP932.
    const pdf = await page.request.get(`/campaigns/${campaign}/letters.pdf`);
    assert.equal(pdf.status(), 200);
    assert.equal((await pdf.body()).subarray(0, 5).toString('latin1'), '%PDF-');
    const list = await page.request.get(`/campaigns/${campaign}/print-list.csv`);
    assert.equal(list.status(), 200);
    assert.match(list.headers()['content-type'], /Shift_JIS/i);
    const csv = new TextDecoder('shift_jis').decode(await list.body());
    assert.match(csv, /佐藤 陽子/);
    assert.equal(csv.trim().split(/\r\n/).length, 1 + 5, 'a header and five letters');
    await Promise.all([page.waitForNavigation(), page.getByTestId('mark-posted').click()]);
    assert.equal(await num(page, 'fig-post'), 5);

    // Two letters come back: one marked by hand, one from the post office's list.
    const refs = await page
      .locator('[data-testid^="recipient-"] code')
      .evaluateAll((cs) => cs.map((c) => c.textContent.trim()));
    const postRows = [];
    for (const r of refs) {
      const row = page.getByTestId(`recipient-${r}`);
      if ((await row.textContent()).includes('郵送')) postRows.push(r);
    }
    assert.equal(postRows.length, 5);
    const [backA, backB] = postRows;
    const form = page.getByTestId('returned-form');
    await form.locator('input[name=reference]').fill(backA);
    await form.locator('select[name=reason]').selectOption('unknown_address');
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    await page.setInputFiles('#returned_import-returned_file', {
      name: 'returned.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`お問い合わせ番号,理由\r\n${backB},転居先不明\r\n`, 'utf8'),
    });
    await Promise.all([page.waitForNavigation(), page.getByTestId('returned-import').locator('button').click()]);
    assert.match(await page.getByTestId('camp-report').textContent(), /1 件/);
    assert.equal(await num(page, 'fig-post'), 3);

    // Their e-mails go out over SMTP by themselves.
    const end = Date.now() + 90_000;
    let mails = [];
    while ((mails = campaignMail(stack.dataDir, campaign)).length < 2) {
      if (Date.now() > end) throw new Error(`expected 2 campaign e-mails, got ${mails.length}`);
      await sleep(500);
    }
    assert.equal(mails.length, 2);
    for (const m of mails) {
      assert.match(m, /^Subject: =\?(UTF-8|utf-8|ISO-2022-JP)\?/m, 'an encoded Japanese subject');
      assert.match(m, /Content-Type: text\/plain/i);
    }
    await until(page, `/campaigns/${campaign}`, async (p) => (await num(p, 'fig-email')) === 2, 30_000, 'e-mails counted');

    // One bounces: a DSN for its Message-ID moves the person to the phone.
    const bounced = mails[0];
    const rcpt = bounced.match(/^To:\s*<?([^>\s]+)>?/im)[1];
    await page.setInputFiles('#bounces-bounce_file', {
      name: 'bounce.eml',
      mimeType: 'message/rfc822',
      buffer: Buffer.from(dsnFor(messageId(bounced), rcpt), 'latin1'),
    });
    await Promise.all([page.waitForNavigation(), page.getByTestId('bounce-import').locator('button').click()]);
    assert.match(await page.getByTestId('camp-report').textContent(), /不達 1 件/);
    assert.equal(await num(page, 'fig-email'), 1);

    // The contact desk calls the two left: the person nobody knew is reached, the bounced one
    // has a wrong number.
    {
      const desk = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await stack.signIn(desk.page, 'ito');
      for (const outcome of ['reached', 'wrong_number']) {
        await desk.page.goto(`/campaigns/${campaign}/calls`);
        const f = desk.page.getByTestId('call-form');
        if (outcome === 'reached') await screenshot(desk.page, 'campaign-call-phone', { fullPage: true });
        // The person not in the vault (from the leak's own data) is the one reached.
        const name = await desk.page.getByTestId('call-name').textContent();
        const choice = name.startsWith('木') ? 'reached' : 'wrong_number';
        await f.locator(`input[name=outcome][value=${choice}]`).check();
        await Promise.all([desk.page.waitForNavigation(), f.getByTestId('call-save').click()]);
      }
      await desk.page.goto(`/campaigns/${campaign}/calls`);
      assert.equal(await desk.page.getByTestId('no-calls').count(), 1);
      await desk.context.close();
    }

    // One person no channel reached: the public notice covers them.
    await page.goto(`/campaigns/${campaign}`);
    assert.equal(await num(page, 'fig-phone'), 1);
    assert.equal(await num(page, 'fig-unreachable'), 1);
    await Promise.all([page.waitForNavigation(), page.getByTestId('publish').click()]);
    assert.equal(await num(page, 'fig-covered'), 1);
    assert.equal(await num(page, 'fig-unreachable'), 0);
    const href = await page.getByTestId('public-link').getAttribute('href');
    await screenshot(page, 'campaign-done', { fullPage: true });

    // The public page needs no login.
    {
      const anon = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const r = await anon.page.goto(href);
      assert.equal(r.status(), 200);
      assert.match(await anon.page.getByTestId('public-notice').textContent(), /お知らせとお詫び/);
      // The contact point has its own card on the public page (issue 15).
      assert.match(await anon.page.getByTestId('public-contact').textContent(), /0120-000-000（平日9時〜18時）/);
      await screenshot(anon.page, 'public-notice-phone', { fullPage: true });
      await anon.context.close();
    }

    // The obligation to notify the persons is done.
    await page.goto(`/incidents/${incident}`);
    const ob = page.getByTestId('obligations').locator('tr', { hasText: '本人への通知' });
    assert.match(await ob.textContent(), /完了/);
    await page.context().close();
  });
});
