//! The demo company: a fictional online shop modelled on seed 000 (about 60 staff, a call
//! centre, a system department), and a logistics subsidiary, with one user for each role.
//!
//! Every name here is invented. Passwords are generated at each start with `--demo` and
//! printed once, so a newcomer can log in as any role at once.

use crate::admin::UserInput;
use crate::auth::generate_password;
use crate::{App, AppError, Ctx};
use mamori_domain::role::Role;

/// A demo account and its fresh password.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

const DEPARTMENTS: &[(&str, Option<&str>)] = &[
    ("取締役会", None),
    ("経営戦略室", Some("取締役会")),
    ("オペレーションサービス部", Some("取締役会")),
    ("カスタマーサポート課", Some("オペレーションサービス部")),
    ("物流課", Some("オペレーションサービス部")),
    ("システム部", Some("取締役会")),
    ("バイヤー部", Some("取締役会")),
    ("管理部", Some("取締役会")),
    ("個人情報保護事務局", Some("管理部")),
    ("内部監査室", Some("取締役会")),
];

const USERS: &[(&str, &str, &str, Role)] = &[
    ("yamada", "山田 太郎", "バイヤー部", Role::Staff),
    (
        "suzuki",
        "鈴木 一郎",
        "オペレーションサービス部",
        Role::DepartmentHead,
    ),
    (
        "tanaka",
        "田中 美咲",
        "個人情報保護事務局",
        Role::PrivacyOffice,
    ),
    ("takahashi", "高橋 健", "システム部", Role::Ciso),
    ("watanabe", "渡辺 直子", "経営戦略室", Role::Executive),
    (
        "ito",
        "伊藤 さくら",
        "カスタマーサポート課",
        Role::ContactDesk,
    ),
    ("kobayashi", "小林 誠", "システム部", Role::Custodian),
    ("kato", "加藤 恵", "内部監査室", Role::Auditor),
    ("yoshida", "吉田 浩", "経営戦略室", Role::GroupHq),
    ("admin", "システム 管理者", "システム部", Role::Admin),
];

impl App {
    /// Creates the demo organisation if the database has no users yet, or gives the demo
    /// users new passwords if it was created before. Returns the logins to print.
    pub async fn seed_demo(&self) -> Result<Vec<DemoLogin>, AppError> {
        let ctx = Ctx::local();
        let seeded = self.store.get_setting("demo.seeded").await?.is_some();
        if !seeded && self.store.count_users().await? > 0 {
            return Err(AppError::invalid(
                "demo",
                "このデータベースにはすでに実際の利用者がいるため、デモデータは入れません",
                "this database already has real users; demo data is only added to an empty database",
            ));
        }
        let mut out = Vec::new();
        if seeded {
            for (login, name, _, role) in USERS {
                if let Some(u) = self.store.find_user_by_login(login).await? {
                    let password = generate_password();
                    let hash = self.argon2.hash(&password).await?;
                    self.store
                        .set_password_hash(u.id, &hash, self.clock.now_micros())
                        .await?;
                    self.store.clear_login_failures("account", login).await?;
                    out.push(DemoLogin {
                        login: (*login).into(),
                        display_name: (*name).into(),
                        role: *role,
                        password,
                    });
                }
            }
            self.seed_demo_ledger().await?;
            self.seed_demo_campaign().await?;
            self.seed_demo_devices().await?;
            self.seed_demo_contractors_audits().await?;
            self.seed_demo_learning().await?;
            return Ok(out);
        }
        let company = self
            .create_company(&ctx, "mirai-tsuhan", "株式会社みらい通販")
            .await?;
        let mut ids: Vec<(&str, i64)> = Vec::new();
        for (name, parent) in DEPARTMENTS {
            let parent_id =
                parent.and_then(|p| ids.iter().find(|(n, _)| *n == p).map(|(_, id)| *id));
            let id = self
                .create_department(&ctx, company, parent_id, name)
                .await?;
            ids.push((name, id));
        }
        for (login, name, dept, role) in USERS {
            let department_id = ids
                .iter()
                .find(|(n, _)| n == dept)
                .map(|(_, id)| *id)
                .expect("demo department");
            let password = generate_password();
            self.create_user(
                &ctx,
                &UserInput {
                    company_id: Some(company),
                    department_id,
                    login: (*login).into(),
                    display_name: (*name).into(),
                    email: format!("{login}@mirai-tsuhan.example"),
                    roles: vec![*role],
                    password: Some(password.clone()),
                    locale: "ja".into(),
                },
            )
            .await?;
            out.push(DemoLogin {
                login: (*login).into(),
                display_name: (*name).into(),
                role: *role,
                password,
            });
        }
        let logistics = self
            .create_company(&ctx, "mirai-logistics", "みらいロジスティクス株式会社")
            .await?;
        let root = self
            .create_department(&ctx, logistics, None, "取締役会")
            .await?;
        self.create_department(&ctx, logistics, Some(root), "配送センター")
            .await?;
        self.create_department(&ctx, logistics, Some(root), "管理部")
            .await?;
        self.seed_demo_incidents(company).await?;
        self.seed_demo_inspections(company).await?;
        self.store.set_setting("demo.seeded", "1").await?;
        self.seed_demo_ledger().await?;
        self.seed_demo_campaign().await?;
        self.seed_demo_devices().await?;
        self.seed_demo_contractors_audits().await?;
        self.seed_demo_learning().await?;
        Ok(out)
    }
}

