//! Every problem of a refused form, at its field and in a summary above the form.
//!
//! A handler that refuses a form answers 422 with the values as typed and a [`FormErrors`]
//! built from the use case's error ([`FormErrors::of`]): the problems of the fields the form
//! has, in the order of the form, each with the field's label; any other problem (one that
//! names no field of this form) first, without a link. The template includes
//! `form_errors.html` at the top of the form and marks each field (docs/ui.md, "A form field").

use crate::visitor::Visitor;
use mamori_app::AppError;

/// One problem: the id of the field it is about (empty when it names no field of the form),
/// the field's label and the message.
#[derive(Debug, Clone)]
pub struct FormError {
    pub field: String,
    pub id: String,
    pub label: String,
    pub message: String,
}

impl FormError {
    /// The text of the summary's link: 「本人の数: …」 (the label without its note in brackets),
    /// or the message alone when it already starts with the label.
    pub fn link_text(&self) -> String {
        // 「本人の数（概数）」 is named in its messages as 「本人の数」.
        let core = self
            .label
            .split(['（', '('])
            .next()
            .unwrap_or("")
            .trim_end();
        if core.is_empty() || self.message.starts_with(core) {
            self.message.clone()
        } else {
            format!("{core}: {}", self.message)
        }
    }
}

/// The problems of one form of a page (`form` names it, and prefixes its fields' ids:
/// `report-persons`).
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    pub form: &'static str,
    pub heading: String,
    pub items: Vec<FormError>,
}

impl FormErrors {
    /// No problem (the form as first shown).
    pub fn none(form: &'static str) -> Self {
        FormErrors {
            form,
            ..FormErrors::default()
        }
    }

    /// The problems of `e` (every one an `Invalid` carries) for a form whose fields are
    /// `fields`: (name, i18n key of its label), in the order of the form. Any other error
    /// becomes one problem with its generic message.
    pub fn of(v: &Visitor, form: &'static str, e: &AppError, fields: &[(&str, &str)]) -> Self {
        let t = v.tr();
        let labelled: Vec<(&str, String)> = fields
            .iter()
            .map(|(f, key)| (*f, t.get(key).to_owned()))
            .collect();
        FormErrors::of_labelled(v, form, e, &labelled)
    }

    /// [`FormErrors::of`] for fields whose labels are not simply a catalogue key (the nine
    /// items of a report to the PPC, say): (name, label).
    pub fn of_labelled(
        v: &Visitor,
        form: &'static str,
        e: &AppError,
        fields: &[(&str, String)],
    ) -> Self {
        let t = v.tr();
        let problems: Vec<(String, String)> = match e {
            AppError::Invalid(p) => p
                .all()
                .into_iter()
                .map(|p| {
                    (
                        p.field.unwrap_or("").to_owned(),
                        p.message(v.lang.code()).to_owned(),
                    )
                })
                .collect(),
            other => vec![(String::new(), crate::pages::problem_text(v, other))],
        };
        let mut general = Vec::new();
        let mut at_fields = Vec::new();
        for (field, message) in problems {
            match fields.iter().position(|(f, _)| *f == field) {
                Some(i) => {
                    // One message per field: the first found.
                    if at_fields
                        .iter()
                        .any(|(_, e): &(usize, FormError)| e.field == field)
                    {
                        continue;
                    }
                    at_fields.push((
                        i,
                        FormError {
                            id: format!("{form}-{field}"),
                            label: fields[i].1.clone(),
                            field,
                            message,
                        },
                    ));
                }
                None => general.push(FormError {
                    field: String::new(),
                    id: String::new(),
                    label: String::new(),
                    message,
                }),
            }
        }
        at_fields.sort_by_key(|(i, _)| *i);
        let mut items = general;
        items.extend(at_fields.into_iter().map(|(_, e)| e));
        FormErrors {
            form,
            heading: t
                .get("form.errors.heading")
                .replace("{n}", &items.len().to_string()),
            items,
        }
    }

    /// One problem about no field (shown in the summary of `form`).
    pub fn message(v: &Visitor, form: &'static str, message: String) -> Self {
        FormErrors {
            form,
            heading: v.tr().get("form.errors.heading").replace("{n}", "1"),
            items: vec![FormError {
                field: String::new(),
                id: String::new(),
                label: String::new(),
                message,
            }],
        }
    }

    /// The messages for the banner above the page when the form they are about is not one of
    /// `shown` (a button in a list, say, whose form has no summary).
    pub fn banner(&self, shown: &[&str]) -> Option<String> {
        if self.is_empty() || shown.contains(&self.form) {
            return None;
        }
        Some(
            self.items
                .iter()
                .map(FormError::link_text)
                .collect::<Vec<_>>()
                .join(" / "),
        )
    }

    /// Problems the page finds itself before asking the use case (a field left empty on the
    /// login form, say): `empty` is (field, catalogue key of the message).
    pub fn missing(
        v: &Visitor,
        form: &'static str,
        fields: &[(&str, &str)],
        empty: &[(&'static str, &str)],
    ) -> Self {
        use crate::i18n::{Lang, Tr};
        let mut ps = mamori_app::Problems::new();
        for (field, key) in empty {
            ps.push(mamori_app::Problem::new(
                Some(field),
                Tr::of(Lang::Ja).get(key),
                Tr::of(Lang::En).get(key),
            ));
        }
        match ps.done() {
            Ok(()) => FormErrors::none(form),
            Err(e) => FormErrors::of(v, form, &e, fields),
        }
    }

    /// The problems of `e`, or none when there is none.
    pub fn of_result<T>(
        v: &Visitor,
        form: &'static str,
        r: &Result<T, AppError>,
        fields: &[(&str, &str)],
    ) -> Self {
        match r {
            Err(e) => FormErrors::of(v, form, e, fields),
            Ok(_) => FormErrors::none(form),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether these are the problems of `form` (a page with several forms shows them at one).
    pub fn on(&self, form: &str) -> bool {
        !self.items.is_empty() && self.form == form
    }

    /// The problem of `field`, if any.
    pub fn at(&self, field: &str) -> Option<&FormError> {
        self.items
            .iter()
            .find(|e| !e.id.is_empty() && e.field == field)
    }

    /// The attributes of a field with a problem: ` aria-invalid="true"
    /// aria-describedby="{id}-error"`, and ` autofocus` on the first problem of the form (the
    /// browser focuses it when the page loads: no script). Empty for a field without problem.
    /// Only ASCII names made by the server, so the template writes it with `|safe`.
    pub fn attrs(&self, field: &str) -> String {
        match self.at(field) {
            None => String::new(),
            Some(e) => {
                let first = self.items.first().is_some_and(|f| f.id == e.id);
                format!(
                    " aria-invalid=\"true\" aria-describedby=\"{}-error\"{}",
                    e.id,
                    if first { " autofocus" } else { "" }
                )
            }
        }
    }

    /// Whether the summary itself takes the focus: its first problem names no field.
    pub fn focus_summary(&self) -> bool {
        self.items.first().is_some_and(|e| e.id.is_empty())
    }

    /// A status for the page: 422 with problems, else 200.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}
