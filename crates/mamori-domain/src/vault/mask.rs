//! Masked display of vault values: enough to tell two people apart on the telephone, not enough
//! to use the data. `山田 太郎` → `山田 ＊＊`, `090-1234-5678` → `090-****-5678`.

use super::FieldKind;

fn stars(n: usize) -> String {
    "＊".repeat(n.max(1))
}

/// The name with everything after the first space masked, or (without a space) all but the
/// first two characters (the first one for names of three characters or fewer).
pub fn name(v: &str) -> String {
    let v = v.trim();
    if let Some((family, given)) = v.split_once([' ', '　']) {
        return format!("{family} {}", stars(given.trim().chars().count()));
    }
    let n = v.chars().count();
    let keep = if n <= 3 { 1 } else { 2 };
    let head: String = v.chars().take(keep).collect();
    format!("{head}{}", stars(n.saturating_sub(keep)))
}

/// Digits masked but the first three and the last four; separators stay.
pub fn phone(v: &str) -> String {
    let total = v.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    v.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= 3 || seen > total.saturating_sub(4) {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

/// First character of the local part, then `***@domain`.
pub fn email(v: &str) -> String {
    match v.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// The prefecture and the municipality stay (enough for a call-centre check), the rest goes.
pub fn address(v: &str) -> String {
    let v = v.trim();
    let mut end = 0;
    let mut seen_pref = false;
    for (i, c) in v.char_indices() {
        let stop = i + c.len_utf8();
        if !seen_pref && matches!(c, '都' | '道' | '府' | '県') {
            seen_pref = true;
            end = stop;
            continue;
        }
        if matches!(c, '市' | '区' | '町' | '村' | '郡') {
            end = stop;
            break;
        }
        if i > 30 {
            break;
        }
    }
    let rest = v[end..].chars().count();
    format!("{}{}", &v[..end], stars(rest.min(8)))
}

/// A value of a kind, masked.
pub fn value(kind: FieldKind, v: &str) -> String {
    if v == super::SCRUBBED {
        return v.to_owned();
    }
    match kind {
        FieldKind::Name | FieldKind::KanaName => name(v),
        FieldKind::Phone => phone(v),
        FieldKind::Email => email(v),
        FieldKind::Address => address(v),
        FieldKind::PostalCode => format!("{}-****", v.chars().take(3).collect::<String>()),
        FieldKind::BirthDate => "****-**-**".to_owned(),
        FieldKind::Gender => "＊".to_owned(),
        FieldKind::CustomerId | FieldKind::LoginId => {
            let n = v.chars().count();
            let tail: String = v.chars().skip(n.saturating_sub(4)).collect();
            format!("{}{tail}", "*".repeat(n.saturating_sub(4)))
        }
        FieldKind::PaymentToken => format!("{}…", v.chars().take(4).collect::<String>()),
        FieldKind::PasswordHash => "(Argon2id)".to_owned(),
        FieldKind::Text => format!("＊＊＊（{}文字）", v.chars().count()),
        FieldKind::Date => v.to_owned(),
    }
}
