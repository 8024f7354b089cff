//! The ledger and vault pages through the real router, on SQLite and PostgreSQL: who gets which
//! page, the entry form with its errors, CSV export (CP932) and import, the vault lookup with
//! masked values and the reveal of one field, grants that expire and are revoked, erasure, and
//! CSRF on every form.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use mamori_app::clock::{Clock, ManualClock};
use mamori_app::vault_import::{decode_text, ImportOptions};
use mamori_app::{App, Ctx, Settings};
use mamori_domain::appi::item::Item;
use mamori_domain::ledger::DatasetInput;
use mamori_store::testing::TestDb;
use std::collections::HashMap;
use std::sync::Arc;

mod common;
use common::{Client, Resp};

// 2026-11-24T01:00:00Z = 2026-11-24 10:00 JST.
const T0: i64 = 1_795_482_000_000_000;

struct Env {
    router: Router,
    app: App,
    clock: Arc<ManualClock>,
    passwords: HashMap<String, String>,
    db: TestDb,
    /// 会員情報 (カスタマーサポート課), with a vault schema and two records.
    members: i64,
    /// 仕入先担当者 (バイヤー部), no schema.
    suppliers: i64,
    hanako: i64,
}

async fn dept(app: &App, name: &str) -> i64 {
    let company = app.store.list_companies().await.unwrap()[0].id;
    app.store
        .list_departments(company)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap()
        .id
}

async fn envs() -> Vec<Env> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        // The demo users first: the demo's own ledger and vault data are only added when the
        // vault is already open, and these tests bring their own.
        let (app, clock, passwords) = common::demo_app(&db, T0, Settings::default()).await;
        app.open_vault_default(true).await.unwrap();
        let local = Ctx::local();
        let members = app
            .create_dataset(
                &local,
                DatasetInput {
                    name: "会員情報".into(),
                    department_id: dept(&app, "カスタマーサポート課").await,
                    items: vec![Item::Name, Item::Email, Item::Phone],
                    persons: Some(1250),
                    purpose: "商品の発送とお問い合わせへの対応".into(),
                    ..DatasetInput::default()
                },
            )
            .await
            .unwrap();
        let suppliers = app
            .create_dataset(
                &local,
                DatasetInput {
                    name: "仕入先担当者".into(),
                    department_id: dept(&app, "バイヤー部").await,
                    items: vec![Item::Name, Item::MedicalHistory],
                    persons: Some(40),
                    purpose: "発注の連絡".into(),
                    ..DatasetInput::default()
                },
            )
            .await
            .unwrap();
        let version = app.store.get_dataset(members).await.unwrap().version;
        app.set_vault_schema(
            &local,
            members,
            version,
            "name:name, email:email, phone:phone, shipped_on:date",
            None,
        )
        .await
        .unwrap();
        let tanaka = app
            .store
            .find_user_by_login("tanaka")
            .await
            .unwrap()
            .unwrap();
        let csv = "name,email,phone,shipped_on\r\n山田 花子,hanako@example.jp,090-1234-5678,2026-11-01\r\n佐藤 次郎,jiro@example.jp,080-2222-3333,2026-11-02\r\n";
        let report = app
            .vault_import(
                &Ctx::user(tanaka, "10.0.0.1"),
                csv.as_bytes(),
                &ImportOptions {
                    dataset: "会員情報".into(),
                    file_name: "members.csv".into(),
                    ..ImportOptions::default()
                },
                &|_| true,
            )
            .await
            .unwrap();
        assert_eq!(report.imported, 2, "{:?}", report.rejects);
        let page = app.store.records_page(members, 0, 10).await.unwrap();
        let hanako = page[0].id;
        let router = mamori_web::router(app.clone(), mamori_web::WebConfig::default());
        out.push(Env {
            router,
            app,
            clock,
            passwords,
            db,
            members,
            suppliers,
            hanako,
        });
    }
    out
}

impl<'a> Client<'a> {
    /// Searches a vault dataset from its lookup form: a POST with the session's CSRF token
    /// (fetched from the vault index, which every logged-in user may open).
    async fn lookup(&mut self, ds: i64, by: &str, q: &str) -> Resp {
        self.get("/vault").await;
        self.post(&format!("/vault/{ds}"), &[("by", by), ("q", q)])
            .await
    }

