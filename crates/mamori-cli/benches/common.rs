//! Shared by the benchmarks: databases to measure on, and medians.

use mamori_store::Store;

/// The databases to measure: a fresh SQLite file and, unless skipped, a fresh PostgreSQL
/// database on the server named by `MAMORI_BENCH_POSTGRES_URL` (default: the local server).
pub async fn stores(tag: &str) -> Vec<(&'static str, Store)> {
    let dir = std::env::temp_dir().join(format!("mamori-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}/bench.db", dir.display()), true)
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![("SQLite", sqlite)];
    if std::env::var("MAMORI_SKIP_POSTGRES").as_deref() != Ok("1") {
        let admin_url = std::env::var("MAMORI_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let admin = Store::connect(&admin_url, false)
            .await
            .expect("PostgreSQL for the benchmark (MAMORI_SKIP_POSTGRES=1 to skip)");
        let name = format!("mamori_bench_{tag}");
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let create = format!("CREATE DATABASE {name}");
        sqlx::query(&drop).execute(admin.pool()).await.unwrap();
        sqlx::query(&create).execute(admin.pool()).await.unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let pg = Store::connect(&format!("{base}/{name}"), false)
            .await
            .unwrap();
        pg.migrate().await.unwrap();
        out.push(("PostgreSQL", pg));
    }
    out
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The 1-, 5- and 15-minute load averages, to judge how noisy a run was.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}
