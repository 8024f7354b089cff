//! The demo company: a fictional online shop modelled on seed 000 (about 60 staff, a call
//! centre, a system department), and a logistics subsidiary, with one user for each role.
//!
//! Every name here is invented. Passwords are generated at each start with `--demo` and
//! printed once, so a newcomer can log in as any role at once.

use crate::admin::UserInput;
use crate::auth::{generate_password, hash_password};
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
                    let hash = hash_password(&password)?;
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
        self.store.set_setting("demo.seeded", "1").await?;
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
