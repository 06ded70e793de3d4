//! Where a URL's scheme, authority and path end: one reading for the URL a
//! run is given (bench-client's `HttpUrl::parse`), for the URLs that `plot`
//! and `compare` read back from saved results, and for an absolute-form
//! request-target a server routes by its path, so that a run's host and
//! path are the same wherever they are read. What the authority says
//! (`host[:port]`) is for [`super::authority`] to read.

use std::borrow::Cow;

/// A URL cut into its parts, borrowed from it. Nothing is checked but where
/// each part ends; the caller decides what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Before `://`, as written; `None` when the URL has no `://`.
    pub scheme: Option<&'a str>,
    /// `host[:port]`: everything up to the first `/` or `?`.
    pub authority: &'a str,
    /// Path and query as written, without a `#fragment`: empty, or starting
    /// with `/` or `?`.
    pub target: &'a str,
}

impl<'a> UrlParts<'a> {
    /// Cuts `[scheme://]authority[/path][?query][#fragment]`.
    pub fn split(url: &'a str) -> UrlParts<'a> {
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, url),
        };
        let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let target = target.split_once('#').map_or(target, |(t, _)| t);
        UrlParts {
            scheme,
            authority,
            target,
        }
    }

    /// Path and query as a request line carries them: always starting with
    /// `/`, which is what an empty path means.
    pub fn path_and_query(&self) -> Cow<'a, str> {
        match self.target {
            "" => Cow::Borrowed("/"),
            query if query.starts_with('?') => Cow::Owned(format!("/{query}")),
            path => Cow::Borrowed(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scheme, authority and target.
    type Parts<'a> = (Option<&'a str>, &'a str, &'a str);

    fn parts(url: &str) -> Parts<'_> {
        let p = UrlParts::split(url);
        (p.scheme, p.authority, p.target)
    }

    #[test]
    fn splits_at_the_first_separator_of_each_part() {
        let cases: &[(&str, Parts)] = &[
            (
                "http://127.0.0.1:8080/delay/10?x=1",
                (Some("http"), "127.0.0.1:8080", "/delay/10?x=1"),
            ),
            ("HTTP://h:1/a/b?c=d#frag", (Some("HTTP"), "h:1", "/a/b?c=d")),
            ("http://h:2?q", (Some("http"), "h:2", "?q")),
            ("http://[::1]:9/x", (Some("http"), "[::1]:9", "/x")),
            ("https://h/a://b", (Some("https"), "h", "/a://b")),
            ("http://", (Some("http"), "", "")),
            ("127.0.0.1:1/a", (None, "127.0.0.1:1", "/a")),
            ("", (None, "", "")),
        ];
        for &(url, want) in cases {
            assert_eq!(parts(url), want, "{url}");
        }
    }

    #[test]
    fn url_path_keeps_path_and_query() {
        let path = |url| UrlParts::split(url).path_and_query();
        assert_eq!(path("http://127.0.0.1:8080/delay/10?x=1"), "/delay/10?x=1");
        assert_eq!(path("http://127.0.0.1:8080"), "/");
        assert_eq!(path("127.0.0.1:1/a"), "/a");
        assert_eq!(path("http://h:2?q"), "/?q");
        assert_eq!(path("http://h/a#frag"), "/a");
    }
}
