//! Impact analysis (影響範囲の特定): who a leak concerns.
//!
//! A leak is read as [`LeakedRow`]s — a row of a leaked table is one person; in running text,
//! the findings that stand together. Each row carries the raw values found, each tagged with
//! the field it is ([`LeakedField`]). Matching turns a row into the vault's blind-index terms
//! (normalised exactly as the vault normalises) and looks them up; the result per person is
//! the set of items that leaked *for that person* and the strength of the match.
//!
//! This module is the shared vocabulary of the evidence reader (`mamori-app::evidence`, which
//! produces rows) and the matcher (`mamori-app::impact`, which consumes them).

use crate::appi::Item;

/// What a leaked value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeakedField {
    Name,
    KanaName,
    Email,
    Phone,
    BirthDate,
    Address,
    PostalCode,
    CreditCard,
    MyNumber,
    BankAccount,
    PassportNumber,
    DriversLicenseNumber,
    /// A column the reader could name only as an item (a ledger or header hint), e.g. a
    /// purchase history or a password column.
    Other(Item),
}

impl LeakedField {
    /// The APPI item this value is (appi.md §9), which is what the facts and the notice list.
    pub fn item(self) -> Item {
        match self {
            LeakedField::Name => Item::Name,
            LeakedField::KanaName => Item::KanaName,
            LeakedField::Email => Item::Email,
            LeakedField::Phone => Item::Phone,
            LeakedField::BirthDate => Item::BirthDate,
            LeakedField::Address => Item::Address,
            LeakedField::PostalCode => Item::PostalCode,
            LeakedField::CreditCard => Item::CreditCardNumber,
            LeakedField::MyNumber => Item::MyNumber,
            LeakedField::BankAccount => Item::BankAccount,
            LeakedField::PassportNumber => Item::PassportNumber,
            LeakedField::DriversLicenseNumber => Item::DriversLicenseNumber,
            LeakedField::Other(i) => i,
        }
    }
}

/// One person as the leak shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakedRow {
    /// Where it was found, for people to check: `顧客一覧.csv:1207`, `export.xlsx!Sheet1:40`,
    /// `dataset 3`. Never a value.
    pub locator: String,
    /// The values as found (not yet normalised), in the order found.
    pub values: Vec<(LeakedField, String)>,
}

impl LeakedRow {
    /// The items in this row, without repeats, in appi.md §9 order.
    pub fn items(&self) -> Vec<Item> {
        let mut v: Vec<Item> = self.values.iter().map(|(f, _)| f.item()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The first value of a field.
    pub fn first(&self, field: LeakedField) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_deduplicated_in_item_order() {
        let r = LeakedRow {
            locator: "a.csv:2".into(),
            values: vec![
                (LeakedField::Phone, "090".into()),
                (LeakedField::Name, "山田".into()),
                (LeakedField::Phone, "03".into()),
            ],
        };
        assert_eq!(r.items(), vec![Item::Name, Item::Phone]);
        assert_eq!(r.first(LeakedField::Phone), Some("090"));
        assert_eq!(r.first(LeakedField::Email), None);
    }
}
