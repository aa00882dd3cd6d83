//! An error and its causes as one line, each cause once: what a Python exception carries (the
//! CLI prints the causes on lines of their own).

/// `e`'s message followed by each cause (`: cause`) that the text so far does not already
/// hold.
pub fn message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn each_cause_is_shown_once() {
        let io = std::io::Error::other("disk on fire");
        let e = Outer("a.csv", io);
        assert_eq!(super::message(&e), "cannot read a.csv: disk on fire");
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read a.csv: disk on fire")]
        struct Said(#[source] std::io::Error);
        let e = Said(std::io::Error::other("disk on fire"));
        assert_eq!(super::message(&e), "cannot read a.csv: disk on fire");
    }
}
