//! Messages in Japanese (the default) and English, from `i18n/ja.toml` and `i18n/en.toml`
//! compiled into the binary. A missing key shows the key itself, and a test checks that both
//! catalogues have the same keys, so a gap is found in CI rather than by a user.

use std::collections::HashMap;
use std::sync::LazyLock;

pub use mamori_domain::lang::{Lang, Words};

/// One language's catalogue.
#[derive(Debug)]
pub struct Tr {
    pub lang: Lang,
    map: HashMap<String, String>,
}

fn load(lang: Lang, text: &str) -> Tr {
    let map: HashMap<String, String> = toml::from_str(text).expect("i18n catalogue is valid TOML");
    Tr { lang, map }
}

static JA: LazyLock<Tr> = LazyLock::new(|| load(Lang::Ja, include_str!("../i18n/ja.toml")));
static EN: LazyLock<Tr> = LazyLock::new(|| load(Lang::En, include_str!("../i18n/en.toml")));

impl Tr {
    pub fn of(lang: Lang) -> &'static Tr {
        match lang {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// The message for `key`, or the key itself when it is missing.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    /// The message with `{name}` replaced.
    pub fn fill(&self, key: &str, name: &str, value: &str) -> String {
        self.get(key).replace(&format!("{{{name}}}"), value)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let ja: std::collections::BTreeSet<_> = Tr::of(Lang::Ja).keys().collect();
        let en: std::collections::BTreeSet<_> = Tr::of(Lang::En).keys().collect();
        assert_eq!(
            ja.difference(&en).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "missing in en"
        );
        assert_eq!(
            en.difference(&ja).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "missing in ja"
        );
        assert_eq!(Tr::of(Lang::Ja).get("nav.home"), "ホーム");
        assert_eq!(
            Tr::of(Lang::En).fill("home.welcome", "name", "Sato"),
            "Welcome, Sato"
        );
    }

    #[test]
    fn every_key_used_in_code_and_templates_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut used = std::collections::BTreeSet::new();
        for sub in ["templates", "src", "src/pages"] {
            let Ok(entries) = std::fs::read_dir(format!("{dir}{sub}")) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                for part in text
                    .split("get(\"")
                    .skip(1)
                    .chain(text.split("key: \"").skip(1))
                {
                    if let Some(end) = part.find('"') {
                        let k = &part[..end];
                        if k.contains('.') && !k.contains(' ') && !k.contains('{') {
                            used.insert(k.to_owned());
                        }
                    }
                }
            }
        }
        assert!(used.len() > 20, "found {} keys", used.len());
        for k in used {
            assert!(
                Tr::of(Lang::Ja).map.contains_key(&k),
                "key {k} used but not in ja.toml"
            );
        }
    }
}
