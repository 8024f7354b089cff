//! The device and media register (issue 17, part 3): laptops, phones, USB media and other
//! media, with their encryption and remote-wipe status, their state, and the lending of the
//! pool's devices with a due date.
//!
//! Pure rules: the codes and the words people type for them (a register an IT department keeps
//! in Excel says 「ノートPC」, 「済」, 「貸出中」), the columns of a register CSV in Japanese or
//! English, which state may be lent, and when a loan is overdue (the day after its due day, JST).

use crate::vault::normalize::nfkc;
use chrono::NaiveDate;

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Laptop,
    Phone,
    Usb,
    OtherMedia,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 4] = [
        DeviceKind::Laptop,
        DeviceKind::Phone,
        DeviceKind::Usb,
        DeviceKind::OtherMedia,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeviceKind::Laptop => "laptop",
            DeviceKind::Phone => "phone",
            DeviceKind::Usb => "usb",
            DeviceKind::OtherMedia => "media",
        }
    }

    pub fn from_code(code: &str) -> Option<DeviceKind> {
        DeviceKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The code, or what a register says: 「ノートPC」「スマホ」「USBメモリ」「DVD」….
    pub fn parse(text: &str) -> Option<DeviceKind> {
        let t = nfkc(text.trim()).to_lowercase();
        if let Some(k) = DeviceKind::from_code(&t) {
            return Some(k);
        }
        let has = |ws: &[&str]| ws.iter().any(|w| t.contains(w));
        if has(&["usb", "ＵＳＢ"]) {
            Some(DeviceKind::Usb)
        } else if has(&[
            "スマ",
            "phone",
            "携帯",
            "iphone",
            "android",
            "タブレット",
            "tablet",
            "ipad",
        ]) {
            Some(DeviceKind::Phone)
        } else if has(&["pc", "パソコン", "ノート", "laptop", "notebook", "macbook"]) {
            Some(DeviceKind::Laptop)
        } else if has(&[
            "媒体",
            "メディア",
            "media",
            "dvd",
            "cd",
            "sd",
            "hdd",
            "ssd",
            "ディスク",
            "disk",
            "その他",
            "other",
        ]) {
            Some(DeviceKind::OtherMedia)
        } else {
            None
        }
    }
}

/// Yes, no, or not known (disk encryption, remote wipe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub const ALL: [Tri; 3] = [Tri::Yes, Tri::No, Tri::Unknown];

    pub fn code(self) -> &'static str {
        match self {
            Tri::Yes => "yes",
            Tri::No => "no",
            Tri::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Option<Tri> {
        Tri::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The code, or 「あり」「済」「○」「なし」「未」「×」「不明」; an empty cell is unknown.
    pub fn parse(text: &str) -> Option<Tri> {
        let t = nfkc(text.trim()).to_lowercase();
        if t.is_empty() {
            return Some(Tri::Unknown);
        }
        if let Some(k) = Tri::from_code(&t) {
            return Some(k);
        }
        match t.as_str() {
            "あり" | "有" | "有り" | "済" | "済み" | "○" | "◯" | "〇" | "はい" | "y" | "true"
            | "1" | "対応" | "対応済" | "対応済み" | "暗号化済" | "暗号化済み" | "on"
            | "enabled" => Some(Tri::Yes),
            "なし" | "無" | "無し" | "未" | "未対応" | "×" | "x" | "いいえ" | "n" | "false"
            | "0" | "off" | "disabled" => Some(Tri::No),
            "不明" | "?" | "未確認" | "n/a" | "-" => Some(Tri::Unknown),
            _ => None,
        }
    }
}

/// Where a device is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceState {
    InUse,
    InStock,
    Lent,
    Lost,
    Retired,
}

