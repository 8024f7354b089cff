//! The pure rules of mamori.
//!
//! Everything in this crate is a function of its arguments: no I/O, no clock, no async. Time is
//! always a parameter (`now`), so every rule can be tested with a table of inputs. The web
//! application, the command line and the store all call into here; a rule is written once.

pub mod abuse;
pub mod appi;
pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod desk;
pub mod discovery;
pub mod discovery_report;
pub mod impact;
pub mod incident;
pub mod lang;
pub mod ledger;
pub mod net;
pub mod notice;
pub mod number;
pub mod org;
pub mod programme;
pub mod role;
pub mod text;
pub mod totp;
pub mod vault;
pub mod when;
