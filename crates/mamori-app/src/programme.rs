//! What the parts of the compliance programme (issue 17) share: whose records a person may
//! see. The privacy office and the CISO run the programme for their company; executives and
//! auditors read all of it; a department head sees the own department and those below it;
//! everybody else sees only the own tasks.

use crate::{App, AppError, Ctx};
use mamori_domain::role::{Permission, Role};

/// The reach of one person in the programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeScope {
    pub company_id: i64,
    /// `None`: every department of the company; `Some(ids)`: only these (a department head's
    /// own department and those below it). Empty when the person sees only the own tasks.
    pub departments: Option<Vec<i64>>,
    /// Runs the programme (question sets, courses, registers, plans).
    pub runs: bool,
    /// The person's own id, for the own tasks.
    pub user_id: i64,
    pub department_id: i64,
}

impl ProgrammeScope {
    /// Whether a department's records are within reach.
    pub fn sees_department(&self, department_id: i64) -> bool {
        self.departments
            .as_ref()
            .is_none_or(|d| d.contains(&department_id))
    }

    /// Whether the person sees figures of more than the own tasks.
    pub fn sees_figures(&self) -> bool {
        self.departments.as_ref().is_none_or(|d| !d.is_empty())
    }
}

impl App {
    /// Today in Japan (the programme's days are JST days).
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        mamori_domain::incident::jst_date(self.clock.now_micros())
    }

    /// The reach of the person asking. Denied for anonymous callers and the command line has
    /// no company (it must name one).
    pub async fn programme_scope(&self, ctx: &Ctx) -> Result<ProgrammeScope, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::TakePart) {
            return Err(AppError::Denied);
        }
        let runs = ctx.allows(Permission::RunProgramme);
        let whole = runs
            || [Role::Executive, Role::Auditor]
                .iter()
                .any(|r| u.roles.contains(*r));
        let departments = if whole {
            None
        } else if u.roles.contains(Role::DepartmentHead) {
            Some(
                self.departments_below(u.company_id, u.department_id)
                    .await?,
            )
        } else {
            Some(Vec::new())
        };
        Ok(ProgrammeScope {
            company_id: u.company_id,
            departments,
            runs,
            user_id: u.id,
            department_id: u.department_id,
        })
    }
}
