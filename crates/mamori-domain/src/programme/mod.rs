//! The compliance programme (issue 17): the everyday side of protection that keeps incidents
//! from happening — monthly self-inspections (総点検), e-learning with a test and pledges, the
//! device register and take-outs, contractors, internal audits, and the monthly report.
//!
//! Pure rules only, as everywhere in this crate. What the parts share lives here: the JST day
//! a monthly event falls on, and the rule that moves it off a day that is not a business day.

pub mod contractors;
pub mod devices;
pub mod inspection;
pub mod internal_audit;
pub mod learning;
pub mod schedule;
pub mod takeout;
