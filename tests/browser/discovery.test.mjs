// Discovery in a real browser (issue 16, part 2), on SQLite and PostgreSQL: the privacy office
// finds the demo share's files that no ledger entry covers, turns one into a ledger entry with
// one click (the form comes prefilled) and records another as deleted; a staff member issues a
// scan key, scans a folder with the real `mamori scan --report` and imports the signed report,
// on a phone; the same report again, and an edited one, are refused at the field; the custodian
// sees masked samples, the privacy office does not; a bad folder is refused with every problem.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, screenshot, startStack } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

async function submit(page, form, button = 'button[type=submit]') {
  const [response] = await Promise.all([page.waitForNavigation(), form.locator(button).first().click()]);
  return response;
}

for (const postgres of [false, true]) {
  const db = postgres ? 'PostgreSQL' : 'SQLite';
  describe(`discovery in the browser (${db})`, () => {
    let stack;
    before(async () => {
      stack = await startStack({ postgres });
    });
    after(async () => {
      await stack?.close();
    });

    test('the privacy office finds unledgered files, proposes a ledger entry, records a deletion', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/discovery');
      const list = page.getByTestId('discovery-list');
      await assert.doesNotReject(list.getByText('共有フォルダ（オペレーションサービス部）').waitFor());
      // The share: three files with personal data, none in the ledger.
      const unledgered = page.locator('[data-testid^=unledgered-]').first();
      assert.equal((await unledgered.textContent()).trim(), '3');
      await Promise.all([page.waitForNavigation(), unledgered.click()]);
      const files = page.getByTestId('location-files');
      assert.equal(await files.locator('tbody tr').count(), 3);
      assert.match(await files.textContent(), /折り返し一覧\.csv/);
      assert.match(await files.textContent(), /マイナンバー 1/);
      await screenshot(page, `discovery-location-${db}`);

      // One click: the ledger form, prefilled from the file.
      await page.goto('/discovery');
      await page.locator('[data-testid^=unledgered-]').first().click();
      await page.waitForURL(/show=unledgered/);
      await Promise.all([page.waitForNavigation(), files.getByText('2026-11_折り返し一覧.csv').click()]);
      const fileUrl = page.url();
      assert.equal(await page.getByTestId('file-samples').count(), 0, 'no samples without vault rights');
      await Promise.all([page.waitForNavigation(), page.getByTestId('propose-ledger').click()]);
      assert.match(page.url(), /\/ledger\/new\?from_file=\d+$/);
      await assert.doesNotReject(page.getByTestId('from-file').waitFor());
      const form = page.getByTestId('ledger-form');
      assert.equal(await form.locator('input[name=name]').inputValue(), '2026-11_折り返し一覧.csv');
      assert.equal(await form.locator('input[name=persons]').inputValue(), '3');
      for (const item of ['name', 'phone', 'email']) {
        assert.ok(await form.locator(`input[name=items][value=${item}]`).isChecked(), item);
      }
      assert.match(await form.locator('[name=storage_place]').inputValue(), /カスタマーサポート課\/問い合わせ対応$/);
      await form.locator('[name=purpose]').fill('お問い合わせへの折り返し連絡');
      await submit(page, form);
      assert.match(page.url(), /\/ledger\/\d+\?saved=1$/);
      // The file now belongs to the entry.
      await page.goto(fileUrl);
      assert.match(await page.getByTestId('file-ledger').textContent(), /2026-11_折り返し一覧\.csv/);

      // Another file is recorded as deleted.
      await page.goto('/discovery');
      await page.locator('[data-testid^=unledgered-]').first().click();
      await page.waitForURL(/show=unledgered/);
      await Promise.all([page.waitForNavigation(), files.getByText('退会者_控え.csv').click()]);
      const del = page.getByTestId('deleted-form');
      await del.locator('textarea[name=note]').fill('旧システムの控え。12/7 に削除');
      await submit(page, del);
      assert.match(await page.getByTestId('file-ledger').textContent(), /削除済みと記録/);
      await page.goto('/discovery');
      assert.equal((await page.locator('[data-testid^=unledgered-]').first().textContent()).trim(), '1');
      await page.context().close();
    });

    test('a bad folder is refused with every problem at its field', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/discovery');
      const form = page.getByTestId('location-form');
      await form.locator('input[name=path]').fill('/etc');
      await form.locator('input[name=interval_hours]').fill('毎日');
      const r = await submit(page, form);
      assert.equal(r.status(), 422);
      const summary = page.locator('.form-errors');
      assert.match(await summary.textContent(), /名称/);
      assert.match(await summary.textContent(), /許可された場所/);
      assert.match(await summary.textContent(), /毎日/);
      assert.equal(await page.evaluate(() => document.activeElement?.name), 'name');
      assert.equal(await form.locator('input[name=path]').inputValue(), '/etc');
      await page.context().close();
    });

    test('a staff member imports the signed report of their own PC, on a phone', async () => {
      const { page, context } = await stack.newPage({ viewport: PHONE, acceptDownloads: true });
      await stack.signIn(page, 'yamada');
      await page.goto('/discovery/self-check');
      const keyForm = page.getByTestId('key-form');
      await keyForm.locator('input[name=label]').fill('自宅PC');
      const [download] = await Promise.all([page.waitForEvent('download'), keyForm.locator('button[type=submit]').click()]);
      const work = mkdtempSync(join(tmpdir(), 'mamori-report-'));
      const keyFile = join(work, 'key.txt');
      await download.saveAs(keyFile);
      assert.match(readFileSync(keyFile, 'utf8'), /^mamori-scan-key 1\n/);

      // The real command line scans a folder and signs the report with the key.
      const folder = join(work, 'Documents');
      mkdirSync(folder);
      writeFileSync(join(folder, '名簿.csv'), '氏名,電話番号\n山口 花子,090-1111-2222\n森 一郎,080-3333-4444\n');
      writeFileSync(join(folder, 'memo.txt'), '買い物リスト: 牛乳、卵\n');
      const report = join(work, 'report.jsonl');
      const bin = resolve(repoRoot, process.env.MAMORI_BIN || 'target/debug/mamori');
      execFileSync(bin, ['scan', folder, '--format', 'jsonl', '--quiet', '--report', report, '--report-key', keyFile], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });

      await page.goto('/discovery/self-check');
      const upload = async (path) => {
        const f = page.getByTestId('report-form');
        await f.locator('input[type=file]').setInputFiles(path);
        return submit(page, f);
      };
      await upload(report);
      assert.match(page.url(), /\/discovery\/locations\/\d+\?imported=1$/);
      const files = page.getByTestId('location-files');
      assert.match(await files.textContent(), /名簿\.csv/);
      assert.match(await files.textContent(), /電話番号 2/);
      assert.doesNotMatch(await files.textContent(), /memo\.txt/);
      await screenshot(page, `discovery-report-phone-${db}`);
      // On the phone nothing is wider than the screen.
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 390, `page width ${wide}`);

      // The same report again, and an edited one: refused, said at the field.
      await page.goto('/discovery/self-check');
      let r = await upload(report);
      assert.equal(r.status(), 422);
      assert.match(await page.locator('#report-file-error').textContent(), /すでに取り込まれています/);
      const edited = join(work, 'edited.jsonl');
      writeFileSync(edited, readFileSync(report, 'utf8').replace('"phone":2', '"phone":1'));
      await page.goto('/discovery/self-check');
      r = await upload(edited);
      assert.equal(r.status(), 422);
      assert.match(await page.locator('#report-file-error').textContent(), /書き換え|変更|署名/);
      await context.close();
    });

    test('the custodian sees masked samples', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'kobayashi');
      await page.goto('/discovery');
      await Promise.all([page.waitForNavigation(), page.getByTestId('discovery-list').getByText('共有フォルダ（オペレーションサービス部）').click()]);
      await Promise.all([page.waitForNavigation(), page.getByTestId('location-files').getByText('議事録').first().click()]);
      const samples = page.getByTestId('file-samples');
      const text = await samples.textContent();
      assert.match(text, /\*/);
      assert.doesNotMatch(text, /3141-5926/);
      await page.context().close();
    });
  });
}
