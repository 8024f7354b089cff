//! The contact desk's way in: the campaigns of the desk's company with calls waiting, on the
//! home page, so an operator reaches the call list without rights on the incident.

use crate::{App, AppError, Ctx};
use mamori_domain::role::{Permission, Role};
pub use mamori_store::campaign_desk::PhoneQueue;

impl App {
    /// The phone queues the caller works: contact desk and vault custodians of their company
    /// (the same rule as the call list); privacy office and others see theirs on the
    /// campaign pages instead. Counts only, so nothing personal is read here.
    pub async fn phone_queues(&self, ctx: &Ctx) -> Result<Vec<PhoneQueue>, AppError> {
        let Some(u) = ctx.user_ref() else {
            return Ok(Vec::new());
        };
        if !(u.roles.contains(Role::ContactDesk) || ctx.allows(Permission::VaultCustody)) {
            return Ok(Vec::new());
        }
        Ok(self.store.phone_queues(u.company_id).await?)
    }
}
