//! Discovery (seed 001 8-③, seed 002's self-check): folders the privacy office has scanned for
//! personal data, what was found in each file, what changed since the last scan, and whether a
//! ledger entry covers the file. Pure rules: which folder may be scanned, when a file counts as
//! unchanged, which ledger entry covers a path, what a ledger proposal holds.

use crate::appi::item::Item;
use std::collections::BTreeMap;

/// The kinds the scanner reports, by code, in the scanner's order (`mamori_detect::Kind::ALL`).
pub const KINDS: [&str; 11] = [
    "person_name",
    "address",
    "postal_code",
    "phone",
    "email",
    "birth_date",
    "credit_card",
    "my_number",
    "bank_account",
    "passport_number",
    "drivers_license_number",
];

/// Counts per kind, keyed by kind code; only non-zero counts are kept.
pub type Counts = BTreeMap<String, u64>;

/// Sum of all counts.
pub fn total(c: &Counts) -> u64 {
    c.values().sum()
}

/// The ledger item a scanner kind is evidence of.
pub fn item_of_kind(kind: &str) -> Option<Item> {
    Some(match kind {
        "person_name" => Item::Name,
        "address" => Item::Address,
        "postal_code" => Item::PostalCode,
        "phone" => Item::Phone,
        "email" => Item::Email,
        "birth_date" => Item::BirthDate,
        "credit_card" => Item::CreditCardNumber,
        "my_number" => Item::MyNumber,
        "bank_account" => Item::BankAccount,
        "passport_number" => Item::PassportNumber,
        "drivers_license_number" => Item::DriversLicenseNumber,
        _ => return None,
    })
}

/// The ledger items a file's findings point to, in the order of appi.md §9.
pub fn items_of(counts: &Counts) -> Vec<Item> {
    let mut items: Vec<Item> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(k, _)| item_of_kind(k))
        .collect();
    items.sort();
    items.dedup();
    items
}

/// A rough number of persons for a proposal: the largest count of a kind that identifies one
/// person per value (names, e-mail addresses, phones, My Numbers, card numbers). `None` when
/// the file holds none of them. Shown as an estimate the privacy office corrects.
pub fn persons_estimate(counts: &Counts) -> Option<i64> {
    ["person_name", "email", "phone", "my_number", "credit_card"]
        .iter()
        .filter_map(|k| counts.get(*k).copied())
        .max()
        .filter(|n| *n > 0)
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// How a file changed between two scans of its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    New,
    Changed,
    Unchanged,
    Removed,
}

impl Change {
    pub fn code(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
        }
    }
    pub fn parse(s: &str) -> Option<Change> {
        Some(match s {
            "new" => Change::New,
            "changed" => Change::Changed,
            "unchanged" => Change::Unchanged,
            "removed" => Change::Removed,
            _ => return None,
        })
    }
}

/// What the last scan knew of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    pub mtime_micros: i64,
    pub sha256: String,
    /// The scanner version that read it: a file read by an older scanner is read again.
    pub scanner: String,
}

/// Whether a file must be read again. `None`: size, time and scanner are as last seen, the
/// file is not opened. `Some(true)`: read it. `Some(false)` is never returned here — the
/// content hash decides after hashing (see [`same_content`]).
pub fn needs_hash(prev: Option<&Seen>, size: u64, mtime_micros: i64, scanner: &str) -> bool {
    match prev {
        None => true,
        Some(p) => p.size != size || p.mtime_micros != mtime_micros || p.scanner != scanner,
    }
}

/// After hashing a file whose size or time changed: the same content read by the same scanner
/// is not scanned again (a copy that kept its bytes, a touched file).
pub fn same_content(prev: Option<&Seen>, sha256: &str, scanner: &str) -> bool {
    prev.is_some_and(|p| p.sha256 == sha256 && p.scanner == scanner)
}

/// The change of a file whose findings were read now, against what was stored.
pub fn change_of(prev_counts: Option<&Counts>, now: &Counts) -> Change {
    match prev_counts {
        None => Change::New,
        Some(p) if p == now => Change::Unchanged,
        Some(_) => Change::Changed,
    }
}

/// Per-kind difference between two totals (now − before), non-zero kinds only.
pub fn delta(before: &Counts, now: &Counts) -> BTreeMap<String, i64> {
    let mut d = BTreeMap::new();
    for k in KINDS {
        let a = i64::try_from(before.get(k).copied().unwrap_or(0)).unwrap_or(i64::MAX);
        let b = i64::try_from(now.get(k).copied().unwrap_or(0)).unwrap_or(i64::MAX);
        if a != b {
            d.insert(k.to_owned(), b - a);
        }
    }
    d
}

/// A problem with a location's folder, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct PathProblem {
    pub ja: String,
    pub en: String,
}

fn problem(ja: impl Into<String>, en: impl Into<String>) -> PathProblem {
    PathProblem {
        ja: ja.into(),
        en: en.into(),
    }
}

