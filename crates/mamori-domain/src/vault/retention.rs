//! Retention rules: how long the records of a dataset keep their personal fields (seed 000:
//! shipping name, address and telephone were scrubbed about a month after dispatch).

use super::{FieldKind, Schema, SchemaError};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RetentionAction {
    /// Replace these fields with 削除済 and drop their index terms.
    Scrub { fields: Vec<String> },
    /// Delete the whole record (its key too).
    Delete,
}

/// `after_days` days after the date in `base_field`, do `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRule {
    pub base_field: String,
    pub after_days: u32,
    #[serde(flatten)]
    pub action: RetentionAction,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("{0}")]
    Schema(#[from] SchemaError),
    #[error("base field `{0}` must be a date field (kind date)")]
    BaseNotDate(String),
    #[error("days: 1 to 36,500 days")]
    Days,
    #[error("scrub: name at least one field to scrub")]
    NothingToScrub,
    #[error("scrub: `{0}` is the date the rule counts from and cannot be scrubbed")]
    ScrubBase(String),
}

impl RetentionRule {
    pub fn check(&self, schema: &Schema) -> Result<(), RetentionError> {
        let base = schema.field(&self.base_field)?;
        if base.kind != FieldKind::Date {
            return Err(RetentionError::BaseNotDate(base.name.clone()));
        }
        if self.after_days == 0 || self.after_days > 36_500 {
            return Err(RetentionError::Days);
        }
        if let RetentionAction::Scrub { fields } = &self.action {
            if fields.is_empty() {
                return Err(RetentionError::NothingToScrub);
            }
            for f in fields {
                schema.field(f)?;
                if *f == self.base_field {
                    return Err(RetentionError::ScrubBase(f.clone()));
                }
            }
        }
        Ok(())
    }

    /// Records whose base date is on or before this date are due on `today` (JST).
    pub fn cutoff(&self, today: NaiveDate) -> NaiveDate {
        today - Duration::days(i64::from(self.after_days))
    }

    /// The Japanese sentence shown on the dataset page.
    pub fn describe_ja(&self) -> String {
        match &self.action {
            RetentionAction::Scrub { fields } => format!(
                "{}から{}日後に {} を「{}」に置き換える",
                self.base_field,
                self.after_days,
                fields.join("・"),
                super::SCRUBBED
            ),
            RetentionAction::Delete => {
                format!(
                    "{}から{}日後にレコードを削除する",
                    self.base_field, self.after_days
                )
            }
        }
    }

    /// The rule as shown on a page, in `lang`, with the fields' labels when the schema is known.
    pub fn describe(&self, schema: Option<&Schema>, lang: crate::lang::Lang) -> String {
        let label = |f: &str| schema.map_or_else(|| f.to_owned(), |s| s.field_label(f, lang));
        let base = label(&self.base_field);
        match (&self.action, lang) {
            (RetentionAction::Scrub { fields }, crate::lang::Lang::Ja) => format!(
                "{base}から{}日後に {} を「{}」に置き換える",
                self.after_days,
                fields
                    .iter()
                    .map(|f| label(f))
                    .collect::<Vec<_>>()
                    .join("・"),
                super::SCRUBBED
            ),
            (RetentionAction::Scrub { fields }, crate::lang::Lang::En) => format!(
                "{} days after {base}, replace {} with “{}” (scrubbed)",
                self.after_days,
                fields
                    .iter()
                    .map(|f| label(f))
                    .collect::<Vec<_>>()
                    .join(", "),
                super::SCRUBBED
            ),
            (RetentionAction::Delete, crate::lang::Lang::Ja) => {
                format!("{base}から{}日後にレコードを削除する", self.after_days)
            }
            (RetentionAction::Delete, crate::lang::Lang::En) => {
                format!("{} days after {base}, delete the record", self.after_days)
            }
        }
    }
}
