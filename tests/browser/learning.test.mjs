// E-learning and pledges in a real browser (issue 17, part 2), on SQLite and PostgreSQL, on a
// phone (390×844): a staff member finds the course on the hub, takes its test and fails it,
// takes it again (new questions) and passes, downloads the certificate, and accepts the pledge
// (first without ticking the box: refused at the field). The test knows the right answers from
// the demo bank below — the test page never shows them. Then the department head sees the
// completion of his departments only, temporary staff apart, and the privacy office all of them.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resultsDir, screenshot, startStack } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

// The demo course's bank (crates/mamori-app/src/learning.rs, DEMO_BANK): question → right answer.
const RIGHT = new Map([
  ["個人情報保護法でいう「個人情報」に当たるものはどれですか。", "氏名と勤務先が分かる名刺の情報"],
  ["顧客から個人情報を取得するとき、必要なことはどれですか。", "利用目的をあらかじめ公表するか、本人に通知する"],
  ["要配慮個人情報（病歴など）を取得するときに原則として必要なものはどれですか。", "本人の同意"],
  ["個人データを第三者に提供するとき、原則として必要なものはどれですか。", "本人の同意"],
  ["個人データの漏えいのおそれに気づいたとき、最初にすることはどれですか。", "すぐに上長と個人情報保護事務局に報告する"],
  ["個人情報保護委員会への漏えい等の速報の期限の目安はどれですか。", "事態を知ってからおおむね3〜5日以内"],
  ["本人から自分の個人データの開示を求められたときの対応として正しいものはどれですか。", "本人確認をしたうえで、窓口の手順に従って対応する"],
  ["委託先に個人データの取扱いを任せるとき、会社の義務はどれですか。", "委託先を必要かつ適切に監督する"],
  ["個人情報を含む書類を捨てるときの正しい方法はどれですか。", "シュレッダーにかけるか溶解処理に出す"],
  ["JIS Q 15001（プライバシーマーク）で求められている教育の頻度はどれですか。", "少なくとも年1回、全従業者に"],
  ["派遣社員やアルバイトは個人情報保護の教育の対象ですか。", "対象である"],
  ["保有個人データの利用目的を変更するときの正しい対応はどれですか。", "変更前と関連性のある範囲で変更し、本人に通知または公表する"],
  ["個人情報管理台帳について正しいものはどれですか。", "取り扱う個人情報を特定し、定期的に見直す"],
  ["パスワードの扱いとして正しいものはどれですか。", "他人に教えず、使い回さない"],
  ["不審なメールの添付ファイルを開いてしまったとき、最初にすることはどれですか。", "ネットワークから切り離し、すぐにシステム部に連絡する"],
  ["離席するときにパソコンで行うべきことはどれですか。", "画面をロックする"],
  ["個人情報を社外に持ち出すときに必要なことはどれですか。", "所定の申請をして承認を受け、暗号化した媒体を使う"],
  ["クリアデスクとは何ですか。", "退社時や離席時に机の上に書類や媒体を放置しないこと"],
  ["メールを送る前に確認すべきことはどれですか。", "宛先・添付ファイルが正しいか"],
  ["複数の社外の人に一斉にメールを送るときの正しい方法はどれですか。", "BCC を使うか、一斉配信の仕組みを使う"],
  ["業務用ノートパソコンを紛失したときの対応として正しいものはどれですか。", "すぐに上長とシステム部に報告し、遠隔ロックやワイプを依頼する"],
  ["ソフトウェアの更新（セキュリティパッチ）について正しいものはどれですか。", "配信されたら速やかに適用する"],
  ["社内で見知らぬ人がカードをかざさずに後ろからついて入ろうとしたときの対応はどれですか。", "声をかけて用件を確認し、必要なら受付や総務に連絡する"],
  ["USB メモリを社内のパソコンにつなぐときの決まりとして正しいものはどれですか。", "会社が貸し出した暗号化 USB メモリだけを使う"],
  ["情報セキュリティインシデントを報告しなかった場合の問題として正しいものはどれですか。", "被害が広がり、法令上の報告期限にも間に合わなくなる"],
  ["公共の場所（電車やカフェ）での仕事について正しいものはどれですか。", "のぞき見や会話の盗み聞きに注意し、個人情報は扱わない"],
]);

