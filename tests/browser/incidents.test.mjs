// Incident response in a real browser (issue 3): an employee files a first report on a phone;
// the alert arrives at the SMTP server (the demo mailbox: a real SMTP server on loopback inside
// `mamori serve --demo`, which saves every accepted mail as .eml); the link in the mail
// acknowledges it; the privacy office sees the acknowledgement, the deadlines and the
// timeline; and the escalation stops.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { screenshot, startStack } from './harness.mjs';

/** Decodes RFC 2047 encoded words (B and Q) in a header value. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _cs, enc, text) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

/** A saved mail: its headers (unfolded, decoded) and its text body (decoded). */
function readMail(path) {
  const raw = readFileSync(path, 'latin1');
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.slice(split + 4);
  const cte = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (cte === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (cte === 'quoted-printable')
    body = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  else body = Buffer.from(body, 'latin1').toString('utf8');
  return { headers, subject: decodeWords(headers.subject || ''), to: headers.to || '', body, rawHead: head };
}

function mails(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .map((f) => ({ file: f, ...readMail(join(dir, f)) }));
}

async function waitForMails(dir, predicate, count, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = mails(dir).filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} mails, found ${found.length}: ${JSON.stringify(mails(dir).map((m) => [m.to, m.subject]))}`);
    }
    await sleep(200);
  }
}

describe('incident response in the browser', () => {
  let stack;
  let mailbox;
  before(async () => {
    stack = await startStack();
    mailbox = join(stack.dataDir, 'demo-mail');
  });
  after(async () => {
    await stack?.close();
  });

  test('a first report on a phone alerts by mail; the link acknowledges; the escalation stops', async () => {
    // The privacy office shortens the escalation delay to one minute on the call-tree page.
    const office = await stack.newPage();
    await stack.signIn(office.page, 'tanaka');
    await office.page.goto('/admin/alerts');
    await office.page.locator('input[name=minutes]').fill('1');
    await Promise.all([office.page.waitForNavigation(), office.page.getByTestId('call-tree').locator('button[type=submit]').click()]);
    assert.equal(await office.page.locator('input[name=minutes]').inputValue(), '1');

    // An employee on a phone files the first report.
    const phone = await stack.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await stack.signIn(phone.page, 'yamada');
    await phone.page.getByTestId('report-button').click();
    await phone.page.waitForURL('**/incidents/new');
    // The first Tab stop is the skip link to the content, not seven header links.
    await phone.page.keyboard.press('Tab');
    assert.equal(await phone.page.evaluate(() => document.activeElement.getAttribute('href')), '#main');
    const form = phone.page.getByTestId('first-report');
    await form.locator('textarea[name=description]').fill('顧客リスト（氏名・メールアドレス）を添付したメールを取引先以外に誤送信した');
    await form.locator('select[name=event]').selectOption('leak');
    await form.locator('input[name=persons]').fill('1500');
    await form.locator('details.items:not(.datasets) summary').click();
    await form.locator('input[name=items][value=name]').check();
    await form.locator('input[name=items][value=email]').check();
    await screenshot(phone.page, 'first-report-phone', { fullPage: true });
    // On a phone every field is at least 16 px (below that iOS zooms on each focus).
    const small = await phone.page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16).map((e) => e.name));
    assert.deepEqual(small, [], `inputs under 16 px: ${small.join(', ')}`);
    const filedAt = Date.now();
    await Promise.all([phone.page.waitForURL(/\/incidents\/\d+\?filed=1/), form.locator('button[type=submit]').first().click()]);
    const incidentPath = new URL(phone.page.url()).pathname;
    const title = await phone.page.locator('h1').textContent();
    const ref = title.match(/\d{4}-\d{4}/)[0];
    assert.match(await phone.page.locator('.flash').textContent(), /第一報を受け付けました/);
    // The summary reads on a phone: labels above values, so a value gets the card's width
    // (it had ~30% of it, 2–4 characters a line), and nothing is wider than the screen.
    await screenshot(phone.page, 'incident-phone', { fullPage: true });
    const widths = await phone.page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      screen: window.innerWidth,
      values: [...document.querySelectorAll('.facts dd')].map((d) => d.getBoundingClientRect().width),
    }));
    assert.ok(widths.page <= widths.screen, `the page is ${widths.page} px wide on a ${widths.screen} px screen`);
    assert.ok(widths.values.length > 0 && Math.min(...widths.values) > 250, `value widths ${widths.values.join(', ')}`);
    // A task row and the note field take the height of their content, not a flex basis turned
    // into a height (that left 220–320 px of empty space under each title).
    const tall = await phone.page.evaluate(() => [...document.querySelectorAll('.task-title, .grow')]
      .map((e) => e.getBoundingClientRect().height).filter((h) => h > 120));
    assert.deepEqual(tall, [], `elements taller than their content: ${tall.join(', ')}`);
    // The obligations table becomes cards: the obligation's name gets the card's width.
    const nameWidth = await phone.page.evaluate(() => document.querySelector('[data-testid=obligations] td').getBoundingClientRect().width);
    assert.ok(nameWidth > 250, `obligation name cell ${nameWidth} px wide`);

    // The alert arrives at the SMTP server: level 1 of the call tree, Japanese subject encoded.
    const alerts = await waitForMails(mailbox, (m) => m.subject.includes(ref), 2);
    const elapsed = Date.now() - filedAt;
    assert.ok(elapsed < 10_000, `alerts took ${elapsed} ms`);
    const recipients = alerts.map((m) => m.to).sort();
    assert.ok(recipients[0].includes('takahashi@') && recipients[1].includes('tanaka@'), recipients.join(' '));
    assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(alerts[0].rawHead), 'headers are 7-bit ASCII');
    assert.match(alerts[0].subject, new RegExp(`【個人情報事故 第一報】${ref}`));
    const link = alerts.find((m) => m.to.includes('tanaka@')).body.match(/http:\/\/127\.0\.0\.1:\d+\/ack\/[0-9a-f]{64}/)[0];

    // The link acknowledges — but only when the button is pressed (mail scanners follow links).
    const anon = await stack.newPage();
    await anon.page.goto(link);
    await screenshot(anon.page, 'ack');
    await Promise.all([anon.page.waitForNavigation(), anon.page.getByTestId('ack-button').click()]);
    assert.match(await anon.page.getByTestId('ack-done').textContent(), /確認を記録しました/);

    // The privacy office sees the acknowledgement, the assessment with its deadlines, and the timeline.
    await office.page.goto(incidentPath);
    assert.match(await office.page.getByTestId('acknowledged').textContent(), /アラート確認済み/);
    assert.match(await office.page.getByTestId('assessment').textContent(), /報告対象です/);
    assert.match(await office.page.getByTestId('final-due').textContent(), /^\d{4}-\d{2}-\d{2}$/);
    // Each repeated button says which row it acts on (for screen readers).
    const doneButtons = office.page.locator('[data-testid=obligations] button[aria-label^="完了にする: "]');
    assert.ok(await doneButtons.count() > 0, 'the obligation buttons name their obligation');
    const timeline = () => office.page.getByTestId('timeline').textContent();
    let tl = await timeline();
    assert.match(tl, /第一報を受け付けました/);
    assert.match(tl, /メールを配信しました/);
    assert.match(tl, /アラートを確認しました/);
    await screenshot(office.page, 'incident', { fullPage: true });

    // A minute later the escalation job finds the acknowledgement and stops: no mail to level 2.
    const deadline = Date.now() + 100_000;
    while (!/エスカレーションは行いません/.test(tl)) {
      assert.ok(Date.now() < deadline, `the escalation did not report stopping:\n${tl}`);
      await sleep(3_000);
      await office.page.reload();
      tl = await timeline();
    }
    const toLevel2 = mails(mailbox).filter((m) => m.subject.includes(ref) && m.to.includes('watanabe@'));
    assert.equal(toLevel2.length, 0, 'level 2 must not be alerted');

    // The incident is on the dashboard and in the list.
    await office.page.goto('/');
    assert.ok(Number(await office.page.getByTestId('open-count').textContent()) >= 2);
    await office.page.goto(`/incidents?q=${encodeURIComponent('誤送信')}`);
    assert.match(await office.page.getByTestId('incident-list').textContent(), new RegExp(ref));
    await screenshot(office.page, 'incidents');
    for (const p of [office, phone, anon]) await p.context.close();
  });
});
