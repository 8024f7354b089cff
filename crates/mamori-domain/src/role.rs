//! Roles and the permissions they carry.
//!
//! Authorisation is default-deny: a permission is granted only when some role of the user lists
//! it here. Use cases ask `Roles::allows(Permission::X)`; nothing else decides.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a user may hold. The set is closed: roles are part of the product, not data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    DepartmentHead,
    PrivacyOffice,
    Ciso,
    Executive,
    ContactDesk,
    Custodian,
    Auditor,
    GroupHq,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Staff,
        Role::DepartmentHead,
        Role::PrivacyOffice,
        Role::Ciso,
        Role::Executive,
        Role::ContactDesk,
        Role::Custodian,
        Role::Auditor,
        Role::GroupHq,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::DepartmentHead => "department_head",
            Role::PrivacyOffice => "privacy_office",
            Role::Ciso => "ciso",
            Role::Executive => "executive",
            Role::ContactDesk => "contact_desk",
            Role::Custodian => "custodian",
            Role::Auditor => "auditor",
            Role::GroupHq => "group_hq",
            Role::Admin => "admin",
        }
    }

    /// The Japanese title shown in the interface.
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Staff => "従業者",
            Role::DepartmentHead => "部門責任者",
            Role::PrivacyOffice => "個人情報保護管理者・事務局",
            Role::Ciso => "CISO",
            Role::Executive => "役員",
            Role::ContactDesk => "問い合わせ窓口",
            Role::Custodian => "常時アクセス権限者",
            Role::Auditor => "監査責任者",
            Role::GroupHq => "グループ統括部門",
            Role::Admin => "システム管理者",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Staff => "Staff",
            Role::DepartmentHead => "Department head",
            Role::PrivacyOffice => "Privacy office",
            Role::Ciso => "CISO",
            Role::Executive => "Executive",
            Role::ContactDesk => "Contact desk",
            Role::Custodian => "Vault custodian",
            Role::Auditor => "Auditor",
            Role::GroupHq => "Group headquarters",
            Role::Admin => "Administrator",
        }
    }

    /// Roles whose holders can reach the most sensitive functions must use a second factor.
    /// The privacy office is one: it erases records, changes vault schemas and configures
    /// webhooks.
    pub fn requires_totp(self) -> bool {
        matches!(
            self,
            Role::PrivacyOffice | Role::Ciso | Role::Custodian | Role::Auditor | Role::Admin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (known: staff, department_head, privacy_office, ciso, executive, contact_desk, custodian, auditor, group_hq, admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Something a user may do. Every use case names the permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Manage users, roles and the department tree of the company.
    ManageUsers,
    /// Read and search the audit log in the web application.
    ReadAuditLog,
    /// Export the audit log as evidence.
    ExportAuditLog,
    /// See the own account and change the own password and second factor.
    ManageOwnAccount,
    /// File a first report (第一報) of an incident: every employee.
    FileIncident,
    /// See every incident of the company (not only those on the own reporting line).
    ViewAllIncidents,
    /// Triage incidents: facts, second report, obligations, the PPC report, phases and tasks.
    ManageIncidents,
    /// Decide on publication and approve recurrence-prevention reports.
    DecideIncidents,
    /// Configure the call tree and webhooks of incident alerts.
    ConfigureAlerts,
    /// Read the ledger of personal data (個人情報管理台帳) of the whole company.
    ViewLedger,
    /// Keep every ledger entry (department heads keep their own departments' entries).
    ManageLedger,
    /// Declare vault schemas and retention rules, import records, roll imports back.
    ManageVault,
    /// Standing access to vault records; issue and revoke time-limited grants (custodians).
    VaultCustody,
    /// Erase a person's records on request (crypto-shredding).
    EraseSubjects,
    /// Log and handle inquiries at the contact desk (問い合わせ窓口): calls, mails, the
    /// public form; escalate what the desk cannot answer.
    HandleInquiries,
    /// See the results of discovery scans (locations, files, kinds and counts); department
    /// heads only for their departments' locations.
    ViewDiscovery,
    /// Configure the locations scanned for personal data and start scans.
    ManageDiscovery,
    /// See masked samples of what a discovery scan found (vault-like rights).
    SeeDiscoverySamples,
    /// Upload the signed scan report of the own PC and keep the own scan keys (self-check).
    SubmitScanReport,
    /// Take part in the compliance programme (issue 17): answer the own self-inspections,
    /// take the assigned courses, accept pledges, request take-outs — the own tasks only.
    TakePart,
    /// See the compliance programme's figures and records: the whole company for the privacy
    /// office, the CISO, executives and auditors; department heads only their departments.
    ViewProgramme,
    /// Run the compliance programme: question sets and schedules, courses, pledges, the device
    /// register, contractors, the audit plan, follow-ups.
    RunProgramme,
    /// Approve or refuse take-outs of personal data (department heads for their departments).
    ApproveTakeouts,
    /// Conduct internal audits: findings and corrective actions (independence is checked in
    /// the use case: never the own department, never the privacy manager).
    ConductAudits,
}

/// The set of roles a user holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(mut roles: Vec<Role>) -> Self {
        roles.sort();
        roles.dedup();
        Roles(roles)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn requires_totp(&self) -> bool {
        self.0.iter().any(|r| r.requires_totp())
    }

    /// Default deny: only the roles listed for a permission grant it.
    pub fn allows(&self, permission: Permission) -> bool {
        let granting: &[Role] = match permission {
            Permission::ManageUsers => &[Role::Admin],
            Permission::ReadAuditLog | Permission::ExportAuditLog | Permission::ConductAudits => {
                &[Role::Auditor]
            }
            Permission::ManageOwnAccount
            | Permission::FileIncident
            | Permission::SubmitScanReport
            | Permission::TakePart => &Role::ALL,
            Permission::ViewAllIncidents => &[
                Role::PrivacyOffice,
                Role::Ciso,
                Role::Executive,
                Role::Auditor,
            ],
            Permission::ManageIncidents
            | Permission::ManageDiscovery
            | Permission::RunProgramme => &[Role::PrivacyOffice, Role::Ciso],
            Permission::DecideIncidents => &[Role::Executive, Role::Ciso],
            Permission::ConfigureAlerts => &[Role::PrivacyOffice, Role::Admin],
            Permission::ViewLedger | Permission::ViewProgramme => &[
                Role::PrivacyOffice,
                Role::Ciso,
                Role::Executive,
                Role::Auditor,
                Role::DepartmentHead,
            ],
            Permission::ManageLedger => &[Role::PrivacyOffice, Role::Ciso, Role::DepartmentHead],
            Permission::HandleInquiries => &[Role::ContactDesk, Role::PrivacyOffice],
            Permission::ManageVault | Permission::EraseSubjects => {
                &[Role::PrivacyOffice, Role::Custodian]
            }
            Permission::VaultCustody | Permission::SeeDiscoverySamples => &[Role::Custodian],
            Permission::ApproveTakeouts => &[Role::DepartmentHead, Role::PrivacyOffice],
            Permission::ViewDiscovery => &[
                Role::PrivacyOffice,
                Role::Ciso,
                Role::Executive,
                Role::Auditor,
                Role::DepartmentHead,
                Role::Custodian,
            ],
        };
        self.0.iter().any(|r| granting.contains(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn totp_required_exactly_for_the_five_roles() {
        let required: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.requires_totp())
            .collect();
        assert_eq!(
            required,
            vec![
                Role::PrivacyOffice,
                Role::Ciso,
                Role::Custodian,
                Role::Auditor,
                Role::Admin
            ]
        );
    }

    #[test]
    fn default_deny() {
        let none = Roles::default();
        assert!(!none.allows(Permission::ManageUsers));
        assert!(!none.allows(Permission::ReadAuditLog));
        assert!(!none.allows(Permission::ManageOwnAccount));
        let staff = Roles::new(vec![Role::Staff]);
        assert!(!staff.allows(Permission::ManageUsers));
        assert!(!staff.allows(Permission::ReadAuditLog));
        assert!(staff.allows(Permission::ManageOwnAccount));
        // The administrator manages accounts but does not read the audit log: the auditor
        // watches the administrator, not the other way round.
        let admin = Roles::new(vec![Role::Admin]);
        assert!(admin.allows(Permission::ManageUsers));
        assert!(!admin.allows(Permission::ReadAuditLog));
        let auditor = Roles::new(vec![Role::Auditor]);
        assert!(auditor.allows(Permission::ReadAuditLog));
        assert!(!auditor.allows(Permission::ManageUsers));
    }
}