impl App {
    /// The call tree and two incidents, so that the dashboard and an incident page have
    /// something to show: a real one with a reportable count and a drill.
    async fn seed_demo_incidents(&self, company: i64) -> Result<(), AppError> {
        let user = |login: &'static str| async move {
            self.store
                .find_user_by_login(login)
                .await?
                .ok_or_else(|| AppError::Internal(format!("demo user {login}")))
        };
        let tanaka = user("tanaka").await?;
        let takahashi = user("takahashi").await?;
        let watanabe = user("watanabe").await?;
        self.store
            .set_call_tree(
                company,
                &[
                    mamori_store::alerts::CallTreeEntry {
                        level: 1,
                        user_id: tanaka.id,
                    },
                    mamori_store::alerts::CallTreeEntry {
                        level: 1,
                        user_id: takahashi.id,
                    },
                    mamori_store::alerts::CallTreeEntry {
                        level: 2,
                        user_id: watanabe.id,
                    },
                ],
                15 * 60,
            )
            .await?;
        let ito = Ctx::user(user("ito").await?, "demo");
        let mut real = crate::incident::FirstReportInput {
            title: "会員向けメールマガジンの宛先誤り（BCC漏れ）".into(),
            description: "会員向けのお知らせメールを、宛先をBCCではなくTOに入れて送信した。受信者同士にメールアドレスが見える状態になった。".into(),
            event: "leak".into(),
            certainty: "confirmed".into(),
            found_by: "カスタマーサポート課 伊藤".into(),
            items: vec!["email".into(), "name".into()],
            persons: "1,250".into(),
            actions_taken: "送信システムを停止し、受信者へ削除依頼のメールを準備中。".into(),
            ..crate::incident::FirstReportInput::default()
        };
        self.file_first_report(&ito, &real).await?;
        let yamada = Ctx::user(user("yamada").await?, "demo");
        real = crate::incident::FirstReportInput {
            drill: true,
            title: "ノートPCの紛失（訓練）".into(),
            description:
                "出張中に顧客リストを保存したノートPCを電車内に置き忘れた（訓練シナリオ）。".into(),
            event: "loss".into(),
            items: vec!["name".into(), "address".into(), "phone".into()],
            persons: "300".into(),
            ..crate::incident::FirstReportInput::default()
        };
        self.file_first_report(&yamada, &real).await?;
        Ok(())
    }
}