impl DeviceState {
    pub const ALL: [DeviceState; 5] = [
        DeviceState::InUse,
        DeviceState::InStock,
        DeviceState::Lent,
        DeviceState::Lost,
        DeviceState::Retired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeviceState::InUse => "in_use",
            DeviceState::InStock => "in_stock",
            DeviceState::Lent => "lent",
            DeviceState::Lost => "lost",
            DeviceState::Retired => "retired",
        }
    }

    pub fn from_code(code: &str) -> Option<DeviceState> {
        DeviceState::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The code, or 「使用中」「在庫」「貸出中」「紛失」「廃棄」; an empty cell is in use.
    pub fn parse(text: &str) -> Option<DeviceState> {
        let t = nfkc(text.trim()).to_lowercase().replace([' ', '-'], "_");
        if t.is_empty() {
            return Some(DeviceState::InUse);
        }
        if let Some(k) = DeviceState::from_code(&t) {
            return Some(k);
        }
        match t.as_str() {
            "使用中" | "利用中" | "稼働" | "稼働中" | "in_service" | "active" => {
                Some(DeviceState::InUse)
            }
            "在庫" | "保管" | "保管中" | "未使用" | "予備" | "stock" | "spare" | "available" => {
                Some(DeviceState::InStock)
            }
            "貸出" | "貸出中" | "貸し出し中" | "lent_out" | "on_loan" => {
                Some(DeviceState::Lent)
            }
            "紛失" | "盗難" | "missing" | "stolen" => Some(DeviceState::Lost),
            "廃棄" | "廃棄済" | "返却済" | "除却" | "disposed" | "scrapped" => {
                Some(DeviceState::Retired)
            }
            _ => None,
        }
    }

    /// Whether a device in this state may be lent now.
    pub fn may_lend(self) -> bool {
        self == DeviceState::InStock
    }
}

/// An asset tag as typed: NFKC, trimmed, 1–40 characters, no control characters. Unique per
/// company (the store refuses a second one).
pub fn asset_tag(text: &str) -> Option<String> {
    let t = nfkc(text).trim().to_owned();
    let n = t.chars().count();
    ((1..=40).contains(&n) && !t.chars().any(char::is_control)).then_some(t)
}

/// A free text of a register (model, serial, note): trimmed, at most `max` characters, no
/// control characters except line breaks.
pub fn short_text(text: &str, max: usize) -> Option<String> {
    let t = text.trim().to_owned();
    (t.chars().count() <= max && !t.chars().any(|c| c.is_control() && c != '\n' && c != '\r'))
        .then_some(t)
}

/// The days a loan is overdue on `today` (JST): 0 on and before its due day.
pub fn days_overdue(due: NaiveDate, today: NaiveDate) -> i64 {
    (today - due).num_days().max(0)
}

/// A lending may run at most this long.
pub const MAX_LOAN_DAYS: i64 = 366;

