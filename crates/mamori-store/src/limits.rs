//! Rate-limit counters shared by every process: one row per key and fixed window
//! (`rate_counts`), counted up in one statement.

use crate::{Result, Store};
use sqlx::Row;

impl Store {
    /// Counts one more event under each (key, window start) given and returns the counts, in
    /// the order given, in one statement (one commit). When an event opens a new window, the
    /// key's older windows are deleted.
    pub async fn count_rate(&self, windows: &[(&str, i64); 2]) -> Result<[i64; 2]> {
        let rows = sqlx::query(
            "INSERT INTO rate_counts (key, window_start, count) VALUES ($1, $2, 1), ($3, $4, 1) \
             ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counts.count + 1 \
             RETURNING key, count",
        )
        .bind(windows[0].0)
        .bind(windows[0].1)
        .bind(windows[1].0)
        .bind(windows[1].1)
        .fetch_all(self.pool())
        .await?;
        let mut out = [0i64; 2];
        for r in &rows {
            let key: String = r.try_get(0)?;
            let count: i64 = r.try_get(1)?;
            for (i, (k, _)) in windows.iter().enumerate() {
                if *k == key {
                    out[i] = count;
                }
            }
        }
        for (i, (key, start)) in windows.iter().enumerate() {
            if out[i] == 1 {
                sqlx::query("DELETE FROM rate_counts WHERE key = $1 AND window_start < $2")
                    .bind(*key)
                    .bind(*start)
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(out)
    }
}
