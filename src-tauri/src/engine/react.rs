//! Reading CrewAI's ReAct text form out of a reply that has no native tool calls.

/// What a text reply asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReactReply {
    /// `Final Answer: …`: the text after the marker, trimmed.
    FinalAnswer(String),
    /// `Action: <tool>` + `Action Input: <input>`: run the tool. `thought` is the reply up to (not
    /// including) any `Observation:` the model made up itself.
    Action { tool: String, input: String, thought: String },
    /// Neither: the whole reply (trimmed) is the answer.
    Plain(String),
}

/// Classifies a text reply. `Final Answer:` wins when both forms appear.
pub fn parse_reply(text: &str) -> ReactReply {
    if let Some(i) = text.find("Final Answer:") {
        return ReactReply::FinalAnswer(text[i + "Final Answer:".len()..].trim().to_string());
    }
    if let (Some(a), Some(ai)) = (text.find("Action:"), text.find("Action Input:")) {
        if a < ai {
            let tool = text[a + "Action:".len()..ai].trim().trim_matches('`').trim().to_string();
            let after = &text[ai + "Action Input:".len()..];
            let end = after.find("\nObservation").unwrap_or(after.len());
            let input = strip_code_fence(after[..end].trim()).to_string();
            let thought_end = ai + "Action Input:".len() + end;
            if !tool.is_empty() && !tool.contains('\n') {
                return ReactReply::Action { tool, input, thought: text[..thought_end].trim_end().to_string() };
            }
        }
    }
    ReactReply::Plain(text.trim().to_string())
}

/// `text` without a surrounding Markdown code fence (```` ```json … ``` ````), trimmed.
pub fn strip_code_fence(text: &str) -> &str {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("```") {
        let body = match rest.find('\n') {
            Some(nl) => &rest[nl + 1..],
            None => rest,
        };
        return body.trim_end().strip_suffix("```").unwrap_or(body).trim();
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answer_is_extracted() {
        assert_eq!(
            parse_reply("Thought: I know it\nFinal Answer:  The answer.\nMore lines\n"),
            ReactReply::FinalAnswer("The answer.\nMore lines".into())
        );
    }

    #[test]
    fn action_is_parsed_and_made_up_observation_dropped() {
        let r = parse_reply("Thought: read it\nAction: read_file\nAction Input: {\"path\": \"a.md\"}\nObservation: fake");
        assert_eq!(
            r,
            ReactReply::Action {
                tool: "read_file".into(),
                input: "{\"path\": \"a.md\"}".into(),
                thought: "Thought: read it\nAction: read_file\nAction Input: {\"path\": \"a.md\"}".into()
            }
        );
    }

    #[test]
    fn plain_text_is_the_answer() {
        assert_eq!(parse_reply("  just text "), ReactReply::Plain("just text".into()));
    }

    #[test]
    fn fences_are_stripped() {
        assert_eq!(strip_code_fence("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(strip_code_fence("{\"a\": 1}"), "{\"a\": 1}");
    }
}