    /// Uploads a file as `multipart/form-data`, with the token as a field when `csrf`.
    async fn upload(&mut self, path: &str, file: &[u8], csrf: bool) -> Resp {
        let b = "----mamoriTestBoundary7";
        let mut body = Vec::new();
        if csrf {
            body.extend_from_slice(
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
                    self.csrf
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ledger.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={b}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    async fn login(env: &'a Env, login: &str) -> Client<'a> {
        let mut c = Client::new(&env.router);
        let (r, key) = c
            .sign_in(login, &env.passwords[login], env.clock.now_secs())
            .await;
        if key.is_none() && r.location == "/login/totp" {
            // A user enrolled earlier in the test logs in again (privacy_office too needs
            // a second factor).
            c.get(&r.location).await;
            let code = fresh_totp_code(env, login).await;
            let done = c.post("/login/totp", &[("code", &code)]).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        }
        c
    }
}

/// A code of `login`'s enrolled second factor for a time step not used yet (the server accepts
/// one step either side of now), from the sealed secret as the server reads it.
async fn fresh_totp_code(env: &Env, login: &str) -> String {
    let u = env
        .app
        .store
        .find_user_by_login(login)
        .await
        .unwrap()
        .unwrap();
    let sealed = u.totp_secret.as_deref().unwrap();
    let secret = env
        .app
        .keys
        .unseal(sealed, &format!("totp:user:{}", u.id))
        .unwrap();
    let step = mamori_domain::totp::STEP_SECONDS;
    let last = u.totp_last_step.unwrap_or(i64::MIN);
    if env.clock.now_secs() / step < last {
        env.clock.advance_secs(2 * step);
    }
    let now = env.clock.now_secs();
    let at = if now / step > last { now } else { now + step };
    mamori_domain::totp::code_at(&secret, at)
}

/// The text of the element whose id is `id` (up to its closing tag).
fn element_text<'b>(body: &'b str, id: &str) -> &'b str {
    let at = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = at + body[at..].find('>').unwrap() + 1;
    let end = start + body[start..].find('<').unwrap();
    &body[start..end]
}

#[tokio::test]
async fn who_gets_which_ledger_and_vault_page() {
    for env in envs().await {
        let name = env.db.name;
        let m = env.members;
        let s = env.suppliers;
        let pages = [
            "/ledger".to_owned(),
            "/ledger/new".to_owned(),
            format!("/ledger/{m}"),
            format!("/ledger/{s}"),
            "/vault".to_owned(),
            format!("/vault/{m}"),
            "/vault/grants".to_owned(),
            format!("/vault/{m}/schema"),
            format!("/ledger/{}", m + 1000),
        ];
        // login → expected status per page, in the order above.
        let matrix: &[(&str, [u16; 9])] = &[
            ("tanaka", [200, 200, 200, 200, 200, 200, 200, 200, 404]), // privacy office
            ("takahashi", [200, 200, 200, 200, 200, 403, 200, 403, 404]), // CISO
            ("watanabe", [200, 403, 200, 200, 200, 403, 200, 403, 404]), // executive
            ("kato", [200, 403, 200, 200, 200, 403, 200, 403, 404]),   // auditor
            ("suzuki", [200, 200, 200, 404, 200, 403, 200, 403, 404]), // head of オペレーション
            ("kobayashi", [403, 403, 403, 403, 200, 200, 200, 200, 403]), // custodian
            ("yamada", [403, 403, 403, 403, 200, 403, 200, 403, 403]), // staff
            ("admin", [403, 403, 403, 403, 200, 403, 200, 403, 403]),
        ];
        for (login, want) in matrix {
            let mut c = Client::login(&env, login).await;
            let home = c.get("/").await;
            assert_eq!(
                home.body.contains("href=\"/ledger\""),
                want[0] == 200,
                "{name} {login}: ledger link"
            );
            assert!(home.body.contains("href=\"/vault\""), "{name} {login}");
            for (page, code) in pages.iter().zip(want) {
                let r = c.get(page).await;
                assert_eq!(r.status.as_u16(), *code, "{name} {login} {page}");
            }
        }
        // Anonymous visitors are sent to log in.
        let mut anon = Client::new(&env.router);
        for page in ["/ledger", "/vault", "/vault/grants"] {
            let r = anon.get(page).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name} {page}");
            assert!(r.location.starts_with("/login"));
        }
    }
}

#[tokio::test]
async fn ledger_list_form_review_export_and_import() {
    for env in envs().await {
        let name = env.db.name;
        let mut office = Client::login(&env, "tanaka").await;

        // The list with totals; the medical history makes 仕入先担当者 sensitive.
        let r = office.get("/ledger").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("会員情報") && r.body.contains("仕入先担当者"));
        assert!(
            r.body.contains("data-testid=\"total-persons\">1,290<"),
            "{name}"
        );
        assert!(
            r.body.contains("data-testid=\"total-sensitive\">40<"),
            "{name}"
        );
        assert!(r.body.contains("ledger-new") && r.body.contains("ledger-import"));

        // The form: sensitive items are marked; a bad entry comes back with what was typed.
        let r = office.get("/ledger/new").await;
        assert!(
            r.body.contains(
                "value=\"medical_history\"> 病歴 <span class=\"tag sensitive\">要配慮</span>"
            ),
            "{name}"
        );
        assert!(r.body.contains("type=\"date\" name=\"use_until\""));
        let dept = dept(&env.app, "物流課").await.to_string();
        let bad = office
            .post(
                "/ledger",
                &[
                    ("name", "配送先リスト"),
                    ("department_id", &dept),
                    ("items", "name"),
                    ("items", "address"),
                    ("persons", "多数"),
                    ("purpose", "配送"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(bad.body.contains("value=\"配送先リスト\""));
        assert!(bad
            .body
            .contains("name=\"persons\" inputmode=\"numeric\" maxlength=\"20\" value=\"多数\""));
        assert!(bad.body.contains("数として読めません"), "{}", bad.body);
        assert!(bad.body.contains("value=\"address\" checked"));
        let bad = office
            .post(
                "/ledger",
                &[
                    ("name", "配送先リスト"),
                    ("department_id", &dept),
                    ("items", "name"),
                    ("persons", "300"),
                    ("purpose", ""),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let at = bad.body.find("name=\"purpose\"").unwrap();
        assert!(
            bad.body[at..].contains("field-error"),
            "the problem is at the field"
        );
        let ok = office
            .post(
                "/ledger",
                &[
                    ("name", "配送先リスト"),
                    ("department_id", &dept),
                    ("items", "name"),
                    ("items", "address"),
                    ("persons", "300"),
                    ("purpose", "商品の配送"),
                    ("use_until", "2027-03-31"),
                    ("retain_until", "2028-03-31"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{name}: {}", ok.body);
        let page = office.get(&ok.location).await;
        assert!(page.body.contains("台帳を保存しました") && page.body.contains("2028-03-31"));
        let id: i64 = ok.location["/ledger/".len()..ok.location.find('?').unwrap()]
            .parse()
            .unwrap();

        // Edit with the version; a stale version is refused.
        let edit = [
            ("version", "1"),
            ("name", "配送先リスト"),
            ("department_id", dept.as_str()),
            ("items", "name"),
            ("items", "address"),
            ("items", "phone"),
            ("persons", "320"),
            ("purpose", "商品の配送"),
        ];
        let r = office.post(&format!("/ledger/{id}"), &edit).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        office.get(&format!("/ledger/{id}")).await;
        let r = office.post(&format!("/ledger/{id}"), &edit).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("ほかの人が先に更新しました"), "{}", r.body);
        assert!(r.body.contains("value=\"phone\" checked"));

        // The yearly review, with its history; the due date moves a year on.
        env.clock.advance_secs(400 * 86_400);
        let mut office = Client::login(&env, "tanaka").await;
        let r = office.get("/ledger").await;
        assert!(r.body.contains("class=\"overdue\"") && r.body.contains("review-overdue"));
        let r = office
            .post(
                &format!("/ledger/{id}/review"),
                &[("comment", "項目と人数を確認")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = office.get(&format!("/ledger/{id}")).await;
        assert!(
            r.body.contains("項目と人数を確認") && r.body.contains("2028-12-29"),
            "{name}: {}",
            r.body
        );
        let long = "あ".repeat(2001);
        let r = office
            .post(&format!("/ledger/{id}/review"), &[("comment", &long)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("2000文字以内"));

        // Export: UTF-8 with a BOM, and CP932 that decodes back.
        let r = office.get("/ledger/export?enc=utf8").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.bytes.starts_with(b"\xEF\xBB\xBF"));
        let cd = r.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(
            cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''%E5%80%8B"),
            "{cd}"
        );
        let r = office.get("/ledger/export?enc=cp932").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("Shift_JIS"));
        assert!(std::str::from_utf8(&r.bytes).is_err(), "not UTF-8");
        let text = decode_text(&r.bytes).unwrap();
        assert!(text.starts_with("台帳名,主管部門,項目"), "{text}");
        assert!(
            text.contains("配送先リスト,物流課,氏名、住所、電話番号"),
            "{text}"
        );

        // Import: the export, edited, with one bad row.
        let csv = format!(
            "{}仕入先担当者2,存在しない部,氏名,なし,なし,5,連絡\r\n",
            text.replace(",320,商品の配送,", ",330,商品の配送と再配達,")
        );
        let bytes = csv.into_bytes();
        office.get("/ledger").await;
        let r = office.upload("/ledger/import", &bytes, true).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(
            r.body.contains("data-testid=\"import-updated\">3<"),
            "{}",
            r.body
        );
        assert!(r.body.contains("data-testid=\"import-rejected\">1<"));
        assert!(r.body.contains("<td class=\"num\">5</td><td>department_id: 主管部門「存在しない部」が見つかりません"), "{}", r.body);
        let r = office.get(&format!("/ledger/{id}")).await;
        assert!(
            r.body.contains("商品の配送と再配達") && r.body.contains(">330<"),
            "{name}"
        );
        // Without a token the upload is refused.
        let r = office.upload("/ledger/import", &bytes, false).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Without a file: 422.
        let r = office.upload("/ledger/import", b"", true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // An auditor cannot import.
        let mut auditor = Client::login(&env, "kato").await;
        let r = auditor.get("/ledger").await;
        assert!(!r.body.contains("ledger-import") && !r.body.contains("ledger-new"));
        let r = auditor.upload("/ledger/import", &bytes, true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // CSRF: every form needs the token.
        let mut no_token = Client::login(&env, "tanaka").await;
        no_token.csrf = String::new();
        let r = no_token
            .post("/ledger", &[("name", "x"), ("department_id", &dept)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = no_token
            .post(&format!("/ledger/{id}/review"), &[("comment", "x")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn vault_lookup_reveal_grants_expiry_and_erasure() {
    for env in envs().await {
        let name = env.db.name;
        let ds = env.members;
        let h = env.hanako;
        let reveal = format!("/vault/records/{h}/reveal");

        // The custodian finds 花子 by phone: masked values, a reveal button per field.
        let mut custodian = Client::login(&env, "kobayashi").await;
        let r = custodian.get(&format!("/vault/{ds}")).await;
        for by in ["email", "phone", "name", "record"] {
            assert!(
                r.body.contains(&format!("<option value=\"{by}\"")),
                "{name}: custody searches by {by}"
            );
        }
        assert!(r
            .body
            .contains(&format!("method=\"post\" action=\"/vault/{ds}\"")));
        let r = custodian.lookup(ds, "phone", "090-1234-5678").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("常時アクセス権限"));
        assert_eq!(element_text(&r.body, &format!("v-{h}-name")), "山田 ＊＊");
        assert_eq!(
            element_text(&r.body, &format!("v-{h}-email")),
            "h***@example.jp"
        );
        assert_eq!(
            element_text(&r.body, &format!("v-{h}-phone")),
            "090-****-5678"
        );
        assert!(!r.body.contains("hanako@example.jp") && !r.body.contains("山田 花子"));
        assert!(r
            .body
            .contains(&format!("data-testid=\"reveal-{h}-email\"")));
        assert!(r.body.contains("/static/vault.js") && !r.body.contains("data-expires-at"));
        assert!(r.body.contains("vault-export") && r.body.contains("vault-erase"));
        let r = custodian
            .post_with(&reveal, &[("field", "email")], true)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("class=\"revealed\"") && r.body.contains(">hanako@example.jp<"));
        assert!(!r.body.contains("<html"), "a fragment for htmx");
        // Without htmx, a page.
        let r = custodian.post(&reveal, &[("field", "name")]).await;
        assert!(r.body.contains("<html") && r.body.contains(">山田 花子<"));
        let r = custodian.post(&reveal, &[("field", "nope")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Other lookups, and a bad one.
        let r = custodian.lookup(ds, "email", "JIRO@example.jp").await;
        assert!(r.body.contains("佐藤 ＊＊"), "{name}");
        let r = custodian.lookup(ds, "name", "さとう").await;
        assert!(
            r.body.contains("一致するレコードはありません"),
            "kanji are not read as kana"
        );
        let r = custodian.lookup(ds, "record", "abc").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("レコード番号は数字で"));
        // A search in the address is refused without searching: it would stay in logs and
        // in the browser history.
        let r = custodian
            .get(&format!("/vault/{ds}?by=phone&q=090-1234-5678"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(r.body.contains("検索フォームから送信"), "{}", r.body);
        assert!(!r.body.contains("vault-results"));
        // The lookup form needs its CSRF token like every form.
        let token = std::mem::take(&mut custodian.csrf);
        let r = custodian
            .post(
                &format!("/vault/{ds}"),
                &[("by", "email"), ("q", "jiro@example.jp")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        custodian.csrf = token;
        // The export, in CP932.
        let r = custodian
            .post(&format!("/vault/{ds}/export"), &[("enc", "cp932")])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let text = decode_text(&r.bytes).unwrap();
        assert!(text.contains("山田 花子,hanako@example.jp"), "{text}");

        // Staff without a grant: 403 for the page, the lookup and the reveal.
        let mut staff = Client::login(&env, "yamada").await;
        let r = staff.get("/vault").await;
        assert!(r.body.contains("利用できる保管庫の台帳はありません"));
        let r = staff.lookup(ds, "phone", "090-1234-5678").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        staff.get("/vault").await;
        let r = staff.post_with(&reveal, &[("field", "email")], true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The custodian grants the e-mail for an hour; a bad request shows its error.
        let r = custodian.get("/vault/grants").await;
        assert!(
            r.body.contains("grant-form")
                && r.body
                    .contains(&format!("name=\"fields_{ds}\" value=\"email\""))
        );
        let yamada = env
            .app
            .store
            .find_user_by_login("yamada")
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let ds_s = ds.to_string();
        let field_key = format!("fields_{ds}");
        let r = custodian
            .post(
                "/vault/grants",
                &[
                    ("grantee", &yamada),
                    ("dataset", &ds_s),
                    (&field_key, "email"),
                    ("purpose", "問い合わせ 12345 の本人確認"),
                    ("hours", "48"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("期間は1〜24時間")
                && r.body.contains("value=\"問い合わせ 12345 の本人確認\"")
        );
        let r = custodian
            .post(
                "/vault/grants",
                &[
                    ("grantee", &yamada),
                    ("dataset", &ds_s),
                    (&field_key, "email"),
                    ("purpose", "問い合わせ 12345 の本人確認"),
                    ("hours", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);

        // Staff with the grant: the form offers only the searches the grant covers (e-mail and
        // the record number); a search by phone is refused and says which fields it needs.
        let r = staff.get("/vault").await;
        assert!(r.body.contains("my-grants") && r.body.contains("会員情報"));
        let r = staff.get(&format!("/vault/{ds}")).await;
        assert!(
            r.body.contains("<option value=\"email\"")
                && r.body.contains("<option value=\"record\"")
                && !r.body.contains("<option value=\"phone\"")
                && !r.body.contains("<option value=\"name\""),
            "{name}"
        );
        let r = staff.lookup(ds, "phone", "090-1234-5678").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("lookup-refused")
                && r.body.contains(
                    "この検索方法には、許可に次の項目がすべて含まれている必要があります: phone"
                ),
            "{name}: {}",
            r.body
        );
        assert!(!r.body.contains("vault-results") && !r.body.contains("山田 ＊＊"));
        let r = staff.lookup(ds, "name", "山田 花子").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: name not granted"
        );
        // The refusals are in the audit log.
        let refused = env
            .app
            .store
            .search_audit(
                &mamori_store::audit::AuditFilter {
                    action: Some("vault.lookup".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert!(refused
            .iter()
            .any(|e| e.record.actor == "yamada" && e.record.detail.contains("fields_not_granted")));
        let r = staff.lookup(ds, "email", "hanako@example.jp").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let expires = T0 + 3_600_000_000;
        assert!(
            r.body.contains(&format!("data-expires-at=\"{expires}\"")),
            "{name}"
        );
        assert!(r.body.contains("data-expires-in-ms=\"3600000\""));
        assert!(r.body.contains("問い合わせ 12345 の本人確認"));
        assert!(r
            .body
            .contains(&format!("data-testid=\"reveal-{h}-email\"")));
        assert!(!r
            .body
            .contains(&format!("data-testid=\"reveal-{h}-phone\"")));
        assert!(!r.body.contains("vault-export") && !r.body.contains("vault-erase"));
        let r = staff.post_with(&reveal, &[("field", "email")], true).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(">hanako@example.jp<"));
        let r = staff.post_with(&reveal, &[("field", "phone")], true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = staff
            .post(&format!("/vault/{ds}/export"), &[("enc", "utf8")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The staff member sees the own grant, not the form; the auditor reads all of them.
        let r = staff.get("/vault/grants").await;
        assert!(!r.body.contains("grant-form") && r.body.contains("問い合わせ 12345"));
        let mut auditor = Client::login(&env, "kato").await;
        let r = auditor.get("/vault/grants").await;
        assert!(r.body.contains("問い合わせ 12345") && !r.body.contains("grant-form"));
        assert!(!r.body.contains("data-testid=\"revoke-"));
        let r = auditor.post("/vault/grants/1/revoke", &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // An hour later the grant is over: the same requests are refused.
        // (Both keep their sessions alive: a session ends after 30 idle minutes.)
        for _ in 0..2 {
            env.clock.advance_secs(1500);
            custodian.get("/vault").await;
            assert_eq!(
                staff.lookup(ds, "email", "hanako@example.jp").await.status,
                StatusCode::OK
            );
        }
        let r = staff.post_with(&reveal, &[("field", "email")], true).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: 50 minutes in");
        env.clock.advance_secs(601);
        custodian.get("/vault").await;
        let r = staff.post_with(&reveal, &[("field", "email")], true).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(
            staff.lookup(ds, "email", "hanako@example.jp").await.status,
            StatusCode::FORBIDDEN
        );
        let r = custodian.get("/vault/grants").await;
        assert!(r.body.contains(">期限切れ<"), "{name}");

        // A new grant, revoked by the custodian, stops at once.
        let r = custodian
            .post(
                "/vault/grants",
                &[
                    ("grantee", &yamada),
                    ("dataset", &ds_s),
                    (&field_key, "name"),
                    ("purpose", "再確認"),
                    ("hours", "2"),
                    ("may_export", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            staff.lookup(ds, "name", "山田 花子").await.status,
            StatusCode::OK
        );
        let r = custodian.get("/vault/grants").await;
        let i = r.body.find("data-testid=\"revoke-").unwrap() + 20;
        let gid = &r.body[i..i + r.body[i..].find('"').unwrap()];
        let r = custodian
            .post(&format!("/vault/grants/{gid}/revoke"), &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            staff.lookup(ds, "name", "山田 花子").await.status,
            StatusCode::FORBIDDEN
        );

        // A record that does not decrypt shows its error.
        let jiro = env.app.store.records_page(ds, h, 10).await.unwrap()[0].id;
        sqlx::query("UPDATE vault_records SET sealed = $1 WHERE id = $2")
            .bind("AQEQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .bind(jiro)
            .execute(env.app.store.pool())
            .await
            .unwrap();
        let r = custodian.lookup(ds, "record", &jiro.to_string()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("record-error") && r.body.contains("do not decrypt"),
            "{name}"
        );

        // Erasure by the privacy office, with a confirmation step.
        let mut office = Client::login(&env, "tanaka").await;
        let r = office.get(&format!("/vault/{ds}")).await;
        assert!(r.body.contains("vault-no-access") && r.body.contains("vault-erase"));
        let r = office
            .post(
                &format!("/vault/{ds}/erase"),
                &[
                    ("by", "email"),
                    ("value", "hanako@example.jp"),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("value=\"hanako@example.jp\"") && r.body.contains("field-error"));
        let r = office
            .post(
                &format!("/vault/{ds}/erase"),
                &[
                    ("by", "email"),
                    ("value", "hanako@example.jp"),
                    ("reason", "消去請求 R-77"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("vault-erase-confirm") && r.body.contains("二度と復元できません"));
        assert_eq!(
            env.app.store.count_records(ds).await.unwrap(),
            2,
            "nothing erased yet"
        );
        let r = office
            .post(
                &format!("/vault/{ds}/erase"),
                &[
                    ("by", "email"),
                    ("value", "hanako@example.jp"),
                    ("reason", "消去請求 R-77"),
                    ("confirm", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = office.get(&r.location).await;
        assert!(r.body.contains("1件のレコードを消去しました"));
        let r = custodian.lookup(ds, "phone", "090-1234-5678").await;
        assert!(r.body.contains("一致するレコードはありません"), "{name}");
        // Staff cannot erase.
        staff.get("/vault").await;
        let r = staff
            .post(
                &format!("/vault/{ds}/erase"),
                &[
                    ("by", "email"),
                    ("value", "jiro@example.jp"),
                    ("reason", "x"),
                    ("confirm", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // CSRF on the vault forms.
        custodian.csrf = String::new();
        let r = custodian
            .post_with(&reveal, &[("field", "email")], true)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = custodian
            .post(&format!("/vault/{ds}/export"), &[("enc", "utf8")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_schema_form_declares_fields_and_retention() {
    for env in envs().await {
        let name = env.db.name;
        let s = env.suppliers;
        let mut custodian = Client::login(&env, "kobayashi").await;
        let r = custodian.get("/vault").await;
        assert!(r.body.contains("仕入先担当者") && r.body.contains(&format!("/vault/{s}/schema")));
        let r = custodian.get(&format!("/vault/{s}")).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "no schema yet: to the form"
        );
        let r = custodian.get(&format!("/vault/{s}/schema")).await;
        assert!(r.body.contains("vault-schema-form"));
        let version = env
            .app
            .store
            .get_dataset(s)
            .await
            .unwrap()
            .version
            .to_string();
        let r = custodian
            .post(
                &format!("/vault/{s}/schema"),
                &[
                    ("version", &version),
                    ("schema", "name:name, email:mail"),
                    ("action", "none"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("unknown field kind") && r.body.contains("email:mail"),
            "{}",
            r.body
        );
        let r = custodian
            .post(
                &format!("/vault/{s}/schema"),
                &[
                    ("version", &version),
                    ("schema", "name:name, email:email, contacted_on:date"),
                    ("action", "scrub"),
                    ("base_field", "contacted_on"),
                    ("days", "x"),
                    ("scrub_fields", "email"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("日数を数字で"));
        let r = custodian
            .post(
                &format!("/vault/{s}/schema"),
                &[
                    ("version", &version),
                    ("schema", "name:name, email:email, contacted_on:date"),
                    ("action", "scrub"),
                    ("base_field", "contacted_on"),
                    ("days", "30"),
                    ("scrub_fields", "email"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = custodian.get(&r.location).await;
        assert!(
            r.body.contains("保存しました")
                && r.body
                    // The fields by their labels (issue 13, item 8).
                    .contains("日付から30日後に メールアドレス を「削除済」に置き換える"),
            "{}",
            r.body
        );
        // The privacy office sees the form on the ledger entry too.
        let mut office = Client::login(&env, "tanaka").await;
        let r = office.get(&format!("/ledger/{s}")).await;
        assert!(
            r.body.contains("vault-schema-form")
                && r.body
                    .contains("name:氏名, email:メールアドレス, contacted_on:日付")
        );
        // A department head does not.
        let mut head = Client::login(&env, "suzuki").await;
        let r = head.get(&format!("/ledger/{}", env.members)).await;
        assert!(!r.body.contains("vault-schema-form"));
        let r = head
            .post(
                &format!("/vault/{s}/schema"),
                &[("version", &version), ("schema", "name:name")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

/// One API call with a bearer token (or none), JSON in and out.
async fn api(router: &Router, method: &str, path: &str, token: &str, body: Option<&str>) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    if !token.is_empty() {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_owned())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    Client::new(router).send(req).await
}

fn json_of(r: &Resp) -> serde_json::Value {
    assert!(
        r.headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|c| c.to_str().unwrap().starts_with("application/json")),
        "not JSON: {} {}",
        r.status,
        r.body
    );
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn the_api_with_personal_tokens_and_grants() {
    for env in envs().await {
        let name = env.db.name;
        let ds = env.members;
        let h = env.hanako;
        let lookup = format!("/api/v1/vault/datasets/{ds}/lookup");
        let by_mail = Some(r#"{"email": "HANAKO@example.jp"}"#);
        let reveal = format!("/api/v1/vault/records/{h}/reveal");

        // 山田 (staff) makes a token on the account page: a bad lifetime is named, then it works.
        let mut staff = Client::login(&env, "yamada").await;
        let r = staff.get("/account").await;
        assert!(r.body.contains("data-testid=\"api-tokens\""), "{name}");
        let r = staff
            .post(
                "/account/tokens",
                &[
                    ("name", "照会ツール"),
                    ("days", "91"),
                    ("password", &env.passwords["yamada"]),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("有効日数は1から90まで") && r.body.contains("value=\"照会ツール\"")
        );
        let r = staff
            .post(
                "/account/tokens",
                &[
                    ("name", "照会ツール"),
                    ("days", "30"),
                    ("password", &env.passwords["yamada"]),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let token = element_value(&r.body, "new-token");
        assert!(token.starts_with("mmr_") && token.len() > 40, "{token}");
        let again = staff.get("/account").await;
        assert!(again.body.contains("照会ツール") && !again.body.contains(&token));

        // No token, an unknown one: 401 in JSON. No grant: 403, and no dataset listed.
        let r = api(&env.router, "POST", &lookup, "", by_mail).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(json_of(&r)["error"], "error.401");
        let r = api(&env.router, "POST", &lookup, "mmr_nope", by_mail).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(json_of(&r)["error"], "error.401.token");
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &token, None).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(json_of(&r)["datasets"].as_array().unwrap().len(), 0);
        let r = api(&env.router, "POST", &lookup, &token, by_mail).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        let r = api(&env.router, "GET", "/api/v1/nothing", &token, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(json_of(&r)["status"], 404);

        // The custodian grants the e-mail for an hour.
        let kobayashi = env
            .app
            .store
            .find_user_by_login("kobayashi")
            .await
            .unwrap()
            .unwrap();
        let yamada = env
            .app
            .store
            .find_user_by_login("yamada")
            .await
            .unwrap()
            .unwrap();
        let grant = env
            .app
            .issue_grant(
                &Ctx::user(kobayashi, "10.0.0.2"),
                ds,
                yamada.id,
                &mamori_domain::vault::grant::GrantRequest {
                    fields: vec!["email".into()],
                    purpose: "問い合わせ 777 の本人確認".into(),
                    hours: 1,
                    may_export: false,
                },
            )
            .await
            .unwrap();

        // With the grant: the dataset is listed; the lookup is masked; the e-mail is revealed.
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &token, None).await;
        let j = json_of(&r);
        assert_eq!(j["datasets"][0]["id"], ds, "{name}: {j}");
        assert_eq!(j["datasets"][0]["fields"][1]["kind"], "email");
        assert_eq!(
            j["datasets"][0]["access"]["expires_at"],
            "2026-11-24T11:00:00+09:00"
        );
        assert_eq!(
            j["datasets"][0]["lookup_by"],
            serde_json::json!(["email", "record"]),
            "{name}: only the searches the grant covers"
        );
        let r = api(&env.router, "POST", &lookup, &token, by_mail).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let j = json_of(&r);
        assert_eq!(j["records"].as_array().unwrap().len(), 1, "{j}");
        let rec = &j["records"][0];
        assert_eq!(rec["id"], h);
        assert_eq!(rec["fields"]["name"]["masked"], "山田 ＊＊");
        assert_eq!(rec["fields"]["email"]["masked"], "h***@example.jp");
        assert_eq!(rec["fields"]["email"]["may_reveal"], true);
        assert_eq!(rec["fields"]["phone"]["may_reveal"], false);
        assert!(!r.body.contains("hanako@example.jp") && !r.body.contains("花子"));
        let r = api(
            &env.router,
            "POST",
            &lookup,
            &token,
            Some(r#"{"email": "jiro@example.jp"}"#),
        )
        .await;
        assert_eq!(
            json_of(&r)["records"][0]["fields"]["name"]["masked"],
            "佐藤 ＊＊"
        );
        // A phone search needs the phone in the grant: refused, naming the field it needs,
        // however many guesses are tried.
        let r = api(
            &env.router,
            "POST",
            &lookup,
            &token,
            Some(r#"{"phone": "080-2222-3333"}"#),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.body
        );
        let j = json_of(&r);
        assert_eq!(j["field"], "by", "{j}");
        assert!(
            j["message"].as_str().unwrap().contains("phone") && !r.body.contains("佐藤"),
            "{j}"
        );
        // The old GET with the search in the address is refused without searching.
        let r = api(
            &env.router,
            "GET",
            &format!("/api/v1/vault/datasets/{ds}/records?email=jiro@example.jp"),
            &token,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        let j = json_of(&r);
        assert_eq!(j["field"], "method", "{j}");
        assert!(j["message"].as_str().unwrap().contains("POST"), "{j}");
        assert!(!r.body.contains("佐藤"));
        let r = api(
            &env.router,
            "POST",
            &reveal,
            &token,
            Some(r#"{"field":"email"}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(json_of(&r)["value"], "hanako@example.jp");
        let r = api(
            &env.router,
            "POST",
            &reveal,
            &token,
            Some(r#"{"field":"phone"}"#),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");

        // Bad input is named: no search, two searches, birth alone, a body that is not JSON.
        for (q, field) in [
            ("{}", "query"),
            (r#"{"email":"a@example.jp","phone":"0312345678"}"#, "query"),
            (r#"{"birth":"1990-01-01"}"#, "query"),
            (r#"{"record":"abc"}"#, "record"),
            ("email=a@example.jp", "body"),
            (r#"{"record":42}"#, "body"),
        ] {
            let r = api(&env.router, "POST", &lookup, &token, Some(q)).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name} {q}");
            let j = json_of(&r);
            assert_eq!(j["field"], field, "{q}: {j}");
            assert!(!j["message"].as_str().unwrap().is_empty());
        }
        for (body, field) in [("not json", "body"), (r#"{"field":3}"#, "field")] {
            let r = api(&env.router, "POST", &reveal, &token, Some(body)).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(json_of(&r)["field"], field);
        }

        // The audit log names the grant for the reveal and the token for the request.
        let entries = env
            .app
            .store
            .search_audit(
                &mamori_store::audit::AuditFilter {
                    action: Some("vault.reveal".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert!(
            entries.iter().any(|e| e.record.actor == "yamada"
                && e.record
                    .detail
                    .contains(&format!("\"basis\":\"grant:{grant}\""))),
            "{name}: {entries:?}"
        );
        let entries = env
            .app
            .store
            .search_audit(
                &mamori_store::audit::AuditFilter {
                    action: Some("POST /api/v1/vault/records/:id/reveal".into()),
                    ..Default::default()
                },
                50,
            )
            .await
            .unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e.record.actor == "yamada" && e.record.detail.contains("\"api_token\":")),
            "{entries:?}"
        );

        // A token is not a key to the pages, and the pages' forms still need their CSRF token.
        let r = api(&env.router, "GET", &format!("/vault/{ds}"), &token, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}");
        assert!(r.location.starts_with("/login"));
        let r = api(&env.router, "POST", "/account/tokens", &token, Some("{}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The browser may use the API with its session; a POST needs the X-CSRF-Token header.
        let r = staff.get("/api/v1/vault/datasets").await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let post = |csrf: Option<String>| {
            let mut req = Request::post(&reveal)
                .header(header::COOKIE, staff.cookie_header())
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(c) = csrf {
                req = req.header("x-csrf-token", c);
            }
            req.body(Body::from(r#"{"field":"email"}"#)).unwrap()
        };
        let without = post(None);
        let with = post(Some(staff.csrf.clone()));
        assert_eq!(staff.send(without).await.status, StatusCode::FORBIDDEN);
        assert_eq!(staff.send(with).await.status, StatusCode::OK);

        // The grant expires: the same token gets 403 at once.
        env.clock.advance_secs(3601);
        let r = api(&env.router, "POST", &lookup, &token, by_mail).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");

        // Revoked on the account page (a new login: the hour outlived the session): 401 at once.
        let mut staff = Client::login(&env, "yamada").await;
        let r = staff.get("/account").await;
        let id = r
            .body
            .split("/account/tokens/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap()
            .to_owned();
        let r = staff
            .post(&format!("/account/tokens/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &token, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        let r = staff.get("/account").await;
        assert!(r.body.contains("取り消し済み"));
        let r = staff
            .post(&format!("/account/tokens/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "twice");

        // A one-day token expires after a day; a disabled user's token stops at once.
        let ctx = Ctx::user(yamada.clone(), "10.0.0.3");
        let pw = &env.passwords["yamada"];
        let (_, day) = env
            .app
            .create_api_token(&ctx, pw, "一日", "1")
            .await
            .unwrap();
        let (_, other) = env
            .app
            .create_api_token(&ctx, pw, "別", "90")
            .await
            .unwrap();
        let ok = api(&env.router, "GET", "/api/v1/vault/datasets", &day, None).await;
        assert_eq!(ok.status, StatusCode::OK);
        env.clock.advance_secs(86_400);
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &day, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: expired");
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &other, None).await;
        assert_eq!(r.status, StatusCode::OK);
        env.app
            .store
            .set_disabled(yamada.id, true, env.clock.now_micros())
            .await
            .unwrap();
        let r = api(&env.router, "GET", "/api/v1/vault/datasets", &other, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: disabled");
        let listed = env.app.store.list_api_tokens(yamada.id).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed.iter().filter(|t| t.revoked_at.is_some()).count(), 1);
    }
}

/// The `value` of the element with `data-testid="{id}"`.
fn element_value(body: &str, id: &str) -> String {
    let at = body
        .find(&format!("data-testid=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}"));
    let rest = &body[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn lookups_past_the_limit_get_429_with_retry_after_and_a_clear_message() {
    for env in envs().await {
        let name = env.db.name;
        let ds = env.members;
        let kobayashi = env
            .app
            .store
            .find_user_by_login("kobayashi")
            .await
            .unwrap()
            .unwrap();
        let ctx = Ctx::user(kobayashi.clone(), "10.0.0.4");
        let limit = Settings::default().vault_lookups_per_minute;
        for _ in 0..limit {
            env.app
                .vault_lookup(
                    &ctx,
                    ds,
                    &mamori_app::vault::LookupBy::Email("jiro@example.jp".into()),
                )
                .await
                .unwrap();
        }
        // The page: 429, Retry-After, and a message that says the lookups are limited.
        let mut c = Client::login(&env, "kobayashi").await;
        let r = c.lookup(ds, "email", "jiro@example.jp").await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{name}: {}",
            r.body
        );
        let secs: i64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
        assert!(
            r.body.contains("照会の回数が上限に達しました")
                && r.body.contains(&format!("{secs}秒後")),
            "{name}: {}",
            r.body
        );
        assert!(!r.body.contains("佐藤 ＊＊"), "nothing searched");
        // The API: the same, in JSON.
        let (_, token) = env
            .app
            .create_api_token(&ctx, &env.passwords["kobayashi"], "照会", "7")
            .await
            .unwrap();
        let r = api(
            &env.router,
            "POST",
            &format!("/api/v1/vault/datasets/{ds}/lookup"),
            &token,
            Some(r#"{"email":"jiro@example.jp"}"#),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{name}: {}",
            r.body
        );
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        let j = json_of(&r);
        assert_eq!(j["error"], "error.429");
        assert!(j["message"].as_str().unwrap().contains("照会の回数"), "{j}");
        // A minute later the lookups work again.
        env.clock.advance_secs(61);
        let r = c.lookup(ds, "email", "jiro@example.jp").await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(r.body.contains("佐藤 ＊＊"));
    }
}