impl App {
    /// Ledger entries from seed 000 (the e-commerce company) and a vault dataset of shipping
    /// addresses with the 30-day retention rule, filled with generated persons; once per
    /// database (also into a demo database made before the ledger existed).
    async fn seed_demo_ledger(&self) -> Result<(), AppError> {
        use mamori_domain::appi::item::Item;
        use mamori_domain::ledger::DatasetInput;
        if self.store.get_setting("demo.ledger").await?.is_some() || self.vault.get().is_none() {
            return Ok(());
        }
        let ctx = Ctx::local();
        let Some(company) = self.store.list_companies().await?.into_iter().next() else {
            return Ok(());
        };
        let depts = self.store.list_departments(company.id).await?;
        let dept = |name: &str| depts.iter().find(|d| d.name == name).map_or(0, |d| d.id);
        let date = |s: &str| s.parse().ok();
        let entries = [
            DatasetInput {
                name: "会員情報".into(),
                department_id: dept("オペレーションサービス部"),
                items: vec![
                    Item::Name,
                    Item::KanaName,
                    Item::Address,
                    Item::PostalCode,
                    Item::Phone,
                    Item::Email,
                    Item::BirthDate,
                    Item::LoginId,
                    Item::Password,
                    Item::PurchaseHistory,
                ],
                persons: Some(437_000),
                purpose: "通信販売の会員管理、商品の発送、お問い合わせへの対応".into(),
                source: "会員登録フォーム（本人）".into(),
                storage_place: "会員データベース（データセンター）".into(),
                storage_method: "パスワードはハッシュ化、電子データ（暗号化）".into(),
                access: "オペレーションサービス部、システム部（権限を付与された者のみ）".into(),
                use_until: date("2031-03-31"),
                retain_until: date("2033-03-31"),
                entrusted_to: "配送業者（発送に必要な範囲）".into(),
                ..DatasetInput::default()
            },
            DatasetInput {
                name: "配送先情報".into(),
                department_id: dept("物流課"),
                items: vec![Item::Name, Item::Address, Item::PostalCode, Item::Phone],
                persons: Some(200),
                purpose: "注文商品の発送（発送後30日で削除）".into(),
                source: "注文フォーム".into(),
                storage_place: "mamori 保管庫".into(),
                storage_method: "項目ごとに暗号化、発送後30日で氏名・住所・電話番号を削除".into(),
                access: "物流課（期限付きの閲覧権限）".into(),
                ..DatasetInput::default()
            },
            DatasetInput {
                name: "決済情報".into(),
                department_id: dept("システム部"),
                items: vec![Item::CreditCardLast4, Item::CreditCardExpiry],
                persons: Some(120_000),
                purpose: "代金の決済（カード番号は決済代行会社のみが保持し、当社はトークンを保存）"
                    .into(),
                storage_place: "決済代行会社（委託）".into(),
                entrusted_to: "決済代行会社".into(),
                ..DatasetInput::default()
            },
            DatasetInput {
                name: "従業員の健康診断結果".into(),
                department_id: dept("管理部"),
                items: vec![Item::Name, Item::EmployeeId, Item::HealthCheckResult],
                persons: Some(60),
                purpose: "労働安全衛生法に基づく健康管理".into(),
                storage_place: "管理部 施錠キャビネット".into(),
                storage_method: "紙（施錠保管）".into(),
                access: "管理部長、産業医".into(),
                retain_until: date("2031-03-31"),
                ..DatasetInput::default()
            },
            DatasetInput {
                name: "お問い合わせ履歴".into(),
                department_id: dept("カスタマーサポート課"),
                items: vec![Item::Name, Item::Phone, Item::Email],
                persons: None,
                purpose: "お問い合わせへの回答と品質向上".into(),
                storage_place: "問い合わせ管理システム（クラウド）".into(),
                entrusted_to: "コールセンター運営会社".into(),
                ..DatasetInput::default()
            },
        ];
        let mut shipping = 0;
        for e in entries {
            let name = e.name.clone();
            let id = self.create_dataset(&ctx, e).await?;
            if name == "配送先情報" {
                shipping = id;
            }
        }
        let d = self.store.get_dataset(shipping).await?;
        let rule = mamori_domain::vault::RetentionRule {
            base_field: "shipped_on".into(),
            after_days: 30,
            action: mamori_domain::vault::RetentionAction::Scrub {
                fields: vec!["name".into(), "address".into(), "phone".into()],
            },
        };
        self.set_vault_schema(
            &ctx,
            shipping,
            d.version,
            "name:name, kana:kana_name, email:email, phone:phone, zip:postal_code, address:address, \
             shipped_on:date, order_no:customer_id",
            Some(rule),
        )
        .await?;
        // 200 generated persons (fictional names and example.jp addresses), shipped over the
        // last 60 days, so retention has something to do.
        let family = [
            "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
        ];
        let family_kana = [
            "サトウ",
            "スズキ",
            "タカハシ",
            "タナカ",
            "イトウ",
            "ワタナベ",
            "ヤマモト",
            "ナカムラ",
            "コバヤシ",
            "カトウ",
        ];
        let given = [
            "陽子",
            "健太",
            "美咲",
            "大輔",
            "真由美",
            "翔太",
            "恵",
            "拓也",
            "由美子",
            "誠",
        ];
        let given_kana = [
            "ヨウコ",
            "ケンタ",
            "ミサキ",
            "ダイスケ",
            "マユミ",
            "ショウタ",
            "メグミ",
            "タクヤ",
            "ユミコ",
            "マコト",
        ];
        let today = mamori_domain::incident::jst_date(self.clock.now_micros());
        use std::fmt::Write as _;
        let mut csv =
            String::from("氏名,フリガナ,メールアドレス,電話番号,郵便番号,住所,発送日,注文番号\n");
        for i in 0..200usize {
            let shipped = today - chrono::Duration::days((i % 60) as i64);
            let _ = writeln!(
                csv,
                "{} {},{} {},customer{i:03}@example.jp,090-{:04}-{:04},150-{:04},東京都渋谷区神南{}-{}-{},{shipped},ORD-{:06}",
                family[i % 10], given[(i / 10) % 10], family_kana[i % 10], given_kana[(i / 10) % 10],
                1000 + i, 2000 + i * 7 % 8000, i % 10000, i % 3 + 1, i % 20 + 1, i % 9 + 1, 100_000 + i
            );
        }
        self.vault_import(
            &ctx,
            csv.as_bytes(),
            &crate::vault_import::ImportOptions {
                dataset: "配送先情報".into(),
                file_name: "demo-shipping.csv".into(),
                company: Some(company.code.clone()),
                ..Default::default()
            },
            &|_| true,
        )
        .await?;
        self.store.set_setting("demo.ledger", "1").await?;
        Ok(())
    }
}

