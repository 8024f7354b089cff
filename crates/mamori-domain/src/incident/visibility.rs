//! Who may see an incident (issue: "visibility along the reporting line").
//!
//! An incident is visible to its reporter; to the department heads of the reporter's department
//! and every department above it (and of the department where it happened, and above); and to
//! the privacy office, the CISO, the executives and the auditors of the same company. Nobody
//! else — not a department head of a sibling department, not an administrator, not anybody of
//! another company.
//!
//! The reporting line is fixed when the incident is filed (the departments are stored with the
//! incident), so a later reorganisation does not silently widen or narrow who saw it.

use crate::role::{Permission, Role, Roles};

/// The viewer.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub user_id: i64,
    pub company_id: i64,
    pub department_id: i64,
    pub roles: &'a Roles,
}

/// What visibility needs to know about an incident.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub company_id: i64,
    pub reporter_id: i64,
    /// The departments on the reporting line: the reporter's department and its ancestors, and
    /// the incident's department and its ancestors.
    pub line: &'a [i64],
}

/// Why a viewer may see an incident, or `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Reporter,
    CompanyWide,
    DepartmentHead,
}

pub fn why(v: Viewer<'_>, s: Scope<'_>) -> Option<Why> {
    if v.company_id != s.company_id {
        return None;
    }
    if v.roles.allows(Permission::ViewAllIncidents) {
        return Some(Why::CompanyWide);
    }
    if v.user_id == s.reporter_id {
        return Some(Why::Reporter);
    }
    if v.roles.contains(Role::DepartmentHead) && s.line.contains(&v.department_id) {
        return Some(Why::DepartmentHead);
    }
    None
}

pub fn can_view(v: Viewer<'_>, s: Scope<'_>) -> bool {
    why(v, s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Company 1: 本社(1) ─ 営業本部(2) ─ 営業部(3); 本社(1) ─ システム部(4). Company 2: 本社(9).
    const LINE: [i64; 3] = [3, 2, 1];

    fn viewer(roles: &Roles, user_id: i64, company_id: i64, department_id: i64) -> Viewer<'_> {
        Viewer {
            user_id,
            company_id,
            department_id,
            roles,
        }
    }

    #[test]
    fn the_matrix() {
        let scope = Scope {
            company_id: 1,
            reporter_id: 10,
            line: &LINE,
        };
        let staff = Roles::new(vec![Role::Staff]);
        let head = Roles::new(vec![Role::DepartmentHead]);
        // (roles, user, company, department) → visible
        let cases: Vec<(&str, Roles, i64, i64, i64, bool)> = vec![
            ("the reporter", staff.clone(), 10, 1, 3, true),
            (
                "a colleague in the same department",
                staff.clone(),
                11,
                1,
                3,
                false,
            ),
            (
                "head of the reporter's department",
                head.clone(),
                12,
                1,
                3,
                true,
            ),
            ("head of the department above", head.clone(), 13, 1, 2, true),
            ("head at the top", head.clone(), 14, 1, 1, true),
            (
                "head of a sibling department",
                head.clone(),
                15,
                1,
                4,
                false,
            ),
            (
                "privacy office",
                Roles::new(vec![Role::PrivacyOffice]),
                16,
                1,
                4,
                true,
            ),
            ("CISO", Roles::new(vec![Role::Ciso]), 17, 1, 4, true),
            (
                "executive",
                Roles::new(vec![Role::Executive]),
                18,
                1,
                1,
                true,
            ),
            ("auditor", Roles::new(vec![Role::Auditor]), 19, 1, 4, true),
            (
                "administrator",
                Roles::new(vec![Role::Admin]),
                20,
                1,
                4,
                false,
            ),
            (
                "contact desk",
                Roles::new(vec![Role::ContactDesk]),
                21,
                1,
                3,
                false,
            ),
            (
                "custodian",
                Roles::new(vec![Role::Custodian]),
                22,
                1,
                3,
                false,
            ),
            ("group HQ", Roles::new(vec![Role::GroupHq]), 23, 1, 1, false),
            (
                "privacy office of another company",
                Roles::new(vec![Role::PrivacyOffice]),
                30,
                2,
                9,
                false,
            ),
            (
                "head of another company's top",
                head.clone(),
                31,
                2,
                9,
                false,
            ),
            (
                "staff who is also head elsewhere",
                Roles::new(vec![Role::Staff, Role::DepartmentHead]),
                32,
                1,
                4,
                false,
            ),
        ];
        for (who, roles, user, company, dept, expected) in cases {
            assert_eq!(
                can_view(viewer(&roles, user, company, dept), scope),
                expected,
                "{who}"
            );
        }
    }
}
