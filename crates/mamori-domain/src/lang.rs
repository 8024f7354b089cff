//! The reader's language, and words rendered at display time.
//!
//! What the system writes for people (an assessment's reasons, an obligation's basis, a
//! timeline line) is kept as a code with parameters and turned into words only when shown, in
//! the reader's language. The Japanese rendering is the record's language: it is also what is
//! stored as text beside the code, what the command line prints and what exports carry.

/// Japanese (the default) or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// One of two words.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// Something with words in both languages.
pub trait Words {
    fn ja(&self) -> String;
    fn en(&self) -> String;
    fn say(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja(),
            Lang::En => self.en(),
        }
    }
}