impl App {
    /// Issue 14 in the demo: a third incident — shipping data taken from the delivery
    /// contractor's server — with the leaked file attached and matched against the vault (25
    /// customers by phone and name + address, three rows nobody knows, one of them with no
    /// contact data), the facts taken over from the impact analysis, the notice approved by
    /// the CISO, and a campaign under way: letters posted, three come back and go on to
    /// e-mail (the demo mailbox receives them), the rest to the phone list.
    async fn seed_demo_campaign(&self) -> Result<(), AppError> {
        if self.store.get_setting("demo.campaign").await?.is_some() || self.vault.get().is_none() {
            return Ok(());
        }
        let user = |login: &'static str| async move {
            self.store
                .find_user_by_login(login)
                .await?
                .ok_or_else(|| AppError::Internal(format!("demo user {login}")))
        };
        let tanaka = Ctx::user(user("tanaka").await?, "demo");
        let takahashi = Ctx::user(user("takahashi").await?, "demo");
        let (id, _) = self
            .file_first_report(
                &tanaka,
                &crate::incident::FirstReportInput {
                    title: "配送委託先サーバへの不正アクセスによる配送先情報の流出".into(),
                    description: "配送委託先のサーバに第三者が不正にアクセスし、配送先の一覧（氏名・電話番号・住所）が持ち出された。委託先から流出したファイルの提供を受けた。".into(),
                    event: "leak".into(),
                    certainty: "confirmed".into(),
                    found_by: "個人情報保護事務局 田中".into(),
                    items: vec!["name".into(), "phone".into(), "address".into()],
                    persons: "不明".into(),
                    actions_taken: "委託先のサーバを停止し、流出したファイルの提供を受けた。".into(),
                    ..crate::incident::FirstReportInput::default()
                },
            )
            .await?;
        // The leaked file, as the contractor's system wrote it: CP932, CRLF.
        use std::fmt::Write as _;
        let family = [
            "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
        ];
        let given = ["陽子", "健太", "美咲"];
        let mut csv = String::from("お届け先氏名,電話番号,郵便番号,お届け先住所,伝票番号\r\n");
        for i in 0..25usize {
            let _ = write!(
                csv,
                "{} {},090-{:04}-{:04},150-{:04},東京都渋谷区神南{}-{}-{},S{:08}\r\n",
                family[i % 10],
                given[(i / 10) % 3],
                1000 + i,
                2000 + i * 7 % 8000,
                i % 10000,
                i % 3 + 1,
                i % 20 + 1,
                i % 9 + 1,
                700_000 + i
            );
        }
        csv.push_str("木村 花子,,160-0022,東京都新宿区新宿3-1-1,S00800001\r\n");
        csv.push_str("井上 翔,080-5555-0101,,,S00800002\r\n");
        csv.push_str("松本 恵,,,,S00800003\r\n");
        // Taken by a third party on purpose: reportable whatever the number (施行規則7条3号).
        let incident = self.store.get_incident(id).await?;
        let facts: mamori_domain::incident::facts::IncidentFacts =
            serde_json::from_str(&incident.facts)
                .map_err(|e| AppError::Internal(format!("demo facts: {e}")))?;
        let mut input = crate::incident::FactsInput::from_facts(&facts, incident.version);
        input.malicious = true;
        self.update_facts(&tanaka, id, &input).await?;
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&csv);
        let mut w = self
            .begin_evidence(&tanaka, id, "委託先から提供された流出ファイル.csv")
            .await?;
        w.write(&bytes).await?;
        let file = w.finish().await?;
        self.scan_evidence(file).await.map_err(AppError::Internal)?;
        let version = self.store.get_incident(id).await?.version;
        self.apply_impact_proposal(&tanaka, id, version).await?;
        let mut notice = self.draft_notice(&tanaka, id).await?;
        notice.ja.contact = "株式会社みらい通販 お客様相談窓口\n電話 0120-000-000（平日9時〜18時）\nメール privacy@mirai-tsuhan.example".into();
        if let Some(en) = notice.en.as_mut() {
            en.contact = "Mirai Tsuhan customer desk, phone 0120-000-000 (weekdays 9:00–18:00), privacy@mirai-tsuhan.example".into();
        }
        let v = self.save_notice(&tanaka, id, &notice).await?;
        self.approve_notice(&takahashi, id, v).await?;
        let campaign = self
            .create_campaign(&tanaka, id, &crate::campaign::CampaignOptions::default())
            .await?;
        let letters = self.letters_to_print(&tanaka, campaign, 0, 1000).await?;
        let ids: Vec<i64> = letters.iter().map(|l| l.recipient_id).collect();
        self.mark_posted(&tanaka, campaign, &ids).await?;
        for (l, reason) in letters.iter().take(3).zip([
            crate::campaign::ReturnReason::UnknownAddress,
            crate::campaign::ReturnReason::Moved,
            crate::campaign::ReturnReason::UnknownAddress,
        ]) {
            self.mark_returned(&tanaka, campaign, &l.reference, reason)
                .await?;
        }
        self.store.set_setting("demo.campaign", "1").await?;
        self.seed_demo_desk(id).await?;
        Ok(())
    }

    /// The contact desk of the demo's leak: calls and mails over the last five days, one
    /// escalation answered and one waiting, an approved FAQ entry, a proposal, a mail thread.
    async fn seed_demo_desk(&self, incident: i64) -> Result<(), AppError> {
        use crate::desk::{Caller, InquiryInput};
        let user = |login: &'static str| async move {
            self.store
                .find_user_by_login(login)
                .await?
                .ok_or_else(|| AppError::Internal(format!("demo user {login}")))
        };
        let ito = Ctx::user(user("ito").await?, "demo");
        let tanaka = Ctx::user(user("tanaka").await?, "demo");
        let now = self.clock.now_micros();
        let hour = 3_600_000_000i64;
        let calls: [(i64, &str, &str, &str, &str, &str, &str); 14] = [
            (
                98,
                "phone",
                "customer",
                "affected",
                "自分の情報が含まれているか知りたい",
                "お名前と電話番号で確認し、対象であることをお伝えした",
                "close",
            ),
            (
                97,
                "phone",
                "customer",
                "letter",
                "届いた手紙は本物か",
                "当社からの正式な通知であるとお伝えした",
                "close",
            ),
            (
                75,
                "mail",
                "customer",
                "affected",
                "対象かどうか確認したい",
                "",
                "open",
            ),
            (
                74,
                "phone",
                "relative",
                "affected",
                "母宛ての通知について聞きたい",
                "ご本人確認の上で折り返すとお伝えした",
                "close",
            ),
            (
                73,
                "phone",
                "customer",
                "what_to_do",
                "不審な電話がかかってきたらどうすれば",
                "身に覚えのない連絡には応じず、窓口へご連絡くださいとお伝えした",
                "close",
            ),
            (
                52,
                "phone",
                "customer",
                "what_to_do",
                "電話番号を変えたほうがいいか",
                "現時点では不要、不審な着信にご注意くださいとお伝えした",
                "close",
            ),
            (
                51,
                "web",
                "customer",
                "damage",
                "昨日から知らない番号から着信がある",
                "",
                "open",
            ),
            (
                50,
                "phone",
                "press",
                "cause",
                "原因と再発防止策を教えてほしい",
                "広報窓口へおつなぎした",
                "close",
            ),
            (
                28,
                "phone",
                "customer",
                "compensation",
                "お詫びの品はあるのか",
                "",
                "escalate",
            ),
            (
                27,
                "phone",
                "customer",
                "what_to_do",
                "住所も漏れたが何に気をつければ",
                "不審な郵便物にご注意くださいとお伝えした",
                "close",
            ),
            (
                26,
                "phone",
                "customer",
                "affected",
                "家族全員分が対象か",
                "お一人ずつの確認が必要とお伝えした",
                "close",
            ),
            (
                5,
                "phone",
                "customer",
                "deletion",
                "退会して情報を消してほしい",
                "",
                "escalate",
            ),
            (
                3,
                "mail",
                "customer",
                "letter",
                "通知が届いていない",
                "住所変更の有無を確認中",
                "open",
            ),
            (
                1,
                "phone",
                "police",
                "other",
                "被害届の相談があった件の確認",
                "事務局から折り返すとお伝えした",
                "close",
            ),
        ];
        let mut escalated = Vec::new();
        for (i, (ago, channel, caller, category, q, a, outcome)) in calls.iter().enumerate() {
            let input = InquiryInput {
                incident_id: incident,
                channel: (*channel).into(),
                caller_type: (*caller).into(),
                category: (*category).into(),
                caller: Caller {
                    name: format!("{} 様", ["佐藤", "鈴木", "高橋", "伊藤", "渡辺"][i % 5]),
                    contact: format!("090-{:04}-{:04}", 1000 + i, 2000 + i * 7),
                },
                question: (*q).into(),
                answer: (*a).into(),
                close: *outcome == "close",
                escalate: (*outcome == "escalate").then(|| "窓口では判断できないため".to_owned()),
                person: None,
                handling_secs: Some(120 + (i as i64 * 37) % 300),
            };
            let v = self.log_inquiry_at(&ito, &input, now - ago * hour).await?;
            if *outcome == "escalate" {
                escalated.push(v.id);
            }
        }
        if let Some(first) = escalated.first() {
            self.reply_inquiry(
                &tanaka,
                *first,
                "お詫びの内容は検討中です。決まり次第、書面でご案内するとお伝えください。",
            )
            .await?;
        }
        let entry = self
            .create_faq(
                &tanaka,
                incident,
                "what_to_do",
                &crate::desk_faq::FaqText {
                    question_ja: "不審な電話や郵便物が届いたらどうすればよいですか".into(),
                    answer_ja: "身に覚えのない電話や郵便物には応じず、お客様相談窓口（0120-000-000）までご連絡ください。当社から電話で暗証番号やカード番号をお尋ねすることはありません。".into(),
                    question_en: "What should I do about suspicious calls or mail?".into(),
                    answer_en: "Do not respond to calls or mail you do not recognise, and contact our desk (0120-000-000). We never ask for PINs or card numbers by phone.".into(),
                },
            )
            .await?;
        self.approve_faq(&tanaka, entry, 1).await?;
        let mbox = "From yamada@example.jp Mon Dec  7 09:00:00 2026\n\
                    From: =?UTF-8?B?5bGx55SwIOiKseWtkA==?= <hanako.yamada@example.jp>\n\
                    Subject: =?UTF-8?B?6YCa55+l44Gr44Gk44GE44Gm?=\nMessage-ID: <demo-1@example.jp>\n\
                    Content-Type: text/plain; charset=UTF-8\n\n\
                    通知の手紙を受け取りました。私の電話番号も漏れたのでしょうか。\n\n\
                    From yamada@example.jp Mon Dec  7 10:00:00 2026\n\
                    From: hanako.yamada@example.jp\nSubject: Re: test\nMessage-ID: <demo-2@example.jp>\n\
                    In-Reply-To: <demo-1@example.jp>\nReferences: <demo-1@example.jp>\n\n\
                    追記です。夜は電話に出られません。\n";
        self.import_inquiry_mail(&ito, incident, "相談窓口受信箱.mbox", mbox.as_bytes())
            .await?;
        Ok(())
    }
}