/// Normal form of a path for comparison: `\` as `/`, no repeated or trailing `/`.
pub fn normal_path(p: &str) -> String {
    let s = p.trim().replace('\\', "/");
    let lead = if s.starts_with("//") {
        "//"
    } else if s.starts_with('/') {
        "/"
    } else {
        ""
    };
    let parts: Vec<&str> = s
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("{lead}{}", parts.join("/"))
}

/// Whether `inner` is `outer` or inside it, component by component (`/srv/share2` is not in
/// `/srv/share`). Both in [`normal_path`] form.
pub fn is_within(inner: &str, outer: &str) -> bool {
    if outer == "/" {
        return inner.starts_with('/');
    }
    inner == outer || (inner.starts_with(outer) && inner[outer.len()..].starts_with('/'))
}

/// Checks a folder the privacy office configures (already resolved to its real path by the
/// caller): absolute, without `..`, inside one of the roots the operator allows
/// (`discovery_roots` in the configuration file), and neither inside nor around mamori's own
/// data and key folders.
pub fn check_folder(real: &str, roots: &[String], own: &[String]) -> Result<(), PathProblem> {
    if real.trim().is_empty() {
        return Err(problem("フォルダを入力してください", "enter a folder"));
    }
    if real.contains('\0') || real.chars().any(char::is_control) {
        return Err(problem(
            "フォルダに制御文字は使えません",
            "the folder contains a control character",
        ));
    }
    if !real.starts_with('/') {
        return Err(problem(
            "フォルダはサーバー上の絶対パス（/ で始まる）で入力してください",
            "the folder must be an absolute path on the server (starting with /)",
        ));
    }
    if real.split('/').any(|c| c == "..") {
        return Err(problem(
            "フォルダに「..」は使えません",
            "the folder must not contain \"..\"",
        ));
    }
    let p = normal_path(real);
    if roots.is_empty() {
        return Err(problem(
            "スキャンできるフォルダが設定されていません。運用担当者に設定ファイルの discovery_roots を設定してもらってください",
            "no folder may be scanned yet: the operator lists the allowed folders in discovery_roots in the configuration file",
        ));
    }
    if !roots.iter().any(|r| is_within(&p, &normal_path(r))) {
        let list = roots.join(", ");
        return Err(problem(
            format!("このフォルダはスキャンを許可された場所（{list}）の外にあります"),
            format!("this folder is outside the folders allowed for scanning ({list})"),
        ));
    }
    for o in own {
        let o = normal_path(o);
        if is_within(&p, &o) || is_within(&o, &p) {
            return Err(problem(
                "mamori 自身のデータや鍵のフォルダはスキャンできません",
                "mamori's own data and key folders cannot be scanned",
            ));
        }
    }
    Ok(())
}

/// Whether a ledger entry's storage place (保管場所, free text) names a folder the file is in:
/// any of its parts — split at line breaks, `、`, `,` and `;` — that is a path (`/srv/…`,
/// `\\server\share\…`, `C:\…`) and contains the file. Windows forms compare case-insensitively.
pub fn storage_covers(storage_place: &str, file_path: &str) -> bool {
    let file = normal_path(file_path);
    storage_place
        .split(['\n', '、', ',', ';', '，', '；'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .any(|t| {
            let windows = t.starts_with("\\\\") || t.as_bytes().get(1) == Some(&b':');
            if !(t.starts_with('/') || windows) {
                return false;
            }
            let place = normal_path(t);
            if windows {
                is_within(&file.to_lowercase(), &place.to_lowercase())
            } else {
                is_within(&file, &place)
            }
        })
}

/// How often a location is scanned: 0 (only when asked), or every 1 to 720 hours.
pub fn check_interval(hours: i64) -> Result<i64, PathProblem> {
    if (0..=720).contains(&hours) {
        Ok(hours)
    } else {
        Err(problem(
            "スキャンの間隔は 0（手動のみ）から 720 時間の間で入力してください",
            "the interval must be between 0 (only when asked) and 720 hours",
        ))
    }
}

/// The next scheduled scan after one that started at `started_micros`.
pub fn next_scan(started_micros: i64, interval_hours: i64) -> Option<i64> {
    (interval_hours > 0).then(|| started_micros + interval_hours * 3_600_000_000)
}

/// Counts as stored: a JSON object of kind code to count; unknown kinds and zeros dropped.
pub fn counts_from_json(s: &str) -> Counts {
    serde_json::from_str::<BTreeMap<String, u64>>(s)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, n)| *n > 0 && KINDS.contains(&k.as_str()))
        .collect()
}

pub fn counts_to_json(c: &Counts) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "{}".into())
}

