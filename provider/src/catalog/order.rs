//! Version order: the order people expect versions in (`2 < 10`, `1.2.0 < 1.10.0`, dates as
//! dates, a semver pre-release before its release).
//!
//! Pure logic over version strings; [`super::version`] builds the catalog's one order of
//! versions on it.

use std::cmp::Ordering;

/// One piece of a version: numbers compare as numbers, words as text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u128),
    Word(String),
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            // A number sorts before a word: `1.0.1` < `1.0.a`.
            (Part::Num(_), Part::Word(_)) => Ordering::Less,
            (Part::Word(_), Part::Num(_)) => Ordering::Greater,
            (Part::Word(a), Part::Word(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_digit = None;
    let flush = |cur: &mut String, out: &mut Vec<Part>| {
        if !cur.is_empty() {
            out.push(match cur.parse::<u128>() {
                Ok(n) if cur.chars().all(|c| c.is_ascii_digit()) => Part::Num(n),
                _ => Part::Word(cur.to_ascii_lowercase()),
            });
            cur.clear();
        }
    };
    for c in s.chars() {
        if matches!(c, '.' | '-' | '_' | '+') {
            flush(&mut cur, &mut out);
            cur_digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if cur_digit.is_some_and(|was| was != d) {
            flush(&mut cur, &mut out);
        }
        cur_digit = Some(d);
        cur.push(c);
    }
    flush(&mut cur, &mut out);
    out
}

/// A version split the way people read versions.
///
/// - Numbers compare numerically: `2 < 10`, `1.2.0 < 1.10.0`.
/// - Dates written `2024-06-01` compare as dates.
/// - Semantic versions: a pre-release sorts before its release (`1.0.0-rc.1 < 1.0.0`);
///   build metadata (`+...`) only breaks ties. A `-` starts a pre-release only after a
///   dotted core and before a letter, so dates are not mistaken for pre-releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionKey {
    core: Vec<Part>,
    pre: Option<Vec<Part>>,
    build: String,
    raw: String,
}

impl VersionKey {
    pub fn new(v: &str) -> VersionKey {
        let (main, build) = match v.split_once('+') {
            Some((m, b)) => (m, b.to_string()),
            None => (v, String::new()),
        };
        let (core, pre) = match main.split_once('-') {
            Some((c, p))
                if c.contains('.') && p.starts_with(|ch: char| ch.is_ascii_alphabetic()) =>
            {
                (c, Some(parts(p)))
            }
            _ => (main, None),
        };
        VersionKey {
            core: parts(core),
            pre,
            build,
            raw: v.to_string(),
        }
    }
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(b),
            })
            .then_with(|| self.build.cmp(&other.build))
            .then_with(|| self.raw.cmp(&other.raw))
    }
}
impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two version strings in people's order.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    VersionKey::new(a).cmp(&VersionKey::new(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by(|a, b| compare_versions(a, b));
        v
    }

    #[test]
    fn numeric_versions_sort_as_numbers() {
        assert_eq!(sorted(vec!["10", "2", "1"]), ["1", "2", "10"]);
    }

    #[test]
    fn semver_sorts_by_component_and_prerelease_first() {
        assert_eq!(
            sorted(vec!["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9"]),
            ["0.9", "1.2.0-rc.1", "1.2.0", "1.10.0"]
        );
        assert_eq!(
            compare_versions("1.0.0-rc.2", "1.0.0-rc.10"),
            Ordering::Less
        );
        assert_eq!(compare_versions("1.0.0+b2", "1.0.0+b1"), Ordering::Greater);
    }

    #[test]
    fn dates_sort_as_dates() {
        assert_eq!(
            sorted(vec!["2024-10-01", "2024-06-01", "2023-12-31"]),
            ["2023-12-31", "2024-06-01", "2024-10-01"]
        );
    }

    #[test]
    fn mixed_words_and_numbers() {
        assert_eq!(sorted(vec!["v10", "v9", "v1a"]), ["v1a", "v9", "v10"]);
    }
}