/** Answers every question of the test page: rightly when `right`, else wrongly. */
async function answerAll(page, right) {
  const questions = page.locator('fieldset.quiz-q');
  const n = await questions.count();
  assert.equal(n, 20, 'seed 002: 20 questions');
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const q = questions.nth(i);
    const text = (await q.locator('.quiz-text').textContent()).trim();
    assert.ok(RIGHT.has(text), `a question of the demo bank: ${text}`);
    seen.add(text);
    const want = RIGHT.get(text);
    const labels = q.locator('label');
    const count = await labels.count();
    let clicked = false;
    for (let k = 0; k < count; k++) {
      const label = (await labels.nth(k).textContent()).trim();
      if ((label === want) === right) {
        await labels.nth(k).locator('input').check();
        clicked = true;
        break;
      }
    }
    assert.ok(clicked, `an answer for ${text}`);
  }
  assert.equal(seen.size, 20, 'no question twice');
  return [...seen];
}

async function submitTest(page) {
  await Promise.all([page.waitForNavigation(), page.getByTestId('submit-test').click()]);
}

for (const postgres of [false, true]) {
  const db = postgres ? 'PostgreSQL' : 'SQLite';
  describe(`e-learning and pledges in the browser (${db})`, () => {
    let stack;
    before(async () => {
      stack = await startStack({ postgres });
    });
    after(async () => {
      await stack?.close();
    });

    test('a staff member takes the course on a phone, fails, passes, gets the certificate and accepts the pledge', async () => {
      const { page } = await stack.newPage({ viewport: PHONE, acceptDownloads: true });
      await stack.signIn(page, 'yamada');
      await page.goto('/programme');
      const tasks = page.getByTestId('my-tasks');
      assert.match(await tasks.textContent(), /個人情報保護・情報セキュリティ教育/);
      assert.match(await tasks.textContent(), /個人情報の取扱いに関する誓約書/);
      await Promise.all([page.waitForNavigation(), tasks.getByRole('link', { name: /eラーニング/ }).click()]);
      assert.match(page.url(), /\/programme\/courses\/\d+$/);
      const courseUrl = page.url();
      assert.match(await page.getByTestId('my-status').textContent(), /未修了/);
      assert.match(await page.locator('main').textContent(), /毎日の5つの習慣/);
      await screenshot(page, `learning-course-phone-${db}`);

      // First try: every answer wrong. Refused first for unanswered questions.
      await Promise.all([page.waitForNavigation(), page.getByTestId('start-test').click()]);
      assert.match(page.url(), /\/attempts\/\d+$/);
      const firstUrl = page.url();
      await page.locator('fieldset.quiz-q').first().locator('input').first().check();
      await submitTest(page);
      assert.equal(await page.getByTestId('form-errors').count(), 1);
      assert.match(await page.getByTestId('form-errors').textContent(), /まだ答えていない問題があります: 問2、/);
      assert.ok(await page.locator('fieldset.quiz-q').first().locator('input:checked').count() === 1, 'the answer given stays');
      const first = await answerAll(page, false);
      await screenshot(page, `learning-test-phone-${db}`);
      await submitTest(page);
      await page.getByTestId('failed').waitFor();
      assert.match(await page.getByTestId('score').textContent(), /^0 \/ 20/);
      assert.equal(await page.locator('.right').count(), 0, 'the right answers are not shown after a fail');
      await screenshot(page, `learning-failed-phone-${db}`);

      // Second try: a new draw; every answer right.
      await Promise.all([page.waitForNavigation(), page.getByTestId('retake').click()]);
      assert.notEqual(page.url(), firstUrl);
      const second = await answerAll(page, true);
      assert.notDeepEqual(second, first, 'another order of questions');
      await submitTest(page);
      await page.getByTestId('passed').waitFor();
      assert.match(await page.getByTestId('score').textContent(), /^20 \/ 20/);
      await screenshot(page, `learning-passed-phone-${db}`);

      // The certificate.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('certificate').click()]);
      const pdfPath = join(resultsDir, `learning-certificate-${db}.pdf`);
      await download.saveAs(pdfPath);
      assert.equal(readFileSync(pdfPath).subarray(0, 4).toString(), '%PDF');
      const text = execFileSync('pdftotext', [pdfPath, '-']).toString().replace(/\s+/g, '');
      assert.match(text, /山田太郎/);
      assert.match(text, /20\/20問正解/);
      execFileSync('pdftoppm', ['-png', '-r', '50', '-singlefile', pdfPath, join(resultsDir, `learning-certificate-${db}`)]);

      // The first attempt is shown again as it was asked.
      await page.goto(firstUrl);
      const again = await page.locator('.quiz-q .quiz-text').allTextContents();
      assert.deepEqual(again.map((t) => t.replace(/^問\d+\s*/, '').trim()), first);

      await page.goto(courseUrl);
      assert.match(await page.getByTestId('my-status').textContent(), /合格/);
      assert.equal(await page.getByTestId('start-test').count(), 0);

      // The pledge: the box must be ticked.
      await page.goto('/programme/pledges');
      const form = page.getByTestId('accept-form');
      await Promise.all([page.waitForNavigation(), form.getByTestId('accept').click()]);
      assert.equal(await page.getByTestId('form-errors').count(), 1);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'accept-agree');
      await page.locator('#accept-agree').check();
      await Promise.all([page.waitForNavigation(), page.getByTestId('accept-form').getByTestId('accept').click()]);
      assert.match(await page.getByTestId('accepted').textContent(), /同意済み/);
      await screenshot(page, `learning-pledge-phone-${db}`);
      await page.goto('/programme');
      // Nothing left of the course and the pledge (other parts may still ask something).
      const left = page.getByTestId('my-tasks').locator('a[href^="/programme/courses"], a[href^="/programme/pledges"]');
      assert.equal(await left.count(), 0, 'nothing left to do for training and pledges');
    });

    test('the privacy office adds an image and a page; Markdown is shown safely', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'tanaka');
      await page.goto('/programme/courses/1/edit');
      // A 1×1 PNG, and a script that says it is one.
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
      const upload = page.locator('form[action="/programme/courses/1/images"]');
      await upload.locator('input[type=file]').setInputFiles({ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<svg onload=alert(1)>') });
      const [refused] = await Promise.all([page.waitForNavigation(), upload.locator('button[type=submit]').click()]);
      assert.equal(refused.status(), 422);
      assert.match(await page.getByTestId('form-errors').textContent(), /PNGかJPEG/);
      await page.locator('form[action="/programme/courses/1/images"] input[type=file]').setInputFiles({ name: '図1.png', mimeType: 'image/png', buffer: png });
      await Promise.all([page.waitForNavigation(), page.locator('form[action="/programme/courses/1/images"] button[type=submit]').click()]);
      const snippet = (await page.locator('#images code').last().textContent()).trim();
      const src = snippet.match(/\((\/programme\/courses\/1\/images\/\d+)\)/)[1];
      const res = await page.request.get(src);
      assert.equal(res.headers()['content-type'], 'image/png');
      assert.deepEqual(Buffer.from(await res.body()), png);
      // A page with the image, a script and a javascript: link.
      const form = page.locator('form[action="/programme/courses/1/pages"]');
      await form.locator('input[name=title]').fill('図で見る');
      await form.locator('textarea[name=body]').fill(`${snippet}\n\n<script>window.pwned = 1</script>\n\n[押して](javascript:window.pwned=2)`);
      await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
      await page.goto('/programme/courses/1');
      const section = page.locator('section.course-page').last();
      assert.equal(await section.locator('h2').textContent(), '図で見る');
      assert.equal(await section.locator('script').count(), 0);
      assert.equal(await section.locator('a').count(), 0, 'no javascript: link');
      assert.match(await section.textContent(), /<script>window\.pwned = 1<\/script>/, 'raw HTML shown as text');
      const img = section.locator('img');
      assert.equal(await img.getAttribute('src'), src);
      assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth === 1), 'the image loads under the CSP');
      assert.equal(await page.evaluate(() => window.pwned), undefined);
      // A staff member of the course may see it.
      const staff = await stack.newPage();
      await stack.signIn(staff.page, 'yamada');
      assert.equal((await staff.page.request.get(src)).status(), 200);
    });

    test('the department head sees his departments, the privacy office all, temporary staff apart', async () => {
      const { page } = await stack.newPage();
      await stack.signIn(page, 'suzuki');
      await page.goto('/programme/courses');
      await Promise.all([page.waitForNavigation(), page.locator('[data-testid^=completion-]').first().click()]);
      const table = page.getByTestId('completion');
      const depts = await table.locator('tbody tr td.main').allTextContents();
      assert.ok(depts.includes('カスタマーサポート課') && depts.includes('物流課'), depts.join());
      assert.ok(!depts.includes('バイヤー部'), 'not his department');
      const missing = await page.getByTestId('missing').textContent();
      assert.match(missing, /伊藤 さくら/);
      assert.match(missing, /派遣社員/);
      assert.doesNotMatch(missing, /山田 太郎/);
      await screenshot(page, `learning-completion-head-${db}`);

      const office = await stack.newPage();
      await stack.signIn(office.page, 'tanaka');
      await office.page.goto(page.url());
      const all = await office.page.getByTestId('completion').locator('tbody tr td.main').allTextContents();
      assert.ok(all.includes('バイヤー部'));
      assert.match(await office.page.getByTestId('passed-people').textContent(), /山田 太郎/);
      assert.doesNotMatch(await office.page.getByTestId('missing').textContent(), /山田 太郎/);
      await office.page.goto('/programme/pledges/status');
      const notYet = await office.page.getByTestId('pledge-missing').textContent();
      assert.match(notYet, /伊藤 さくら/);
      assert.doesNotMatch(notYet, /山田 太郎/);
    });
  });
}