/// Why a loan's due day is refused, if it is.
pub fn check_due(due: NaiveDate, today: NaiveDate) -> Result<(), DueProblem> {
    if due < today {
        Err(DueProblem::Past)
    } else if (due - today).num_days() > MAX_LOAN_DAYS {
        Err(DueProblem::TooFar)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueProblem {
    Past,
    TooFar,
}

/// A column of a register CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    AssetTag,
    Kind,
    Model,
    Serial,
    Department,
    Owner,
    Pool,
    Encryption,
    RemoteWipe,
    State,
    Note,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::AssetTag,
        Column::Kind,
        Column::Model,
        Column::Serial,
        Column::Department,
        Column::Owner,
        Column::Pool,
        Column::Encryption,
        Column::RemoteWipe,
        Column::State,
        Column::Note,
    ];

    /// The header mamori writes (Japanese, as Excel users keep it).
    pub fn header(self) -> &'static str {
        match self {
            Column::AssetTag => "資産番号",
            Column::Kind => "種別",
            Column::Model => "機種",
            Column::Serial => "シリアル番号",
            Column::Department => "部署",
            Column::Owner => "利用者",
            Column::Pool => "貸出用",
            Column::Encryption => "暗号化",
            Column::RemoteWipe => "リモートワイプ",
            Column::State => "状態",
            Column::Note => "備考",
        }
    }

    /// The English name (also accepted as a header).
    pub fn english(self) -> &'static str {
        match self {
            Column::AssetTag => "asset tag",
            Column::Kind => "kind",
            Column::Model => "model",
            Column::Serial => "serial",
            Column::Department => "department",
            Column::Owner => "user",
            Column::Pool => "lending pool",
            Column::Encryption => "encryption",
            Column::RemoteWipe => "remote wipe",
            Column::State => "state",
            Column::Note => "note",
        }
    }

    /// Which column a header names: the Japanese or English name or a common variant
    /// (「管理番号」「型番」「S/N」「所属」「使用者」「ディスク暗号化」…), in any width and case.
    pub fn of_header(header: &str) -> Option<Column> {
        let h: String = nfkc(header.trim())
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '・' | '(' | ')'))
            .collect();
        let any = |ws: &[&str]| ws.contains(&h.as_str());
        if any(&[
            "資産番号",
            "管理番号",
            "資産管理番号",
            "資産タグ",
            "assettag",
            "asset",
            "assetno",
            "assetnumber",
            "tag",
        ]) {
            Some(Column::AssetTag)
        } else if any(&["種別", "種類", "区分", "kind", "type", "devicetype"]) {
            Some(Column::Kind)
        } else if any(&["機種", "型番", "機種名", "モデル", "model", "製品名"]) {
            Some(Column::Model)
        } else if any(&[
            "シリアル",
            "シリアル番号",
            "製造番号",
            "s/n",
            "sn",
            "serial",
            "serialno",
            "serialnumber",
        ]) {
            Some(Column::Serial)
        } else if any(&["部署", "所属", "部門", "管理部署", "department", "dept"]) {
            Some(Column::Department)
        } else if any(&[
            "利用者",
            "使用者",
            "担当者",
            "利用者ログイン",
            "ログイン",
            "user",
            "owner",
            "login",
            "userlogin",
        ]) {
            Some(Column::Owner)
        } else if any(&[
            "貸出用",
            "貸出",
            "貸出プール",
            "pool",
            "lendingpool",
            "lending",
        ]) {
            Some(Column::Pool)
        } else if any(&[
            "暗号化",
            "ディスク暗号化",
            "hdd暗号化",
            "encryption",
            "encrypted",
            "diskencryption",
        ]) {
            Some(Column::Encryption)
        } else if any(&[
            "リモートワイプ",
            "遠隔消去",
            "リモート消去",
            "remotewipe",
            "wipe",
            "mdm",
        ]) {
            Some(Column::RemoteWipe)
        } else if any(&["状態", "ステータス", "state", "status"]) {
            Some(Column::State)
        } else if any(&["備考", "メモ", "note", "notes", "remarks", "comment"]) {
            Some(Column::Note)
        } else {
            None
        }
    }
}

/// The columns of a header row: each known column's index (the first one wins), the headers
/// not understood, and the headers named twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    pub columns: Vec<(Column, usize)>,
    pub unknown: Vec<String>,
    pub repeated: Vec<String>,
}

