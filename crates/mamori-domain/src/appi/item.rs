//! The data items an incident can involve, with the exact codes of appi.md §9.
//!
//! The code is the contract: tools send these strings, so an unknown code is an error that names
//! it, never an item silently dropped. Each item knows whether it is sensitive personal
//! information (要配慮個人情報, 施行規則7条1号) or enough by itself for a financial loss
//! (施行規則7条2号), which is all the category rules need to know about it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! items {
    ($($variant:ident = $code:literal, $label:literal, $en:literal;)*) => {
        /// One kind of data in an incident (appi.md §9 item codes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Item {
            $($variant,)*
        }

        impl Item {
            /// Every item, in the order of appi.md §9.
            pub const ALL: &'static [Item] = &[$(Item::$variant,)*];

            /// The code used in JSON (`credit_card_number`).
            pub fn code(self) -> &'static str {
                match self {
                    $(Item::$variant => $code,)*
                }
            }

            /// The English name (`credit card number`).
            pub fn label_en(self) -> &'static str {
                match self {
                    $(Item::$variant => $en,)*
                }
            }

            /// The Japanese name shown in reasons (`クレジットカード番号`).
            pub fn label_ja(self) -> &'static str {
                match self {
                    $(Item::$variant => $label,)*
                }
            }
        }

        impl FromStr for Item {
            type Err = UnknownItem;

            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($code => Ok(Item::$variant),)*
                    _ => Err(UnknownItem(code.to_owned())),
                }
            }
        }
    };
}

items! {
    Name = "name", "氏名", "name";
    KanaName = "kana_name", "氏名（カナ）", "name (kana)";
    Address = "address", "住所", "address";
    PostalCode = "postal_code", "郵便番号", "postal code";
    Phone = "phone", "電話番号", "phone number";
    Email = "email", "メールアドレス", "e-mail address";
    BirthDate = "birth_date", "生年月日", "date of birth";
    Gender = "gender", "性別", "gender";
    SnsAccount = "sns_account", "SNSアカウント", "social media account";
    LoginId = "login_id", "ログインID", "login ID";
    Password = "password", "パスワード", "password";
    CustomerId = "customer_id", "顧客ID", "customer ID";
    EmployeeId = "employee_id", "従業員ID", "employee ID";
    PurchaseHistory = "purchase_history", "購買履歴", "purchase history";
    FamilyStructure = "family_structure", "家族構成", "family structure";
    CreditCardNumber = "credit_card_number", "クレジットカード番号", "credit card number";
    CreditCardLast4 = "credit_card_last4", "クレジットカード番号下4桁", "last 4 digits of a credit card";
    CreditCardExpiry = "credit_card_expiry", "クレジットカード有効期限", "credit card expiry";
    CreditCardSecurityCode = "credit_card_security_code", "セキュリティコード", "card security code";
    BankAccount = "bank_account", "銀行口座情報", "bank account";
    PaymentServiceCredentials = "payment_service_credentials",
        "決済・送金機能のあるサービスのログインIDとパスワード", "login ID and password of a payment or remittance service";
    OnlineBankingCredentials = "online_banking_credentials", "インターネットバンキングのID・パスワード", "online banking ID and password";
    MyNumber = "my_number", "個人番号", "My Number (individual number)";
    PassportNumber = "passport_number", "旅券番号", "passport number";
    DriversLicenseNumber = "drivers_license_number", "運転免許証番号", "driver's licence number";
    HealthInsuranceNumber = "health_insurance_number", "健康保険被保険者番号", "health insurance number";
    Race = "race", "人種", "race";
    Creed = "creed", "信条", "creed";
    SocialStatus = "social_status", "社会的身分", "social status";
    MedicalHistory = "medical_history", "病歴", "medical history";
    CriminalRecord = "criminal_record", "犯罪の経歴", "criminal record";
    CrimeVictim = "crime_victim", "犯罪により害を被った事実", "having been harmed by a crime";
    Disability = "disability", "心身の機能の障害", "disability";
    HealthCheckResult = "health_check_result", "健康診断等の結果", "results of health checks";
    MedicalTreatment = "medical_treatment", "診療・調剤・保健指導", "medical treatment, dispensing, health guidance";
    CriminalProcedure = "criminal_procedure", "刑事事件に関する手続", "criminal proceedings";
    JuvenileProcedure = "juvenile_procedure", "少年の保護事件に関する手続", "juvenile protection proceedings";
}

impl Item {
    /// Sensitive personal information (要配慮個人情報, 法2条3項, 施行令2条, 施行規則5条).
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            Self::Race
                | Self::Creed
                | Self::SocialStatus
                | Self::MedicalHistory
                | Self::CriminalRecord
                | Self::CrimeVictim
                | Self::Disability
                | Self::HealthCheckResult
                | Self::MedicalTreatment
                | Self::CriminalProcedure
                | Self::JuvenileProcedure
        )
    }

    /// Enough by itself for a possible financial loss if misused (施行規則7条2号): a card number
    /// even alone, and credentials of payment, remittance or online-banking services. The last
    /// four digits, the expiry, a bank account number or a login ID without password are not.
    pub fn is_financial(self) -> bool {
        matches!(
            self,
            Self::CreditCardNumber
                | Self::PaymentServiceCredentials
                | Self::OnlineBankingCredentials
        )
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An item code that appi.md §9 does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown item code `{0}` (the codes are listed in appi.md §9)")]
pub struct UnknownItem(pub String);

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_is_unique() {
        assert_eq!(Item::ALL.len(), 37);
        let mut codes: Vec<_> = Item::ALL.iter().map(|i| i.code()).collect();
        for item in Item::ALL {
            assert_eq!(item.code().parse::<Item>(), Ok(*item));
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Item::ALL.len());
    }

    #[test]
    fn the_eleven_sensitive_items() {
        let sensitive: Vec<_> = Item::ALL.iter().filter(|i| i.is_sensitive()).collect();
        assert_eq!(sensitive.len(), 11);
        assert!(!Item::PurchaseHistory.is_sensitive());
        assert!(!Item::FamilyStructure.is_sensitive());
    }

    #[test]
    fn financial_items() {
        assert!(Item::CreditCardNumber.is_financial());
        for item in [
            Item::CreditCardLast4,
            Item::CreditCardExpiry,
            Item::LoginId,
            Item::Password,
            Item::Email,
            Item::SnsAccount,
            Item::BankAccount,
        ] {
            assert!(!item.is_financial(), "{item}");
        }
    }

    #[test]
    fn unknown_code_is_named() {
        let err = "credit_card".parse::<Item>().unwrap_err();
        assert!(err.to_string().contains("`credit_card`"), "{err}");
        let json: Result<Vec<Item>, _> = serde_json::from_str(r#"["name","bogus"]"#);
        assert!(json.unwrap_err().to_string().contains("`bogus`"));
    }
}
