//! `mamori admin unlock --user NAME`: the only way out of a second factor locked by wrong codes
//! besides the admin page.

use mamori_store::testing::temp_dir;
use mamori_store::Store;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

fn mamori(cwd: &Path, data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("MAMORI_DATA_DIR", data)
        .env("MAMORI_LOG", "warn")
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_KEY_DIR")
        .env_remove("MAMORI_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn admin_unlock_clears_a_locked_second_factor() {
    let cwd = temp_dir("unlock");
    let data = cwd.join("data");
    for args in [
        &["migrate", "--create"][..],
        &[
            "admin",
            "create-company",
            "--code",
            "mirai",
            "--name",
            "みらい",
        ],
        &["admin", "create-department", "--name", "本社"],
        &[
            "admin",
            "create-user",
            "--login",
            "kato",
            "--name",
            "加藤 恵",
            "--email",
            "kato@example.jp",
            "--department",
            "本社",
            "--role",
            "auditor",
        ],
    ] {
        let (ok, out, err) = mamori(&cwd, &data, args);
        assert!(ok, "{args:?}: {out}{err}");
    }
    let url = format!("sqlite://{}", data.join("mamori.db").display());
    let store = Store::connect(&url, false).await.unwrap();
    let kato = store.find_user_by_login("kato").await.unwrap().unwrap();
    // Five wrong codes, as the login would count them.
    for n in 1..=5 {
        assert_eq!(store.take_totp_attempt(kato.id, 5).await.unwrap(), Some(n));
    }
    assert_eq!(store.take_totp_attempt(kato.id, 5).await.unwrap(), None);

    let (ok, out, err) = mamori(&cwd, &data, &["admin", "unlock", "--user", "kato"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("unlocked"), "{out}");
    assert_eq!(store.get_user(kato.id).await.unwrap().totp_failures, 0);
    let (ok, _, err) = mamori(&cwd, &data, &["admin", "unlock", "--user", "nobody"]);
    assert!(!ok && err.contains("mamori admin list-users"), "{err}");
    let (ok, out, err) = mamori(&cwd, &data, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    store.close().await;
}