/// The demo share's files: fictional people and numbers (a valid My Number check digit, phone
/// numbers of the 090/080 ranges), as a privacy office would find them on a department share.
const DEMO_SHARE: &[(&str, &str)] = &[
    (
        "カスタマーサポート課/問い合わせ対応/2026-11_折り返し一覧.csv",
        "受付日,氏名,電話番号,メールアドレス,内容\n2026-11-02,佐々木 美咲,090-3141-5926,misaki.sasaki@example.jp,配送日の変更\n2026-11-05,中村 大輔,080-2718-2818,daisuke.n@example.com,返品の手順\n2026-11-09,小川 直美,070-1414-2135,naomi.ogawa@example.ne.jp,ポイントの失効\n",
    ),
    (
        "カスタマーサポート課/議事録/2026-11-20_定例.txt",
        "定例ミーティング議事録（2026年11月20日）\n出席: 伊藤、鈴木\n・返品の問い合わせが増加。佐々木美咲様（090-3141-5926）へは伊藤が折り返し済み。\n・次回は12月18日。\n",
    ),
    (
        "カスタマーサポート課/旧システム/退会者_控え.csv",
        "会員番号,氏名,生年月日,個人番号\nM-00812,石井 健太,1984-04-12,123456789018\n",
    ),
    (
        "カスタマーサポート課/マニュアル/電話応対の手引き.txt",
        "電話応対の手引き\n1. 名乗る\n2. ご用件を伺う\n3. 本人確認の手順に従う\n",
    ),
];