impl HeaderMap {
    pub fn of(headers: &[String]) -> HeaderMap {
        let mut m = HeaderMap::default();
        for (i, h) in headers.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            match Column::of_header(h) {
                Some(c) if m.index(c).is_some() => m.repeated.push(h.clone()),
                Some(c) => m.columns.push((c, i)),
                None => m.unknown.push(h.clone()),
            }
        }
        m
    }

    pub fn index(&self, c: Column) -> Option<usize> {
        self.columns.iter().find(|(k, _)| *k == c).map(|(_, i)| *i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_as_registers_write_them() {
        for (text, want) in [
            ("laptop", Some(DeviceKind::Laptop)),
            ("ノートPC", Some(DeviceKind::Laptop)),
            ("ノートパソコン", Some(DeviceKind::Laptop)),
            ("ＰＣ", Some(DeviceKind::Laptop)),
            ("スマートフォン", Some(DeviceKind::Phone)),
            ("iPhone", Some(DeviceKind::Phone)),
            ("USBメモリ", Some(DeviceKind::Usb)),
            ("ＵＳＢ", Some(DeviceKind::Usb)),
            ("DVD-R", Some(DeviceKind::OtherMedia)),
            ("外付けHDD", Some(DeviceKind::OtherMedia)),
            ("media", Some(DeviceKind::OtherMedia)),
            ("プリンタ", None),
            ("", None),
        ] {
            assert_eq!(DeviceKind::parse(text), want, "{text}");
        }
    }

    #[test]
    fn yes_no_unknown() {
        for (text, want) in [
            ("yes", Some(Tri::Yes)),
            ("済", Some(Tri::Yes)),
            ("○", Some(Tri::Yes)),
            ("あり", Some(Tri::Yes)),
            ("なし", Some(Tri::No)),
            ("未対応", Some(Tri::No)),
            ("×", Some(Tri::No)),
            ("", Some(Tri::Unknown)),
            ("不明", Some(Tri::Unknown)),
            ("たぶん", None),
        ] {
            assert_eq!(Tri::parse(text), want, "{text}");
        }
    }

    #[test]
    fn states_and_lending() {
        for (text, want) in [
            ("", Some(DeviceState::InUse)),
            ("使用中", Some(DeviceState::InUse)),
            ("在庫", Some(DeviceState::InStock)),
            ("in stock", Some(DeviceState::InStock)),
            ("貸出中", Some(DeviceState::Lent)),
            ("紛失", Some(DeviceState::Lost)),
            ("廃棄", Some(DeviceState::Retired)),
            ("retired", Some(DeviceState::Retired)),
            ("修理中", None),
        ] {
            assert_eq!(DeviceState::parse(text), want, "{text}");
        }
        let lendable: Vec<_> = DeviceState::ALL
            .into_iter()
            .filter(|s| s.may_lend())
            .collect();
        assert_eq!(lendable, vec![DeviceState::InStock]);
        for k in DeviceKind::ALL {
            assert_eq!(DeviceKind::from_code(k.code()), Some(k));
        }
    }

    #[test]
    fn headers_in_japanese_or_english() {
        let h = |s: &[&str]| HeaderMap::of(&s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>());
        let m = h(&[
            "資産番号",
            "種別",
            "機種",
            "シリアル",
            "部署",
            "利用者",
            "暗号化",
            "リモートワイプ",
            "色",
        ]);
        assert_eq!(m.index(Column::AssetTag), Some(0));
        assert_eq!(m.index(Column::Serial), Some(3));
        assert_eq!(m.index(Column::RemoteWipe), Some(7));
        assert_eq!(m.unknown, vec!["色".to_owned()]);
        let m = h(&[
            "Asset Tag",
            "Kind",
            "Model",
            "Serial Number",
            "Department",
            "User",
            "Encryption",
            "Remote wipe",
            "State",
        ]);
        assert_eq!(m.index(Column::AssetTag), Some(0));
        assert_eq!(m.index(Column::Owner), Some(5));
        assert_eq!(m.index(Column::State), Some(8));
        assert!(m.unknown.is_empty());
        let m = h(&["管理番号", "資産番号"]);
        assert_eq!(m.repeated, vec!["資産番号".to_owned()]);
        for c in Column::ALL {
            assert_eq!(Column::of_header(c.header()), Some(c), "{c:?}");
            assert_eq!(Column::of_header(c.english()), Some(c), "{c:?}");
        }
    }

    #[test]
    fn due_days() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(days_overdue(d("2026-12-10"), d("2026-12-10")), 0);
        assert_eq!(days_overdue(d("2026-12-10"), d("2026-12-09")), 0);
        assert_eq!(days_overdue(d("2026-12-10"), d("2026-12-12")), 2);
        assert_eq!(
            check_due(d("2026-12-09"), d("2026-12-10")),
            Err(DueProblem::Past)
        );
        assert_eq!(check_due(d("2026-12-10"), d("2026-12-10")), Ok(()));
        assert_eq!(
            check_due(d("2028-12-10"), d("2026-12-10")),
            Err(DueProblem::TooFar)
        );
    }

    #[test]
    fn tags() {
        assert_eq!(asset_tag(" ＰＣ－００１ ").as_deref(), Some("PC-001"));
        assert_eq!(asset_tag(""), None);
        assert_eq!(asset_tag(&"x".repeat(41)), None);
        assert_eq!(asset_tag("a\u{7}"), None);
    }
}
