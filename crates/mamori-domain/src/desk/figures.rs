//! Volume figures of the contact desk (filled in by the h-figures work).
