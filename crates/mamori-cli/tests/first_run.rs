//! The first run of each command on an empty data directory, as a new user meets it: every
//! error names what is missing and the command that fixes it, and what mamori creates (the
//! data directory, the database and its -wal/-shm files, the key directory and its keys) is
//! the owner's alone.

use mamori_store::testing::temp_dir;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mamori");

/// `mamori ARGS` with the data directory `data` (not the default location), run from `cwd` so
/// no stray `mamori.toml` is read: (success, stdout, stderr).
fn mamori(cwd: &Path, data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("MAMORI_DATA_DIR", data)
        .env("MAMORI_LOG", "warn")
        .env_remove("MAMORI_DATABASE_URL")
        .env_remove("MAMORI_KEY_DIR")
        .env_remove("MAMORI_CONFIG")
        .env_remove("MAMORI_VAULT_KEYS")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn every_first_run_error_names_the_command_that_fixes_it() {
    let cwd = temp_dir("firstrun");
    let data = cwd.join("data");
    let csv = cwd.join("customers.csv");
    std::fs::write(
        &csv,
        "氏名,メールアドレス,電話番号\r\n山田 花子,hanako@example.jp,090-1111-2222\r\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap();
    let fails_with = |args: &[&str], wanted: &str| {
        let (ok, out, err) = mamori(&cwd, &data, args);
        assert!(!ok, "{args:?} should fail: {out}{err}");
        assert!(err.contains(wanted), "{args:?}: `{wanted}` not in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    // No database yet: every command says how to make one, and none makes it by accident.
    for args in [
        &["admin", "list-users"][..],
        &["vault", "import", csv, "--dataset", "顧客", "--create"],
        &["ledger", "export", "-"],
        &["audit", "verify"],
    ] {
        fails_with(args, "mamori migrate --create");
    }
    assert!(!data.join("mamori.db").exists());
    let (ok, out, err) = mamori(&cwd, &data, &["migrate", "--create"]);
    assert!(ok, "{out}{err}");
    // No company yet (the review's case said "there are several companies").
    fails_with(
        &["vault", "import", csv, "--dataset", "顧客", "--create"],
        "mamori admin create-company --code CODE --name NAME",
    );
    fails_with(
        &["admin", "create-department", "--name", "本社"],
        "mamori admin create-company",
    );
    let (ok, out, err) = mamori(
        &cwd,
        &data,
        &[
            "admin",
            "create-company",
            "--code",
            "mirai",
            "--name",
            "株式会社みらい",
        ],
    );
    assert!(ok, "{out}{err}");
    // No department yet (the review's case said "not found" and nothing else).
    fails_with(
        &["vault", "import", csv, "--dataset", "顧客", "--create"],
        "mamori admin create-department --name NAME",
    );
    fails_with(
        &[
            "admin",
            "create-user",
            "--login",
            "tanaka",
            "--name",
            "田中",
            "--email",
            "tanaka@example.jp",
            "--department",
            "本社",
            "--role",
            "privacy_office",
        ],
        "mamori admin create-department --name NAME",
    );
    let (ok, out, err) = mamori(
        &cwd,
        &data,
        &["admin", "create-department", "--name", "本社"],
    );
    assert!(ok, "{out}{err}");
    fails_with(
        &[
            "admin",
            "create-user",
            "--login",
            "tanaka",
            "--name",
            "田中",
            "--email",
            "tanaka@example.jp",
            "--department",
            "営業部",
            "--role",
            "privacy_office",
        ],
        "known: 本社",
    );
    // No privacy office user to act as.
    fails_with(&["ledger", "export", "-"], "--role privacy_office");
    fails_with(
        &[
            "vault",
            "erase",
            "--dataset",
            "顧客",
            "--email",
            "x@example.jp",
            "--reason",
            "r",
        ],
        "--create",
    );
    // Now the import works, and creates the vault's keys.
    let (ok, out, err) = mamori(
        &cwd,
        &data,
        &["vault", "import", csv, "--dataset", "顧客", "--create"],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = mamori(&cwd, &data, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    #[cfg(unix)]
    {
        // Created for the owner alone (the review found mamori.db and its -wal/-shm at 0644).
        assert_eq!(mode(&data), 0o700);
        for f in ["mamori.db", "mamori.db-wal", "mamori.db-shm"] {
            let p = data.join(f);
            if f == "mamori.db" || p.exists() {
                assert_eq!(mode(&p), 0o600, "{f}");
            }
        }
        let keys = data.join("keys");
        assert_eq!(mode(&keys), 0o700);
        for entry in std::fs::read_dir(&keys).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "pub") {
                continue;
            }
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
}

/// A database made before files were created private is made private at the next start.
#[cfg(unix)]
#[test]
fn an_existing_database_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let cwd = temp_dir("firstrun");
    let data = cwd.join("data");
    let (ok, out, err) = mamori(&cwd, &data, &["migrate", "--create"]);
    assert!(ok, "{out}{err}");
    let db = data.join("mamori.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, out, err) = mamori(&cwd, &data, &["migrate", "--status"]);
    assert!(ok, "{out}{err}");
    assert_eq!(mode(&db), 0o600);
}