impl App {
    /// The demo's discovery: a department share under `share` (made if missing, outside the
    /// data folder) scanned once, and a self-check report of a staff member's laptop, signed
    /// with a key issued to them. Added once.
    pub async fn seed_demo_discovery(&self, share: &std::path::Path) -> Result<(), AppError> {
        use mamori_domain::discovery_report::{
            key_id_of, write_signed, ReportFile, ReportHeader, ReportStatus,
        };
        if self.store.get_setting("demo.discovery").await?.is_some() {
            return Ok(());
        }
        let Some(company) = self.store.list_companies().await?.into_iter().next() else {
            return Ok(());
        };
        let depts = self.store.list_departments(company.id).await?;
        let dept = |name: &str| depts.iter().find(|d| d.name == name).map_or(0, |d| d.id);
        for (path, text) in DEMO_SHARE {
            let p = share.join(path);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| AppError::Internal(format!("demo share: {e}")))?;
            }
            if !p.exists() {
                std::fs::write(&p, text)
                    .map_err(|e| AppError::Internal(format!("demo share: {e}")))?;
            }
        }
        let real = std::fs::canonicalize(share)
            .map_err(|e| AppError::Internal(format!("demo share: {e}")))?;
        let now = self.clock.now_micros();
        let loc = self
            .store
            .insert_location(&mamori_store::discovery::NewLocation {
                company_id: company.id,
                department_id: dept("カスタマーサポート課"),
                kind: "folder".into(),
                name: "共有フォルダ（オペレーションサービス部）".into(),
                path: real.to_string_lossy().into_owned(),
                owner_user_id: None,
                interval_hours: 24,
                next_scan_at: Some(now + 24 * 3_600_000_000),
                created_at: now,
                created_by: "demo".into(),
            })
            .await?;
        self.store.queue_scan(loc, company.id, "demo", now).await?;
        while self
            .run_next_scan(crate::discovery::process_worker())
            .await?
            .is_some()
        {}
        // A staff member's laptop, reported with a signed report.
        if let Some(u) = self.store.find_user_by_login("yamada").await? {
            let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
            let key_id = key_id_of(&signing.verifying_key());
            self.store
                .insert_scan_key(&mamori_store::discovery::ScanKeyRow {
                    key_id: key_id.clone(),
                    company_id: company.id,
                    user_id: u.id,
                    public_key: hex::encode(signing.verifying_key().to_bytes()),
                    label: "ノートPC".into(),
                    created_at: now,
                    revoked_at: None,
                    revoked_by: None,
                })
                .await?;
            let file = |path: &str, counts: &[(&str, u64)]| ReportFile {
                path: path.into(),
                bytes: 18_432,
                format: "xlsx".into(),
                status: ReportStatus::Scanned,
                reason: None,
                counts: counts.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
            };
            let mut scan = file("C:\\Users\\yamada\\Downloads\\申込書_スキャン.png", &[]);
            scan.format = "image".into();
            scan.status = ReportStatus::Skipped;
            scan.reason = Some("not read: image only".into());
            let report = write_signed(
                &ReportHeader {
                    key_id,
                    host: "MIRAI-NB-0231".into(),
                    roots: vec!["C:\\Users\\yamada".into()],
                    started_at: "2026-12-01T12:10:00+09:00".into(),
                    finished_at: "2026-12-01T12:14:00+09:00".into(),
                    scanner: env!("CARGO_PKG_VERSION").into(),
                    files_scanned: 1840,
                    files_clean: 1837,
                },
                &[
                    file(
                        "C:\\Users\\yamada\\Documents\\仕入先\\展示会_名刺リスト.xlsx",
                        &[("person_name", 64), ("phone", 60), ("email", 58)],
                    ),
                    file("C:\\Users\\yamada\\Desktop\\メモ.txt", &[("phone", 2)]),
                    scan,
                ],
                &signing,
            );
            let ctx = Ctx::user(u, "local");
            self.import_scan_report(&ctx, &report).await?;
        }
        self.store.set_setting("demo.discovery", "1").await?;
        Ok(())
    }
}
