//! Ranking passages of text for a query by shared words (a BM25-style score), for the tools that
//! search a page or a workspace file without embeddings.

/// Longest passage [`split_passages`] makes, in characters (a longer paragraph is cut at line or
/// word ends).
pub const PASSAGE_CHARS: usize = 800;

/// The text's passages: its paragraphs (separated by blank lines), each cut to at most
/// [`PASSAGE_CHARS`] characters, blank ones left out.
pub fn split_passages(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut current = String::new();
        for word in paragraph.split_inclusive(char::is_whitespace) {
            if current.chars().count() + word.chars().count() > PASSAGE_CHARS && !current.trim().is_empty() {
                out.push(current.trim().to_string());
                current.clear();
            }
            current.push_str(word);
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_string());
        }
    }
    out
}

/// The words of `text` a query is matched on: lower case, letters and digits, two or more long.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2).map(str::to_lowercase).collect()
}

/// The indexes of the best `limit` of `passages` for `query`, best first (ties in document order).
/// A passage scores, for each distinct query word it holds, `idf × (1 + ln(count))` where
/// `idf = ln(1 + n / passages holding it)`; passages that hold no query word are left out.
pub fn rank_passages(passages: &[String], query: &str, limit: usize) -> Vec<usize> {
    let mut terms = words(query);
    terms.sort();
    terms.dedup();
    let bags: Vec<Vec<String>> = passages.iter().map(|p| words(p)).collect();
    let n = passages.len() as f64;
    let idf: Vec<f64> = terms
        .iter()
        .map(|t| {
            let df = bags.iter().filter(|b| b.contains(t)).count() as f64;
            (1.0 + n / df.max(1.0)).ln()
        })
        .collect();
    let mut scored: Vec<(usize, f64)> = bags
        .iter()
        .enumerate()
        .map(|(i, bag)| {
            let score = terms
                .iter()
                .zip(&idf)
                .map(|(t, idf)| {
                    let count = bag.iter().filter(|w| *w == t).count();
                    if count == 0 {
                        0.0
                    } else {
                        idf * (1.0 + (count as f64).ln())
                    }
                })
                .sum::<f64>();
            (i, score)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(limit).map(|(i, _)| i).collect()
}

/// The best `limit` passages for `query`, separated by `\n\n---\n\n`, or a sentence saying none
/// matched.
pub fn best_passages_text(passages: &[String], query: &str, limit: usize) -> String {
    let best = rank_passages(passages, query, limit);
    if best.is_empty() {
        return format!("No passage matches `{}`.", query.trim());
    }
    best.iter().map(|i| passages[*i].as_str()).collect::<Vec<_>>().join("\n\n---\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_holding_more_and_rarer_query_words_rank_first() {
        let passages: Vec<String> =
            ["Rust is a language.", "Tokio runs async Rust code.", "Bread needs flour.", "Async Rust and Tokio: tokio tasks."]
                .map(String::from)
                .to_vec();
        assert_eq!(rank_passages(&passages, "tokio async", 10), vec![3, 1]);
        assert_eq!(rank_passages(&passages, "tokio async", 1), vec![3]);
        assert!(rank_passages(&passages, "nothing here", 10).is_empty());
        assert_eq!(best_passages_text(&passages, "flour", 3), "Bread needs flour.");
        assert_eq!(best_passages_text(&passages, "zzz", 3), "No passage matches `zzz`.");
    }

    #[test]
    fn long_paragraphs_are_cut() {
        let text = format!("short\n\n{}\n\n\n\nend", "word ".repeat(400));
        let p = split_passages(&text);
        assert_eq!(p.first().map(String::as_str), Some("short"));
        assert_eq!(p.last().map(String::as_str), Some("end"));
        assert!(p.len() >= 4);
        assert!(p.iter().all(|x| x.chars().count() <= PASSAGE_CHARS));
    }
}
