//! The one piece of a URL qts shows or checks: its host.

/// The host and port of `url`, without scheme, credentials, path, query or fragment: what may
/// be logged of a URL whose path or user part carries a secret (webhook tokens, API keys).
pub fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |x| x.1);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or(authority, |x| x.1)
}

/// `url` without the user information of its authority (`http://user:pw@host/x` →
/// `http://host/x`), and that user information split at its first `:` (still percent-encoded).
pub fn without_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (
                format!("{scheme}://{host}{tail}"),
                Some((user.to_string(), password.to_string())),
            )
        }
        None => (url.to_string(), None),
    }
}

/// [`host`] without its port (and without the brackets of an IPv6 address).
pub fn host_name(url: &str) -> &str {
    let h = host(url);
    if let Some(v6) = h.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    h.split(':').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_without_what_may_be_secret() {
        assert_eq!(
            host("https://user:pw@hooks.example.com/services/T0/secret?x=1"),
            "hooks.example.com"
        );
        assert_eq!(host("http://127.0.0.1:8080/x/token"), "127.0.0.1:8080");
        assert_eq!(host_name("http://127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(host_name("http://[::1]:9/x"), "::1");
    }

    #[test]
    fn user_information_is_taken_out_of_a_url() {
        assert_eq!(
            without_userinfo("https://me:p%40ss:w@mlflow.example.com:5000/x?a=b@c"),
            (
                "https://mlflow.example.com:5000/x?a=b@c".into(),
                Some(("me".into(), "p%40ss:w".into()))
            )
        );
        assert_eq!(without_userinfo("http://h:1/x").1, None);
        assert_eq!(without_userinfo("http://tok@h").0, "http://h");
    }
}