/// Counts from the scanner's per-kind array (in [`KINDS`] order).
pub fn counts_from_array(a: &[u64; 11]) -> Counts {
    KINDS
        .iter()
        .zip(a)
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(pairs: &[(&str, u64)]) -> Counts {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    }

    #[test]
    fn folders_inside_the_roots_only() {
        let roots = vec!["/srv/share".to_owned(), "/mnt/nas/".to_owned()];
        let own = vec!["/var/lib/mamori".to_owned(), "/etc/mamori/keys".to_owned()];
        assert!(check_folder("/srv/share", &roots, &own).is_ok());
        assert!(check_folder("/srv/share/営業部/顧客", &roots, &own).is_ok());
        assert!(check_folder("/mnt/nas/x", &roots, &own).is_ok());
        assert!(check_folder("/srv/share2", &roots, &own).is_err());
        assert!(check_folder("/srv", &roots, &own).is_err());
        assert!(check_folder("/srv/share/../../etc", &roots, &own).is_err());
        assert!(check_folder("srv/share", &roots, &own).is_err());
        assert!(check_folder("", &roots, &own).is_err());
        assert!(check_folder("/srv/share/a\nb", &roots, &own).is_err());
        let e = check_folder("/srv/share", &[], &own).unwrap_err();
        assert!(e.en.contains("discovery_roots"), "{e:?}");
        // mamori's own folders, inside or around: refused even when a root allows them.
        let wide = vec!["/".to_owned()];
        assert!(check_folder("/var/lib/mamori/db", &wide, &own).is_err());
        assert!(check_folder("/var/lib", &wide, &own).is_err());
        assert!(check_folder("/srv/share", &wide, &own).is_ok());
    }

    #[test]
    fn storage_place_covers_files_in_its_folders() {
        let place = "本社3階 書庫、/srv/share/営業部/顧客\n\\\\FS01\\Share\\人事";
        assert!(storage_covers(
            place,
            "/srv/share/営業部/顧客/2026/一覧.csv"
        ));
        assert!(!storage_covers(place, "/srv/share/営業部/顧客2/一覧.csv"));
        assert!(storage_covers(place, "//fs01/share/人事/給与.xlsx"));
        assert!(storage_covers(place, "\\\\fs01\\SHARE\\人事\\a.csv"));
        assert!(!storage_covers(place, "/srv/share/総務/a.csv"));
        assert!(!storage_covers("本社3階 書庫", "/srv/share/a.csv"));
        assert!(!storage_covers("", "/srv/share/a.csv"));
    }

    #[test]
    fn unchanged_files_are_not_read_again() {
        let seen = Seen {
            size: 10,
            mtime_micros: 5,
            sha256: "ab".into(),
            scanner: "1".into(),
        };
        assert!(!needs_hash(Some(&seen), 10, 5, "1"));
        assert!(needs_hash(Some(&seen), 11, 5, "1"));
        assert!(needs_hash(Some(&seen), 10, 6, "1"));
        // A new scanner reads everything again.
        assert!(needs_hash(Some(&seen), 10, 5, "2"));
        assert!(needs_hash(None, 10, 5, "1"));
        assert!(same_content(Some(&seen), "ab", "1"));
        assert!(!same_content(Some(&seen), "ac", "1"));
        assert!(!same_content(Some(&seen), "ab", "2"));
        assert!(!same_content(None, "ab", "1"));
    }

    #[test]
    fn changes_and_deltas() {
        let a = c(&[("phone", 3), ("email", 1)]);
        let b = c(&[("phone", 5)]);
        assert_eq!(change_of(None, &a), Change::New);
        assert_eq!(change_of(Some(&a), &a), Change::Unchanged);
        assert_eq!(change_of(Some(&a), &b), Change::Changed);
        let d = delta(&a, &b);
        assert_eq!(d.get("phone"), Some(&2));
        assert_eq!(d.get("email"), Some(&-1));
        assert_eq!(d.len(), 2);
        for ch in [
            Change::New,
            Change::Changed,
            Change::Unchanged,
            Change::Removed,
        ] {
            assert_eq!(Change::parse(ch.code()), Some(ch));
        }
    }

    #[test]
    fn proposals_take_items_and_an_estimate() {
        let k = c(&[
            ("phone", 120),
            ("person_name", 118),
            ("postal_code", 100),
            ("my_number", 3),
        ]);
        assert_eq!(
            items_of(&k),
            vec![Item::Name, Item::PostalCode, Item::Phone, Item::MyNumber]
        );
        assert_eq!(persons_estimate(&k), Some(120));
        assert_eq!(persons_estimate(&c(&[("postal_code", 4)])), None);
    }

    #[test]
    fn counts_round_trip_and_drop_unknown_kinds() {
        let k = c(&[("phone", 2)]);
        assert_eq!(counts_from_json(&counts_to_json(&k)), k);
        assert_eq!(
            counts_from_json("{\"phone\":2,\"shoe_size\":3,\"email\":0}"),
            k
        );
        assert_eq!(counts_from_json("not json"), Counts::new());
        let mut a = [0u64; 11];
        a[3] = 2;
        assert_eq!(counts_from_array(&a), k);
    }

    #[test]
    fn intervals() {
        assert_eq!(check_interval(0), Ok(0));
        assert_eq!(check_interval(24), Ok(24));
        assert!(check_interval(-1).is_err());
        assert!(check_interval(721).is_err());
        assert_eq!(next_scan(0, 0), None);
        assert_eq!(next_scan(0, 1), Some(3_600_000_000));
    }
}
