//! Lists in messages.

/// `a, b, c`, or `none` for an empty list (error messages).
pub(crate) fn list_or_none<S: std::borrow::Borrow<str>>(items: &[S]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
