//! Japanese full-text search over FAQ entries (filled in by the h-figures work).
